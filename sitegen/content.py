"""Discover and load the pages in ``content/``: validate front matter, render Markdown,
attach entities. Every problem names the file and line."""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sitegen.entities import KINDS, EntityCatalog, Extractor
from sitegen.errors import ContentError, Diagnostics
from sitegen.frontmatter import parse_page
from sitegen.markdown import render_markdown
from sitegen.model import Article, EntityRef
from sitegen.text import content_hash, summarise

SLUG_RE = re.compile(r"^[\w][\w\-]{0,119}$", re.UNICODE)
KNOWN_KEYS = {
    "title", "date", "date_uncertain", "event_date", "source", "source_url", "origin", "also", "category",
    "tags", "weight", "draft", "slug", "author", "editor", "original_script", "summary",
}


def discover_pages(content: Path) -> list[Path]:
    """Markdown pages under ``content`` (not ``_data`` nor hidden folders), sorted."""
    pages = []
    for dirpath, dirnames, filenames in os.walk(content):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith((".", "_")))
        for name in sorted(filenames):
            if name.endswith(".md") and not name.startswith("."):
                pages.append(Path(dirpath) / name)
    return pages


def _key_line(text: str, key: str) -> int | None:
    for number, line in enumerate(text.splitlines()[1:], start=2):
        if line.startswith(f"{key}:"):
            return number
        if line.rstrip() == "---":
            break
    return None


@dataclass(frozen=True)
class _Field:
    path: Path
    text: str

    def error(self, key: str, message: str) -> ContentError:
        return ContentError(f"'{key}' {message}", self.path, _key_line(self.text, key) or 1)


def _as_date(value: Any, key: str, where: _Field, required: bool) -> date | None:
    if value is None or value == "":
        if required:
            raise where.error(key, "is required (YYYY-MM-DD)")
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
    raise where.error(key, f"must be a date like 2025-02-21, not {value!r}")


def _as_str_list(value: Any, key: str, where: _Field) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(v, (str, int, float)) for v in value):
        return tuple(str(v) for v in value)
    raise where.error(key, "must be a list of strings")


class EntityCache:
    """Entity mentions per page text, cached on disk by content hash (``.sitegen-cache/``)."""

    def __init__(self, cache_dir: Path | None, fingerprint: str) -> None:
        self.path = cache_dir / f"entities-{fingerprint}.json" if cache_dir else None
        self.entries: dict[str, list[list[Any]]] = {}
        self.dirty = False
        if self.path and self.path.exists():
            try:
                self.entries = json.loads(self.path.read_text("utf-8"))
            except (OSError, json.JSONDecodeError):
                self.entries = {}

    def get(self, text: str, extractor: Extractor) -> list[tuple[str, str, int]]:
        key = content_hash(text)
        if key not in self.entries:
            counts = Counter(extractor.extract(text))
            self.entries[key] = [[k, s, n] for (k, s), n in sorted(counts.items())]
            self.dirty = True
        return [(k, s, int(n)) for k, s, n in self.entries[key]]

    def save(self) -> None:
        if self.path and self.dirty:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_suffix(".tmp")
            tmp.write_text(json.dumps(self.entries, ensure_ascii=False, sort_keys=True), "utf-8")
            os.replace(tmp, self.path)


def load_article(path: Path, content: Path, catalog: EntityCatalog, extractor: Extractor,
                 cache: EntityCache, diagnostics: Diagnostics, summary_chars: int = 110) -> Article:
    """Read and validate one page."""
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ContentError(f"not valid UTF-8 (byte {exc.start})", path) from None
    if "\x00" in text:
        raise ContentError("NUL byte in page", path, text[: text.index("\x00")].count("\n") + 1)
    page = parse_page(text, path)
    front = page.front
    where = _Field(path, text)
    for key in sorted(front):
        if key not in KNOWN_KEYS:
            diagnostics.warn(f"unknown front matter key '{key}'", path, _key_line(text, str(key)))
    title = front.get("title")
    if not isinstance(title, str) or not title.strip():
        raise where.error("title", "is required and must be text")
    title = " ".join(title.split())
    if len(title) > 200:
        raise where.error("title", f"is {len(title)} characters long (at most 200)")
    day = _as_date(front.get("date"), "date", where, required=True)
    assert day is not None
    slug = front.get("slug", path.stem)
    if not isinstance(slug, str) or not SLUG_RE.match(slug):
        raise where.error("slug", "may only hold letters, digits, '_' and '-' (it becomes a URL path)")
    weight = front.get("weight", 0)
    if isinstance(weight, bool) or not isinstance(weight, int):
        raise where.error("weight", "must be a whole number")
    for flag in ("draft", "date_uncertain"):
        if not isinstance(front.get(flag, False), bool):
            raise where.error(flag, "must be true or false")
    for key in ("source", "source_url", "origin", "category"):
        if front.get(key) is not None and not isinstance(front.get(key), (str, int, float)):
            raise where.error(key, "must be text")
    source_url = front.get("source_url")
    if source_url and not re.match(r"^https?://", str(source_url)):
        raise where.error("source_url", "must be an http(s) URL")
    body_html, plain = render_markdown(page.body)
    summary = front.get("summary") if isinstance(front.get("summary"), str) else summarise(plain, summary_chars)
    mentions: Counter[tuple[str, str]] = Counter()
    for kind, surface, count in cache.get(title + "\n" + plain, extractor):
        name = catalog.canonical(kind, surface)
        if name:
            mentions[(KINDS[kind], name)] += count
    entities = tuple(EntityRef(k, n, c) for (k, n), c in sorted(mentions.items(), key=lambda x: (-x[1], x[0])))
    return Article(
        source_path=path,
        slug=slug,
        title=title,
        date=day,
        date_uncertain=bool(front.get("date_uncertain", False)),
        event_date=_as_date(front.get("event_date"), "event_date", where, required=False),
        source=str(front["source"]) if front.get("source") not in (None, "") else None,
        source_url=str(source_url) if source_url else None,
        origin=str(front["origin"]) if front.get("origin") else None,
        also=_as_str_list(front.get("also"), "also", where),
        category=str(front["category"]) if front.get("category") else None,
        tags=_as_str_list(front.get("tags"), "tags", where),
        weight=weight,
        draft=bool(front.get("draft", False)),
        body_markdown=page.body,
        body_html=body_html,
        text=plain,
        summary=summary,
        entities=entities,
    )
