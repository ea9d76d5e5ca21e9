"""Discover and load the pages in ``content/``: validate front matter, render Markdown,
attach entities. Every problem names the file and line."""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sitegen.entities import KINDS, EntityCatalog, Extractor
from sitegen.errors import ContentError, Diagnostics
from sitegen.frontmatter import parse_page
from sitegen.markdown import render_markdown
from sitegen.model import Article, EntityRef
from sitegen.parallel import fork_workers, forked_map
from sitegen.progress import NO_PROGRESS, Progress
from sitegen.text import content_hash, summarise

SLUG_RE = re.compile(r"^[\w][\w\-]{0,119}$", re.UNICODE)
MAX_PAGE_BYTES = 5 * 1024 * 1024
KNOWN_KEYS = {
    "title", "date", "date_uncertain", "event_date", "source", "source_url", "origin", "also", "category",
    "tags", "weight", "draft", "slug", "author", "editor", "supervisor", "original_script", "summary",
}


def discover_pages(content: Path) -> list[Path]:
    """Markdown pages under ``content`` (not ``_data`` nor hidden folders), sorted."""
    return [Path(p) for p, _ in scan_pages(content)]


def scan_pages(content: Path) -> list[tuple[str, tuple[int, int, int]]]:
    """Markdown pages under ``content`` as (path, (size, mtime_ns, inode)), sorted by path;
    one ``scandir`` pass (fast enough to run on every live-preview rebuild)."""
    found: list[tuple[str, tuple[int, int, int]]] = []

    def walk(folder: str) -> None:
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except (FileNotFoundError, NotADirectoryError):
            return
        for entry in entries:
            if entry.name.startswith("."):
                continue
            try:
                if entry.is_dir():
                    if not entry.name.startswith("_"):
                        walk(entry.path)
                elif entry.name.endswith(".md"):
                    stat = entry.stat()
                    found.append((entry.path, (stat.st_size, stat.st_mtime_ns, stat.st_ino)))
            except FileNotFoundError:
                continue  # deleted while we looked

    walk(str(content))
    return found


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


