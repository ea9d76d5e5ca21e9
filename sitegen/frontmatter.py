"""Markdown pages with YAML front matter (``---`` fenced), and the front matter's schema.

:class:`FrontMatter` is the one definition of what a page's front matter may hold: ``build``
reads pages through it and ``ingest`` writes pages through it, so ingest can never write a
page that build refuses. Errors name the file and the line of the offending key.
"""

from __future__ import annotations

import datetime as dt
import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from datetime import date, datetime
from pathlib import Path
from typing import Any

import yaml

from sitegen.errors import ContentError
from sitegen.text import CONTROL_CHARS
from sitegen.yamldoc import Dumper, Loader, YamlMapping, load_mapping

FENCE = "---"
SLUG_RE = re.compile(r"^[\w][\w\-]{0,119}$", re.UNICODE)
TITLE_MAX = 200
MAX_KEYS = 100
"""Keys a page's front matter may have (reading 20,000 took a minute)."""
_URL = re.compile(r"^https?://[^\s/]+", re.I)

Warn = Callable[[str, int | None], None]
"""``warn(message, line)``: a warning about the page being read."""


@dataclass(frozen=True)
class PageFile:
    """A page's front matter and Markdown body as found in a file."""

    front: dict[str, Any]
    body: str
    body_line: int  # 1-based line number where the body starts
    yaml: YamlMapping | None = None


def parse_page(text: str, path: Path | str) -> PageFile:
    """Split ``text`` into front matter and body; malformed YAML raises :class:`ContentError`
    naming the file and line."""
    if text.startswith("\ufeff"):
        text = text[1:]
    if not text.startswith(FENCE + "\n") and not text.startswith(FENCE + "\r\n"):
        raise ContentError("missing front matter (the page must start with a '---' line)", path, 1)
    lines = text.splitlines(keepends=True)
    end = next((i for i in range(1, len(lines)) if lines[i].rstrip("\r\n") == FENCE), None)
    if end is None:
        raise ContentError("front matter is not closed by a '---' line", path, 1)
    loaded = load_mapping("".join(lines[1:end]), path, "front matter", first_line=2, max_keys=MAX_KEYS)
    return PageFile(loaded.data, "".join(lines[end + 1 :]), end + 2, loaded)


