"""Discover and load the pages in ``content/``: validate front matter, render Markdown,
attach entities. Every problem names the file and line."""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import stat
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sitegen.entities import KINDS, EntityCatalog, Extractor
from sitegen.errors import ContentError, Diagnostics
from sitegen.files import describe_mode, read_regular_file
from sitegen.frontmatter import FrontMatter, parse_page
from sitegen.markdown import MarkupLimitError, render_markdown
from sitegen.model import Article, EntityRef
from sitegen.parallel import fork_workers, forked_map
from sitegen.progress import NO_PROGRESS, Progress
from sitegen.text import CONTROL_CHARS, content_hash, summarise

MAX_PAGE_BYTES = 5 * 1024 * 1024
_TOO_LARGE = "split it or run raw documents through `sitegen ingest`"


def scan_pages(content: Path, skipped: list[tuple[str, str]] | None = None) -> list[tuple[str, tuple[int, int, int]]]:
    """Markdown pages under ``content`` (not ``_data`` nor hidden folders) as
    (path, (size, mtime_ns, inode)), sorted by path; one ``scandir`` pass (fast enough to run
    on every live-preview rebuild). What is not a regular file (a FIFO, a device, a link
    loop or to nothing) is left out and added to ``skipped`` as (path, reason); a folder that
    cannot be read is an error."""
    found: list[tuple[str, tuple[int, int, int]]] = []
    seen: set[tuple[int, int]] = set()

    def skip(path: str, reason: str) -> None:
        if skipped is not None:
            skipped.append((path, reason))

    def walk(folder: str) -> None:
        try:
            info = os.stat(folder)
            if (info.st_dev, info.st_ino) in seen:
                skip(folder, "a link back to a folder already read (a loop): skipped")
                return
            seen.add((info.st_dev, info.st_ino))
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except (FileNotFoundError, NotADirectoryError):
            return
        except OSError as exc:
            raise ContentError(f"cannot read folder: {exc.strerror}", folder) from None
        for entry in entries:
            if entry.name.startswith("."):
                continue
            try:
                if entry.is_dir():
                    if not entry.name.startswith("_"):
                        walk(entry.path)
                elif entry.name.endswith(".md"):
                    info = entry.stat()
                    if not stat.S_ISREG(info.st_mode):
                        skip(entry.path, f"not a regular file ({describe_mode(info.st_mode)}): skipped")
                        continue
                    found.append((entry.path, (info.st_size, info.st_mtime_ns, info.st_ino)))
            except FileNotFoundError:
                if entry.is_symlink():
                    skip(entry.path, "a link to nothing: skipped")
                continue  # deleted while we looked
            except OSError as exc:
                skip(entry.path, f"{exc.strerror}: skipped")

    walk(str(content))
    return found


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
        data = read_regular_file(path, MAX_PAGE_BYTES, _TOO_LARGE)
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
            data = read_regular_file(path, MAX_PAGE_BYTES)
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
    return parse_page_bytes(path, read_regular_file(path, MAX_PAGE_BYTES, _TOO_LARGE), diagnostics, summary_chars)


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
    if (control := CONTROL_CHARS.search(text)) is not None:
        diagnostics.warn(f"control character U+{ord(control.group()):04X} removed (and any others)", path,
                         text[: control.start()].count("\n") + 1)
        text = CONTROL_CHARS.sub("", text)
    page = parse_page(text, path)
    lines = page.yaml

    def warn(message: str, line: int | None) -> None:
        diagnostics.warn(message, path, line)

    front = FrontMatter.from_mapping(page.front, path, path.stem, lines.line_of if lines else lambda key: None, warn)
    try:
        body_html, plain = render_markdown(page.body, lambda message, line: warn(message, page.body_line + line))
    except MarkupLimitError as exc:
        raise ContentError(str(exc), path, page.body_line + exc.body_line) from None
    summary = front.summary if front.summary is not None else summarise(plain, summary_chars)
    fields = dict(
        slug=front.slug,
        title=front.title,
        date=front.date,
        date_uncertain=front.date_uncertain,
        event_date=front.event_date,
        source=front.source,
        source_url=front.source_url,
        origin=front.origin,
        also=front.also,
        category=front.category,
        tags=front.tags,
        weight=front.weight,
        draft=front.draft,
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