class PageCache:
    """Parsed pages (fields, Markdown rendered to HTML, plain text, warnings) by a hash of
    the file's path and bytes, kept in ``.sitegen-cache/`` between runs: a restart (or a
    build after a preview) parses only pages that changed. Entries of pages no longer
    present are dropped when the cache is saved."""

    def __init__(self, cache_dir: Path | None, fingerprint: str) -> None:
        self.path = cache_dir / f"pages-{fingerprint}.pickle" if cache_dir else None
        self.entries: dict[str, tuple] = {}
        self.used: set[str] = set()
        self.added = 0
        self.summary_chars: int | None = None
        if self.path and self.path.exists():
            try:
                with open(self.path, "rb") as stream:
                    loaded = pickle.load(stream)
                if isinstance(loaded, dict):
                    self.entries = loaded
            except Exception:  # noqa: BLE001 - a damaged cache is only a slower start
                self.entries = {}

    def read(self, path: Path, diagnostics: Diagnostics, summary_chars: int) -> PageData:
        """The page at ``path``: from the cache when its bytes were parsed before."""
        size = path.stat().st_size
        if size > MAX_PAGE_BYTES:
            return read_page(path, diagnostics, summary_chars)  # raises the size error
        data = path.read_bytes()
        key = page_key(path, data)
        self.used.add(key)
        hit = self.entries.get(key)
        if hit is not None:
            fields, body_markdown, body_html, text, warnings = hit
            for message, line in warnings:
                diagnostics.warn(message, path, line)
            return PageData(path, dict(fields), body_markdown, body_html, text)
        recorder = RecordingDiagnostics(diagnostics)
        page = parse_page_bytes(path, data, recorder, summary_chars)
        self.entries[key] = (page.fields, page.body_markdown, page.body_html, page.text, tuple(recorder.recorded))
        self.added += 1
        return page

    def prefetch(self, paths: list[Path], summary_chars: int, batch: int = 250,
                 advance: Callable[[int], None] | None = None) -> bool:
        """Parse the pages of ``paths`` not cached yet in forked workers, when there are many
        (a first build): :meth:`read` then finds them here. Only a faster path: a page a
        worker cannot read or parse is left for :meth:`read` to report. ``advance(n)`` is
        told of each batch of ``n`` pages done. False when there were too few to be worth it."""
        workers = fork_workers(len(paths) // (4 * batch))
        if workers < 2:
            return False
        shared = (sorted(paths), summary_chars, self.entries)  # the cache is inherited, not sent
        bounds = [(start, min(start + batch, len(paths))) for start in range(0, len(paths), batch)]
        for (start, stop), found in zip(bounds, forked_map(_parse_batch, shared, bounds, workers)):
            for key, entry in found:
                if key not in self.entries:
                    self.entries[key] = entry
                    self.added += 1
            if advance is not None:
                advance(stop - start)
        return True

    def save(self, prune: bool) -> None:
        """Write the cache if it grew (``prune``: keep only the entries used in this run)."""
        if not self.path or not self.added:
            return
        if prune:
            self.entries = {k: v for k, v in self.entries.items() if k in self.used}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        for stale in self.path.parent.glob("pages-*.pickle"):
            if stale != self.path:
                stale.unlink(missing_ok=True)
        tmp = self.path.with_suffix(".tmp")
        with open(tmp, "wb") as stream:
            pickle.dump(self.entries, stream, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, self.path)
        self.added = 0


def page_key(path: Path, data: bytes) -> str:
    """The page cache's key: a hash of the file's path and bytes."""
    return hashlib.blake2b(os.fsencode(str(path)) + b"\x00" + data, digest_size=20).hexdigest()


def _parse_batch(shared: tuple[list[Path], int, dict[str, tuple]], bounds: tuple[int, int]) -> list[tuple[str, tuple]]:
    """In a forked worker: page cache entries of paths ``start:stop`` of the prefetch."""
    paths, summary_chars, cached = shared
    found = []
    for path in paths[bounds[0]:bounds[1]]:
        try:
            if path.stat().st_size > MAX_PAGE_BYTES:
                continue
            data = path.read_bytes()
            key = page_key(path, data)
            if key in cached:
                continue
            recorder = RecordingDiagnostics()
            page = parse_page_bytes(path, data, recorder, summary_chars)
        except Exception:  # noqa: BLE001 - read() parses it again and reports the problem
            continue
        found.append((key, (page.fields, page.body_markdown, page.body_html, page.text, tuple(recorder.recorded))))
    return found


class RecordingDiagnostics(Diagnostics):
    """Remembers one page's warnings (so a reused or cached page shows them again) and passes
    them on to ``target`` if there is one."""

    def __init__(self, target: Diagnostics | None = None) -> None:
        super().__init__(echo=False)
        self.target = target
        self.recorded: list[tuple[str, int | None]] = []

    def warn(self, message: str, path: Path | str | None = None, line: int | None = None) -> None:
        self.recorded.append((message, line))
        if self.target is not None:
            self.target.warn(message, path, line)


def _entries(extractor: Extractor, texts: list[str]) -> list[dict[str, list]]:
    """Cache entries (mention counts and roles) of ``texts``."""
    found = []
    for mentions in extractor.mentions_many(texts):
        counts = Counter((m.kind, m.surface) for m in mentions)
        roles = sorted({(m.surface, m.role) for m in mentions if m.role})
        found.append({"m": [[k, s, n] for (k, s), n in sorted(counts.items())], "r": [list(r) for r in roles]})
    return found


class EntityCache:
    """Entity mentions and roles per page text, cached on disk by content hash
    (``.sitegen-cache/``): a rebuild only runs the tagger on text it has not seen."""

    def __init__(self, cache_dir: Path | None, fingerprint: str) -> None:
        self.path = cache_dir / f"entities-{fingerprint}.json" if cache_dir else None
        self.entries: dict[str, dict[str, list]] = {}
        self.dirty = False
        if self.path and self.path.exists():
            try:
                self.entries = json.loads(self.path.read_text("utf-8"))
            except (OSError, json.JSONDecodeError):
                self.entries = {}

    def fill(self, texts: list[str], make_extractor: Callable[[], Extractor], batch: int = 500,
             progress: Progress = NO_PROGRESS) -> None:
        """Extract entities of every text not cached yet, ``batch`` texts at a time (the tagger
        takes a batch at once; forked workers share big fills); the extractor is only created
        when something is missing. ``progress`` is told of each batch done."""
        missing = sorted({key: t for t in texts if (key := content_hash(t)) not in self.entries}.items())
        if not missing:
            return
        progress.stage("finding people, organisations and places", len(missing))
        extractor = make_extractor()
        parts = [missing[start : start + batch] for start in range(0, len(missing), batch)]
        workers = fork_workers(len(parts))
        if workers > 1:
            # a big first build: batches tagged in parallel by forked workers sharing the model
            texts = [[t for _, t in part] for part in parts]
            for part, entries in zip(parts, forked_map(_entries, extractor, texts, workers)):
                self.entries.update((key, entry) for (key, _), entry in zip(part, entries))
                progress.advance(len(part))
        else:
            for part in parts:
                entries = _entries(extractor, [t for _, t in part])
                self.entries.update((key, entry) for (key, _), entry in zip(part, entries))
                progress.advance(len(part))
        self.dirty = True

    def get(self, text: str) -> tuple[list[tuple[str, str, int]], list[tuple[str, str]]]:
        """``([(kind, surface, count)], [(person surface, role)])`` of a filled text."""
        entry = self.entries[content_hash(text)]
        return [(k, s, int(n)) for k, s, n in entry["m"]], [(a, b) for a, b in entry["r"]]

    def save(self) -> None:
        if self.path and self.dirty:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            for stale in self.path.parent.glob("entities-*.json"):
                if stale != self.path:
                    stale.unlink(missing_ok=True)
            tmp = self.path.with_suffix(".tmp")
            tmp.write_text(json.dumps(self.entries, ensure_ascii=False, sort_keys=True), "utf-8")
            os.replace(tmp, self.path)


@dataclass(frozen=True)
class PageData:
    """A validated page before entities are attached."""

    path: Path
    fields: dict[str, Any]
    body_markdown: str
    body_html: str
    text: str

    @property
    def entity_text(self) -> str:
        return self.fields["title"] + "\n" + self.text


def read_page(path: Path, diagnostics: Diagnostics, summary_chars: int = 110) -> PageData:
    """Read and validate one page (front matter and Markdown); entities come later."""
    size = path.stat().st_size
    if size > MAX_PAGE_BYTES:
        raise ContentError(f"page is {size / 1024 / 1024:.0f} MB (at most {MAX_PAGE_BYTES // 1024 // 1024} MB): "
                           "split it or run raw documents through `sitegen ingest`", path)
    return parse_page_bytes(path, path.read_bytes(), diagnostics, summary_chars)


def parse_page_bytes(path: Path, data: bytes, diagnostics: Diagnostics, summary_chars: int = 110) -> PageData:
    """Validate and parse a page's bytes (front matter and Markdown)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ContentError(f"not valid UTF-8 (byte {exc.start}); pages must be UTF-8 — `sitegen ingest` "
                           "converts GBK/Big5 documents", path, line) from None
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
    fields = dict(
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
        summary=summary,
    )
    return PageData(path, fields, page.body, body_html, plain)


def make_article(page: PageData, catalog: EntityCatalog, cache: EntityCache) -> Article:
    """The article of a page, with its canonical entities and the roles of its people."""
    mentions: Counter[tuple[str, str]] = Counter()
    surfaces, roles = cache.get(page.entity_text)
    for kind, surface, count in surfaces:
        name = catalog.canonical(kind, surface)
        if name:
            mentions[(KINDS[kind], name)] += count
    entities = tuple(EntityRef(k, n, c) for (k, n), c in sorted(mentions.items(), key=lambda x: (-x[1], x[0])))
    person_roles = tuple(sorted({(name, role) for surface, role in roles
                                 if (name := catalog.canonical("PER", surface))}))
    return Article(source_path=page.path, body_markdown=page.body_markdown, body_html=page.body_html,
                   text=page.text, entities=entities, roles=person_roles, **page.fields)