@dataclass(frozen=True, slots=True)
class FrontMatter:
    """A page's validated front matter (see the README's content model)."""

    title: str
    date: dt.date | None  # None only with date_uncertain: the page gives no date
    slug: str
    date_uncertain: bool = False
    event_date: dt.date | None = None
    source: str | None = None
    source_url: str | None = None
    origin: str | None = None
    also: tuple[str, ...] = ()
    category: str | None = None
    tags: tuple[str, ...] = ()
    weight: int = 0
    draft: bool = False
    summary: str | None = None
    author: str | None = None
    editor: str | None = None
    supervisor: str | None = None
    original_script: str | None = None

    @classmethod
    def from_mapping(cls, front: Mapping[str, Any], path: Path | str, default_slug: str,
                     line_of: Callable[[str], int | None] = lambda key: None,
                     warn: Warn = lambda message, line: None, drop_bad_links: bool = False) -> FrontMatter:
        """Validate ``front`` (a page's front matter as loaded); a bad value raises
        :class:`ContentError` naming ``path`` and its line. Unknown keys and removed control
        characters are warnings. With ``drop_bad_links`` (ingest), a ``source_url`` build would
        refuse is dropped with a warning instead."""

        def error(key: str, message: str) -> ContentError:
            return ContentError(f"'{key}' {message}", path, line_of(key) or 1)

        def text(key: str, value: Any) -> str | None:
            if value is None or value == "":
                return None
            if isinstance(value, bool) or not isinstance(value, (str, int, float)):
                raise error(key, "must be text")
            return _without_controls(str(value), lambda: warn(f"control characters removed from '{key}'", line_of(key)))

        def text_list(key: str, value: Any) -> tuple[str, ...]:
            if value is None:
                return ()
            items = [value] if isinstance(value, str) else value
            if not isinstance(items, list) or not all(isinstance(v, (str, int, float)) and not isinstance(v, bool)
                                                      for v in items):
                raise error(key, "must be a list of strings")
            return tuple(t for v in items if (t := text(key, v)) is not None)

        def flag(key: str) -> bool:
            value = front.get(key, False)
            if value is None:
                return False
            if not isinstance(value, bool):
                raise error(key, "must be true or false")
            return value

        for key in front:
            if key not in _KNOWN_KEYS:
                warn(f"unknown front matter key '{key}'", line_of(key))
        title = text("title", front.get("title"))
        if title is None or not title.strip():
            raise error("title", "is required and must be text")
        title = " ".join(title.split())
        if len(title) > TITLE_MAX:
            raise error("title", f"is {len(title)} characters long (at most {TITLE_MAX})")
        day = _as_date(front.get("date"), "date", error)
        if day is None and not flag("date_uncertain"):
            raise error("date", "is required (YYYY-MM-DD), or date_uncertain: true when the page gives no date")
        slug = front.get("slug", default_slug)
        if not isinstance(slug, str) or not SLUG_RE.match(slug):
            raise error("slug", "may only hold letters, digits, '_' and '-' (it becomes a URL path)")
        weight = front.get("weight", 0)
        if weight is None:
            weight = 0
        if isinstance(weight, bool) or not isinstance(weight, int) or abs(weight) > 10**9:
            raise error("weight", "must be a whole number")
        source_url = text("source_url", front.get("source_url"))
        if source_url is not None and not _URL.match(source_url):
            if not drop_bad_links:
                raise error("source_url", "must be an http(s) URL")
            warn(f"'source_url' is not an http(s) URL: dropped ({source_url[:60]})", line_of("source_url"))
            source_url = None
        summary = front.get("summary")
        return cls(
            title=title, date=day, slug=slug, date_uncertain=flag("date_uncertain"),
            event_date=_as_date(front.get("event_date"), "event_date", error),
            source=_shared(text("source", front.get("source"))), source_url=source_url,
            origin=_shared(text("origin", front.get("origin"))),
            also=text_list("also", front.get("also")), category=_shared(text("category", front.get("category"))),
            tags=tuple(sys.intern(tag) for tag in text_list("tags", front.get("tags"))), weight=weight, draft=flag("draft"),
            summary=text("summary", summary) if isinstance(summary, str) else None,
            author=_shared(text("author", front.get("author"))), editor=_shared(text("editor", front.get("editor"))),
            supervisor=_shared(text("supervisor", front.get("supervisor"))),
            original_script=text("original_script", front.get("original_script")),
        )

    def to_mapping(self) -> dict[str, Any]:
        """The fields to write, in the order pages show them; empty optional fields left out
        (``source`` is always written, ``null`` when unknown)."""
        out: dict[str, Any] = {"title": self.title}
        if self.date is not None:
            out["date"] = self.date
        out["date_uncertain"] = self.date_uncertain
        if self.event_date is not None and self.event_date != self.date:
            out["event_date"] = self.event_date
        out["source"] = self.source
        for key in ("source_url", "origin"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        out["also"] = list(self.also)
        if self.category is not None:
            out["category"] = self.category
        if self.tags:
            out["tags"] = list(self.tags)
        for key in ("author", "editor", "supervisor", "original_script", "summary"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        if self.weight:
            out["weight"] = self.weight
        out["slug"] = self.slug
        out["draft"] = self.draft
        return out


_KNOWN_KEYS = frozenset(f.name for f in fields(FrontMatter))


def _shared(value: str | None) -> str | None:
    """One string for a value many pages give (a source, a category, an editor): interned,
    and so pickled once with the pages that share it (at 100,000 items those three fields
    took 32 MB as a string per page)."""
    return None if value is None else sys.intern(value)


def _without_controls(value: str, warn: Callable[[], None]) -> str:
    if CONTROL_CHARS.search(value):
        warn()
        return CONTROL_CHARS.sub("", value)
    return value


def _as_date(value: Any, key: str, error: Callable[[str, str], ContentError]) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise error(key, f"must be a date like 2025-02-21, not {value!r:.40}")


def dump_page(front: Mapping[str, Any], body: str) -> str:
    """Serialise a page: keys in the given order, Unicode kept, lists in flow style."""
    parts = [FENCE]
    for key, value in front.items():
        if value is None and key not in {"source"}:
            continue
        expected = {key: list(value) if isinstance(value, tuple) else value}
        for style in (None, '"'):  # plain style when it reads back the same, else double quotes
            dumped = yaml.dump(list(value) if isinstance(value, tuple) else value, Dumper=Dumper,
                               allow_unicode=True, default_flow_style=True, width=10**6, default_style=style)
            dumped = dumped.rstrip("\n").removesuffix("\n...").rstrip("\n")
            line = f"{key}: {dumped}"
            if "\n" not in line and yaml.load(line, Loader=Loader) == expected:  # noqa: S506 - safe loader
                break
        parts.append(line)
    parts.append(FENCE)
    return "\n".join(parts) + "\n" + body.rstrip("\n") + "\n"
