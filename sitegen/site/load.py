"""The load stage: the site's inputs and the pages of ``content/`` as records.

:func:`read_inputs` reads the settings and the entity data; a :class:`ContentStore` finds the
pages (:func:`scan_pages`), parses each (:func:`parse_page_bytes`: front matter through
:class:`~sitegen.frontmatter.FrontMatter`, Markdown through markdown-it-py) into a
:class:`PageData`, and makes it an :class:`~sitegen.model.Article` with its entities
(:func:`make_article`). Parsed pages are cached on disk by path and bytes
(:class:`PageCache`), entity mentions by text (:class:`EntityCache`). Every problem names
the file and line."""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import shutil
import stat
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO, Any, TypeVar

from sitegen import __version__
from sitegen.config import CACHE_DIR, CONFIG_FILE, SiteConfig, load_config
from sitegen.entities import KINDS, EntityCatalog, EntityData, Extractor, load_entity_data
from sitegen.errors import ContentError, Diagnostics, SitegenError
from sitegen.files import atomic_write, atomic_writer, describe_mode, read_regular_file
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


Signature = tuple[int, int, int]
"""A file's size, modification time (ns) and inode: :func:`scan_pages` gives them."""
_RACY_NS = 2_000_000_000
"""A file changed less than this long ago is not known by its signature (it could change
again within the clock's tick, keeping size and time: git's "racy" files)."""


class PageCache:
    """Parsed pages (:class:`CachedPage`: front matter, Markdown rendered to HTML, plain
    text, warnings) by a hash of the page's path from the site's root and its bytes, kept in
    ``.sitegen-cache/`` between runs: a restart (or a build after a preview) parses only
    pages that changed. Entries of pages no longer present are dropped when the cache is
    saved."""

    def __init__(self, cache_dir: Path | None, fingerprint: str) -> None:
        self.path = cache_dir / f"pages-{fingerprint}.pickle" if cache_dir else None
        self.entries: dict[str, CachedPage] = _load_entries(self.path) if self.path else {}
        # page (its path from the root) -> its file's signature and key when it was last read
        self.known: dict[str, tuple[Signature, str]] = \
            _load_pickle(self.path.with_suffix(".known"), dict) if self.path and self.entries else {}
        self.used: set[str] = set()
        self.added = 0
        self.known_changed = False
        self.summary_chars: int | None = None

    def knows(self, name: str, signature: Signature) -> bool:
        """Whether the page ``name`` (its path from the site's root) is, by its file's
        signature, one whose parsed page is cached."""
        known = self.known.get(name)
        return known is not None and known[0] == signature and known[1] in self.entries

    def read(self, root: Path, name: str, diagnostics: Diagnostics, summary_chars: int,
             signature: Signature | None = None) -> tuple[PageData, str]:
        """The page ``name`` (its path from the site's ``root``) and its :func:`page_key`:
        from the cache when its bytes were parsed before. With the file's ``signature``
        (size, mtime, inode) the file is not even read when that is the signature it had when
        it was last read (as git trusts its index): a build in a new process reads only the
        pages that changed."""
        path = root / name
        if signature is not None and self.knows(name, signature):
            key = self.known[name][1]
        else:
            data = read_regular_file(path, MAX_PAGE_BYTES, _TOO_LARGE)
            key = page_key(name, data)
            if signature is not None and signature[1] < time.time_ns() - _RACY_NS:
                self.known[name] = (signature, key)
                self.known_changed = True
        self.used.add(key)
        hit = self.entries.get(key)
        if hit is not None:
            for message, line in hit.warnings:
                diagnostics.warn(message, path, line)
            return hit.page, key
        recorder = RecordingDiagnostics(diagnostics)
        page = parse_page_bytes(path, data, recorder, summary_chars, name=name)
        self.entries[key] = CachedPage(page, tuple(recorder.recorded))
        self.added += 1
        return page, key

    def prefetch(self, root: Path, names: list[str], summary_chars: int, batch: int = 250,
                 advance: Callable[[int], None] | None = None) -> bool:
        """Parse the pages ``names`` (paths from ``root``) not cached yet in forked workers,
        when there are many (a first build): :meth:`read` then finds them here. Only a faster
        path: a page a worker cannot read or parse is left for :meth:`read` to report.
        ``advance(n)`` is told of each batch of ``n`` pages done. False when there were too
        few to be worth it."""
        workers = fork_workers(len(names) // (4 * batch))
        if workers < 2:
            return False
        shared = (root, sorted(names), summary_chars, self.entries)  # the cache is inherited, not sent
        bounds = [(start, min(start + batch, len(names))) for start in range(0, len(names), batch)]
        for (start, stop), found in zip(bounds, forked_map(_parse_batch, shared, bounds, workers)):
            for key, entry in found:
                if key not in self.entries:
                    self.entries[key] = entry
                    self.added += 1
            if advance is not None:
                advance(stop - start)
        return True

    def save(self, prune: bool) -> None:
        """Write the cache if it grew (``prune``: keep only the entries used in this run), and
        the files' signatures if they changed (a small file of their own)."""
        if not self.path:
            return
        if self.added:
            if prune:
                self.entries = {k: v for k, v in self.entries.items() if k in self.used}
                self.known = {p: known for p, known in self.known.items() if known[1] in self.entries}
            for stale in self.path.parent.glob("pages-*"):
                if stale.stem != self.path.stem:
                    stale.unlink(missing_ok=True)
            with atomic_writer(self.path) as stream:
                items = list(self.entries.items())
                for start in range(0, len(items), _PAGES_PER_PICKLE):
                    pickle.dump(dict(items[start:start + _PAGES_PER_PICKLE]), stream, protocol=pickle.HIGHEST_PROTOCOL)
            self.added = 0
            self.known_changed = True
        if self.known_changed:
            atomic_write(self.path.with_suffix(".known"), pickle.dumps(self.known, protocol=pickle.HIGHEST_PROTOCOL))
            self.known_changed = False

    def release(self) -> None:
        """Forget the cache, saved: a store that has read every page has them in its own
        records and parses only pages that change from then on (its entries, their keys and
        the files' signatures took 97 MB at 100,000 items); it is not saved again."""
        self.save(prune=False)
        self.path = None
        self.entries, self.known, self.used = {}, {}, set()


def _load_entries(path: Path) -> dict[str, CachedPage]:
    """The page cache's entries saved at ``path``: pickles of :data:`_PAGES_PER_PICKLE`
    entries each, so that neither writing nor reading them holds the UTF-8 copy of every
    page's texts a pickle's memo keeps to its end (400 MB at 100,000 items); empty when
    missing or damaged."""
    entries: dict[str, CachedPage] = {}
    try:
        with open(path, "rb") as stream:
            while stream.peek(1):
                part = pickle.load(stream)
                if not isinstance(part, dict):
                    return {}
                entries.update(part)
    except Exception:  # noqa: BLE001
        return {}
    return entries


def _load_pickle(path: Path, kind: type) -> Any:
    """The object pickled at ``path`` when it is a ``kind``; else an empty one (a missing or
    damaged cache is only a slower start)."""
    try:
        with open(path, "rb") as stream:
            loaded = pickle.load(stream)
    except Exception:  # noqa: BLE001
        return kind()
    return loaded if isinstance(loaded, kind) else kind()


def page_key(name: str, data: bytes) -> str:
    """The page cache's key: a hash of the page's path from the site's root and its bytes
    (the same for the site moved, or checked out elsewhere)."""
    return hashlib.blake2b(os.fsencode(name) + b"\x00" + data, digest_size=20).hexdigest()


def _parse_batch(shared: tuple[Path, list[str], int, dict[str, CachedPage]],
                 bounds: tuple[int, int]) -> list[tuple[str, CachedPage]]:
    """In a forked worker: page cache entries of pages ``start:stop`` of the prefetch."""
    root, names, summary_chars, cached = shared
    found = []
    for name in names[bounds[0]:bounds[1]]:
        try:
            path = root / name
            data = read_regular_file(path, MAX_PAGE_BYTES)
            key = page_key(name, data)
            if key in cached:
                continue
            recorder = RecordingDiagnostics()
            page = parse_page_bytes(path, data, recorder, summary_chars, name=name)
        except Exception:  # noqa: BLE001 - read() parses it again and reports the problem
            continue
        found.append((key, CachedPage(page, tuple(recorder.recorded))))
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


EntityEntry = dict[str, list[list[Any]]]  # "m": [kind, surface, count]…, "r": [surface, role]…


def _entries(extractor: Extractor, texts: list[str]) -> list[EntityEntry]:
    """Cache entries (mention counts and roles) of ``texts``."""
    found: list[EntityEntry] = []
    for mentions in extractor.mentions_many(texts):
        counts = Counter((m.kind, m.surface) for m in mentions)
        roles = sorted({(m.surface, m.role) for m in mentions if m.role})
        found.append({"m": [[k, s, n] for (k, s), n in sorted(counts.items())], "r": [list(r) for r in roles]})
    return found


class EntityCache:
    """Entity mentions and roles per page text, cached on disk by content hash
    (``.sitegen-cache/entities-<fingerprint>/``): a rebuild only runs the tagger on text it
    has not seen. The entries are kept in :data:`ENTITY_CACHE_FILES` files by the first
    digits of the hash, each read when a text of it is first looked up and written again
    only when it gained one: a build after an edit reads and writes the files of the texts
    that changed, not the whole cache (9.7 MB of JSON at 24,000 items: 0.4 s to read, 0.3 s
    to write)."""

    def __init__(self, cache_dir: Path | None, fingerprint: str) -> None:
        self.folder = cache_dir / f"entities-{fingerprint}" if cache_dir else None
        self._files: dict[str, dict[str, EntityEntry]] = {}  # file name -> its entries, as read
        self._grown: set[str] = set()  # files with entries not saved yet

    @property
    def dirty(self) -> bool:
        """Whether entries were added since the cache was last saved."""
        return bool(self._grown)

    def _file_of(self, key: str) -> dict[str, EntityEntry]:
        """The entries of the file that holds ``key`` (read from disk the first time)."""
        name = key[:_KEY_DIGITS]
        entries = self._files.get(name)
        if entries is None:
            entries = {}
            if self.folder is not None:
                try:
                    found = json.loads((self.folder / f"{name}.json").read_text("utf-8"))
                    entries = found if isinstance(found, dict) else {}
                except (OSError, ValueError):
                    pass  # none yet, or damaged: those texts are tagged again
            self._files[name] = entries
        return entries

    def all_entries(self) -> dict[str, EntityEntry]:
        """Every entry, by content hash (reads every file)."""
        found: dict[str, EntityEntry] = {}
        for number in range(ENTITY_CACHE_FILES):
            found.update(self._file_of(f"{number:0{_KEY_DIGITS}x}"))
        return found

    def release(self) -> None:
        """Save the cache and forget what was read of it (it is read back when needed): the
        articles made from it hold what they need (107 MB at 24,000 items)."""
        self.save()
        if self.folder is not None:
            self._files = {}

    def fill(self, texts: list[str], make_extractor: Callable[[], Extractor], batch: int = 500,
             progress: Progress = NO_PROGRESS) -> None:
        """Extract entities of every text not cached yet, ``batch`` texts at a time (the tagger
        takes a batch at once; forked workers share big fills); the extractor is only created
        when something is missing. ``progress`` is told of each batch done."""
        missing = sorted({key: t for t in texts if (key := content_hash(t)) not in self._file_of(key)}.items())
        if not missing:
            return
        progress.stage("finding people, organisations and places", len(missing))
        extractor = make_extractor()
        parts = [missing[start : start + batch] for start in range(0, len(missing), batch)]
        workers = fork_workers(len(parts))
        if workers > 1:
            # a big first build: batches tagged in parallel by forked workers sharing the model
            batches = [[t for _, t in part] for part in parts]
            for part, entries in zip(parts, forked_map(_entries, extractor, batches, workers)):
                self._add(part, entries)
                progress.advance(len(part))
        else:
            for part in parts:
                self._add(part, _entries(extractor, [t for _, t in part]))
                progress.advance(len(part))

    def _add(self, part: list[tuple[str, str]], entries: list[EntityEntry]) -> None:
        for (key, _), entry in zip(part, entries):
            self._file_of(key)[key] = entry
            self._grown.add(key[:_KEY_DIGITS])

    def get(self, text: str) -> tuple[list[tuple[str, str, int]], list[tuple[str, str]]]:
        """``([(kind, surface, count)], [(person surface, role)])`` of a filled text."""
        key = content_hash(text)
        entry = self._file_of(key)[key]
        return [(k, s, int(n)) for k, s, n in entry["m"]], [(a, b) for a, b in entry["r"]]

    def save(self) -> None:
        """Write the files that gained entries (and remove the caches of other entity data)."""
        if self.folder is None or not self._grown:
            return
        for stale in self.folder.parent.glob("entities-*"):
            if stale != self.folder:
                if stale.is_dir():
                    shutil.rmtree(stale, ignore_errors=True)
                else:
                    stale.unlink(missing_ok=True)
        for name in sorted(self._grown):
            atomic_write(self.folder / f"{name}.json",
                         json.dumps(self._files[name], ensure_ascii=False, sort_keys=True).encode("utf-8"))
        self._grown.clear()


_KEY_DIGITS = 2
ENTITY_CACHE_FILES = 16 ** _KEY_DIGITS
"""The entity cache's files (by the first two hex digits of a text's hash: at 24,000 items
each holds ~150 texts, 38 KB)."""


@dataclass(frozen=True, slots=True)
class PageData:
    """A validated page before entities are attached."""

    path: str  # the file read, from the site's root (see :attr:`Article.source_path`)
    front: FrontMatter
    summary: str  # the front matter's, or the body's lead sentences
    body_html: str  # (the Markdown is not kept: nothing reads it once rendered)
    text: str  # the body as plain text

    @property
    def entity_text(self) -> str:
        """The text entities are found in: the title and the body."""
        return self.front.title + "\n" + self.text

    def __reduce__(self) -> tuple[Callable[..., PageData], tuple[Any, ...]]:
        # Pickled with its texts as UTF-8 bytes: pickle writes a str through the UTF-8 copy
        # CPython then keeps inside the string for as long as it lives (a Chinese text's is
        # 1.5 times the text), so saving the page cache made every page's body and text in
        # memory half as big again (31 MB at 10,000 items); str.encode keeps no copy.
        return _unpickle_page, (self.path, self.front, *(text.encode("utf-8", "surrogatepass")
                                                         for text in (self.summary, self.body_html, self.text)))


def _unpickle_page(path: str, front: FrontMatter, summary: bytes, body_html: bytes, text: bytes) -> PageData:
    """A :class:`PageData` pickled by its ``__reduce__``."""
    return PageData(path, front, *(data.decode("utf-8", "surrogatepass") for data in (summary, body_html, text)))


@dataclass(frozen=True, slots=True)
class CachedPage:
    """A page cache entry: the parsed page and the warnings parsing it gave."""

    page: PageData
    warnings: tuple[tuple[str, int | None], ...]


def parse_page_bytes(path: Path, data: bytes, diagnostics: Diagnostics, summary_chars: int = 110,
                     name: str | None = None) -> PageData:
    """Validate and parse a page's bytes (front matter and Markdown) read from ``path``
    (which problems are named by); the page is known by ``name`` (its path from the site's
    root), else by ``path``."""
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
    return PageData(str(path) if name is None else name, front, summary, body_html, plain)


def make_article(page: PageData, catalog: EntityCatalog, cache: EntityCache) -> Article:
    """The article of a page, with its canonical entities and the roles of its people."""
    # names (EntityRef.of) and roles interned: each would otherwise be its own copy, read from
    # the entity cache, in every article naming it (75,341 names of 15,007 articles, 7.1 MB,
    # at 10,000 items)
    mentions: Counter[tuple[str, str]] = Counter()
    surfaces, roles = cache.get(page.entity_text)
    for kind, surface, count in surfaces:
        name = catalog.canonical(kind, surface)
        if name:
            mentions[(KINDS[kind], name)] += count
    entities = tuple(EntityRef.of(k, n, c) for (k, n), c in sorted(mentions.items(), key=lambda x: (-x[1], x[0])))
    person_roles = tuple(sorted({(sys.intern(name), sys.intern(role)) for surface, role in roles
                                 if (name := catalog.canonical("PER", surface))}))
    return _article(page, entities, person_roles)


def _article(page: PageData, entities: tuple[EntityRef, ...], roles: tuple[tuple[str, str], ...]) -> Article:
    """The article of ``page`` naming ``entities`` (its texts are the page's: one copy)."""
    front = page.front
    return Article(source_path=page.path, slug=front.slug, title=front.title, date=front.date,
                   date_uncertain=front.date_uncertain, event_date=front.event_date, source=front.source,
                   source_url=front.source_url, origin=front.origin, also=front.also, category=front.category,
                   tags=front.tags, weight=front.weight, draft=front.draft, summary=page.summary,
                   body_html=page.body_html, text=page.text, entities=entities, roles=roles)


@dataclass(frozen=True)
class SiteInputs:
    """What every page depends on: the settings, the entity data (as a catalog), and a
    fingerprint of both with the options (a change renders everything)."""

    config: SiteConfig
    catalog: EntityCatalog
    fingerprint: str


ENTITY_DATA = Path("_data") / "entities.yaml"


def inputs_fingerprint(root: Path, options: str) -> str:
    """Changes when the settings, the entity data or ``options`` change (read as bytes, so a
    broken file still has a fingerprint: reading it properly reports the problem)."""
    parts = [__version__, options]
    for path in (root / CONFIG_FILE, root / "content" / ENTITY_DATA):
        try:
            parts.append(read_regular_file(path, 16 * 1024 * 1024).decode("utf-8", "replace"))
        except (ContentError, FileNotFoundError):
            parts.append("-")
    return content_hash("\x00".join(parts))


def site_entity_data(root: Path) -> EntityData:
    """The entity data of the site at ``root``: sitegen's own, extended by the site's file."""
    return load_entity_data(root / "content" / ENTITY_DATA)


def read_inputs(root: Path, base_url: str | None, fingerprint: str) -> SiteInputs:
    """The settings and entity data of the site at ``root``."""
    config = load_config(root).with_base_url(base_url)
    return SiteInputs(config, EntityCatalog(site_entity_data(root)), fingerprint)


def entity_fingerprint(catalog: EntityCatalog) -> str:
    """Changes when the entity data or the tagger changes: the entity cache's key prefix."""
    from importlib import resources

    from sitegen.entities.extract import EXTRACTOR_VERSION

    data = resources.files("sitegen").joinpath("data")
    model = data.joinpath("ner-model.npz").read_bytes()
    clusters = data.joinpath("word-clusters.txt.gz").read_bytes()  # the model's word-cluster features
    return content_hash(catalog.data.fingerprint + content_hash(model) + content_hash(clusters) + EXTRACTOR_VERSION)[:16]


def page_fingerprint(summary_chars: int) -> str:
    """Changes when the code that parses pages changes: the page cache's key prefix."""
    from importlib import resources

    code = b"".join(resources.files("sitegen").joinpath(name).read_bytes()
                    for name in ("site/load.py", "frontmatter.py", "markdown.py", "text.py", "yamldoc.py"))
    return content_hash(code + f"{__version__}:{summary_chars}".encode())[:16]


@dataclass(frozen=True, slots=True)
class _StoredPage:
    signature: tuple[int, int, int]  # size, mtime_ns, inode
    key: str  # of its path and bytes (:func:`page_key`): the same page under a new signature
    page: PageData
    warnings: tuple[tuple[str, int | None], ...]
    article: Article | None = None


@dataclass(frozen=True)
class PickledPages:
    """Where the pickles of pages :func:`read_stored_pages` read lie in their file, and the
    pages each holds: saving the pages into that file again copies the bytes of a pickle
    whose pages are all still the objects read (none re-read since) instead of pickling
    them again (0.7-1.1 s at 24,000 items, where an edit changes one pickle)."""

    file: tuple[int, int, int, int]  # st_dev, st_ino, st_size, st_mtime_ns of the file read
    spans: list[tuple[int, int, tuple[_StoredPage, ...]]]  # each pickle's start, end, pages


@dataclass(frozen=True)
class StoredPages:
    """What a :class:`ContentStore` last read (a build keeps it for the next build's store)."""

    stored: dict[str, _StoredPage]  # path -> its page as last read
    slugs: dict[str, str]  # slug -> path of every stored page
    warnings: dict[str, tuple[tuple[str, int | None], ...]]  # pages with warnings
    read_from: PickledPages | None = None  # where the pages were read from, if from a file


_PAGES_PER_PICKLE = 500
"""Stored pages written per pickle (each with a memo of its own: a pickler keeps every object
it wrote, and the UTF-8 copy of every text it encoded, until its memo is cleared)."""


def write_stored_pages(stream: IO[bytes], pages: StoredPages, earlier: IO[bytes] | None = None) -> None:
    """Write ``pages`` to ``stream`` in pickles of :data:`_PAGES_PER_PICKLE` pages; an
    article is written as its entities and roles (its other fields are its page's).
    ``earlier``: the file ``pages`` were read from (see :class:`PickledPages`), open, when
    it is unchanged since: a pickle of the same pages is copied from it."""
    items = sorted(pages.stored.items())
    pickle.dump((len(items), pages.slugs, pages.warnings), stream, protocol=pickle.HIGHEST_PROTOCOL)

    def dump(part: list[tuple[str, _StoredPage]]) -> None:
        pickle.dump([(path, stored.signature, stored.key, stored.page, stored.warnings,
                      None if stored.article is None else (stored.article.entities, stored.article.roles))
                     for path, stored in part],
                    stream, protocol=pickle.HIGHEST_PROTOCOL)

    write_chunks(stream, items, _PAGES_PER_PICKLE, dump, earlier,
                 pages.read_from.spans if pages.read_from is not None else [], _holds)


Item = TypeVar("Item")
Held = TypeVar("Held")


def write_chunks(stream: IO[bytes], items: list[Item], per_pickle: int, dump: Callable[[list[Item]], None],
                 earlier: IO[bytes] | None, spans: Sequence[tuple[int, int, Held]],
                 holds: Callable[[Held, list[Item]], bool]) -> None:
    """Write ``items`` to ``stream`` ``per_pickle`` at a time, each part by ``dump(part)``,
    or copied from ``earlier`` (the file the items were read from, open, when it is
    unchanged since): part ``n`` is the bytes of ``spans[n]`` (its start, end and what it
    held) when ``holds(held, part)``."""
    for number, start in enumerate(range(0, len(items), per_pickle)):
        part = items[start:start + per_pickle]
        if earlier is not None and number < len(spans) and holds(spans[number][2], part):
            begin, end, _ = spans[number]
            earlier.seek(begin)
            stream.write(earlier.read(end - begin))
        else:
            dump(part)


def read_chunks(stream: IO[bytes], count: int, load: Callable[[], list[Item]]) -> Iterator[tuple[int, int, list[Item]]]:
    """The parts :func:`write_chunks` wrote of ``count`` items, each read by ``load()``,
    with where it lies in ``stream`` (its start and end: what a later write copies)."""
    read = 0
    while read < count:
        begin = stream.tell()
        part = load()
        read += len(part)
        yield begin, stream.tell(), part


def _holds(pickled: tuple[_StoredPage, ...], part: list[tuple[str, _StoredPage]]) -> bool:
    """Whether a pickle of ``pickled`` pages holds exactly ``part`` (the same objects)."""
    return len(pickled) == len(part) and all(old is new for old, (_, new) in zip(pickled, part))


def read_stored_pages(stream: IO[bytes]) -> StoredPages:
    """The pages :func:`write_stored_pages` wrote to ``stream``."""
    count, slugs, warnings = pickle.load(stream)
    stored: dict[str, _StoredPage] = {}
    spans: list[tuple[int, int, tuple[_StoredPage, ...]]] = []
    for begin, end, part in read_chunks(stream, count, lambda: pickle.load(stream)):
        pickled = []
        for path, signature, key, page, page_warnings, named in part:
            stored[path] = _StoredPage(signature, key, page, page_warnings,
                                       None if named is None else _article(page, *named))
            pickled.append(stored[path])
        spans.append((begin, end, tuple(pickled)))
    return StoredPages(stored, slugs, warnings, PickledPages(file_identity(os.fstat(stream.fileno())), spans))


def file_identity(status: os.stat_result) -> tuple[int, int, int, int]:
    """What tells a file from any other, or from itself once changed: device, inode, size
    and modification time."""
    return status.st_dev, status.st_ino, status.st_size, status.st_mtime_ns


class ContentStore:
    """The pages of ``content/`` as last read, and the caches that make reading them again
    cheap: a page is re-read only when its size, mtime or inode changed, and parsed again
    only when its bytes did (else its parsed form and entities are kept), parsed pages are
    cached on disk by path and bytes, entity mentions by text. :meth:`changes` says which
    articles changed since the last call; a page that fails to parse changes nothing until
    it is fixed. Given the pages an earlier store read (``kept``, made with the same
    inputs), the first call reports only what changed since."""

    def __init__(self, root: Path, inputs: SiteInputs, drafts: bool, kept: StoredPages | None = None) -> None:
        self.root = root.resolve()  # (pages are named by their paths from it: see scan)
        self.drafts = drafts
        self.inputs = inputs
        # with kept pages, the few pages that changed are parsed: the page cache is not read
        self.page_cache = PageCache(root / CACHE_DIR if kept is None else None,
                                    page_fingerprint(inputs.config.summary_chars))
        kept = kept or StoredPages({}, {}, {})
        self._stored = kept.stored
        self._read_from = kept.read_from
        self._slugs = kept.slugs
        self._warnings = kept.warnings
        self.entity_cache = EntityCache(root / CACHE_DIR, entity_fingerprint(inputs.catalog))
        self._extractor: Extractor | None = None

    def kept(self) -> StoredPages:
        """The pages as last read, for a store made later with the same inputs."""
        return StoredPages(self._stored, self._slugs, self._warnings, self._read_from)

    def with_inputs(self, inputs: SiteInputs) -> ContentStore:
        """This store for other settings or entity data: pages stay parsed (unless the summary
        length changed), their articles are made again with the new entity data."""
        self.entity_cache.save()
        store = ContentStore.__new__(ContentStore)
        store.root, store.drafts, store.inputs = self.root, self.drafts, inputs
        store._slugs, store._warnings = self._slugs, self._warnings
        store._read_from = None  # every page is a new object: no pickle of them to copy
        store.entity_cache = EntityCache(self.root / CACHE_DIR, entity_fingerprint(inputs.catalog))
        if inputs.config.summary_chars == self.inputs.config.summary_chars:
            store.page_cache = self.page_cache
            store._stored = {p: _StoredPage(s.signature, s.key, s.page, s.warnings) for p, s in self._stored.items()}
        else:
            self.page_cache.save(prune=False)
            store.page_cache = PageCache(self.root / CACHE_DIR, page_fingerprint(inputs.config.summary_chars))
            store._stored, store._slugs, store._warnings = {}, {}, {}
        store._extractor = None
        return store

    def __contains__(self, path: str) -> bool:
        return path in self._stored

    def _make_extractor(self) -> Extractor:
        if self._extractor is None:
            self._extractor = Extractor(self.inputs.catalog.data)
        return self._extractor

    def scan(self, diagnostics: Diagnostics, hints: set[str] | None) -> tuple[dict[str, tuple[int, int, int]], set[str]]:
        """Signatures of the pages to look at, by their paths from the site's root (a page is
        known by that path, so that a site moved, or checked out elsewhere, keeps its
        caches), and the stored pages that are gone. With ``hints`` (absolute paths the
        watcher saw change) only those are looked at. Files that are not pages (a FIFO, a
        device, a link loop) are skipped with a warning."""
        content = self.root / "content"
        cut = len(str(self.root)) + len(os.sep)
        skipped: list[tuple[str, str]] = []
        if hints is None or not self._stored:
            found = {path[cut:]: signature for path, signature in scan_pages(content, skipped)}
            gone = set(self._stored) - set(found)
        else:
            found, gone = {}, set()
            prefix = str(content) + os.sep
            for path in sorted(hints):
                if not path.startswith(prefix) or not path.endswith(".md"):
                    continue
                parts = path[len(prefix):].split(os.sep)
                if any(part.startswith((".", "_")) for part in parts[:-1]) or parts[-1].startswith("."):
                    continue
                name = path[cut:]
                try:
                    info = os.stat(path)
                except FileNotFoundError:
                    if name in self._stored:
                        gone.add(name)
                    continue
                except OSError as exc:
                    skipped.append((path, f"{exc.strerror}: skipped"))
                    continue
                if not stat.S_ISREG(info.st_mode):
                    skipped.append((path, f"not a regular file ({describe_mode(info.st_mode)}): skipped"))
                    continue
                found[name] = (info.st_size, info.st_mtime_ns, info.st_ino)
        for path, reason in skipped:
            diagnostics.warn(reason, path)
            if (name := path[cut:]) in self._stored:
                gone.add(name)
        return found, gone

    def _know_again(self, found: dict[str, Signature]) -> None:
        """Give each stored page whose file has another signature but the same bytes (a
        fresh checkout, a copy, a ``touch``: what CI starts from) that signature: its page is
        not parsed again nor its article changed."""
        for name, signature in found.items():
            stored = self._stored.get(name)
            if stored is None or stored.signature == signature or stored.signature[0] != signature[0]:
                continue
            try:
                data = read_regular_file(self.root / name, MAX_PAGE_BYTES, _TOO_LARGE)
            except (ContentError, OSError):
                continue  # reported when it is read as a changed page
            if page_key(name, data) == stored.key:
                self._stored[name] = replace(stored, signature=signature)

    def changes(self, diagnostics: Diagnostics, hints: set[str] | None,
                progress: Progress = NO_PROGRESS) -> dict[str, Article | None]:
        """The articles that changed since the last call (``None``: gone or now a draft), by
        path; unchanged files keep their parsed page. Nothing is stored unless every page is
        valid: the errors are raised together, by file and line."""
        found, gone = self.scan(diagnostics, hints)
        summary_chars = self.inputs.config.summary_chars
        errors: list[SitegenError] = []
        fresh: dict[str, _StoredPage] = {}
        self._know_again(found)
        pending = [name for name, signature in found.items()
                   if (stored := self._stored.get(name)) is None or stored.signature != signature]
        to_read = [name for name in pending if not self.page_cache.knows(name, found[name])]
        progress.stage("reading pages", len(pending))
        prefetched = self.page_cache.prefetch(self.root, to_read, summary_chars, advance=progress.advance)
        if prefetched:
            progress.advance(len(pending) - len(to_read))  # the pages the cache knows by signature
        for name, signature in found.items():
            stored = self._stored.get(name)
            if stored is not None and stored.signature == signature:
                if stored.article is None:  # entity data changed: same page, new entities
                    fresh[name] = stored
                continue
            if not prefetched:
                progress.advance()
            recorder = RecordingDiagnostics()
            try:
                page, key = self.page_cache.read(self.root, name, recorder, summary_chars, signature)
            except ContentError as exc:
                errors.append(exc)
                continue
            except FileNotFoundError:
                if name in self._stored:
                    gone.add(name)
                continue
            fresh[name] = _StoredPage(signature, key, page, tuple(recorder.recorded))
        slugs = dict(self._slugs)
        for name in gone | fresh.keys():
            stored = self._stored.get(name)
            if stored is not None and slugs.get(stored.page.front.slug) == name:
                del slugs[stored.page.front.slug]
        for name in sorted(fresh):
            slug = fresh[name].page.front.slug
            if slugs.get(slug, name) != name:
                first, second = sorted((slugs[slug], name))
                errors.append(ContentError(f"slug '{slug}' is already used by {self.root / first}", self.root / second))
                continue
            slugs[slug] = name
        if errors:
            errors.sort(key=lambda e: (e.path or "", e.line or 0))
            if len(errors) == 1:
                raise errors[0]
            raise ContentError(f"{len(errors)} content errors:\n  " + "\n  ".join(str(e) for e in errors))
        self.entity_cache.fill([stored.page.entity_text for stored in fresh.values()], self._make_extractor,
                               progress=progress)
        if len(fresh) >= 100:  # a first build or a big change: keep the work for the next run
            if self.entity_cache.dirty:
                self.entity_cache.save()
            self.page_cache.save(prune=hints is None)
            self.page_cache.release()
        changed: dict[str, Article | None] = {}
        for name in sorted(fresh):
            stored = fresh[name]
            article = make_article(stored.page, self.inputs.catalog, self.entity_cache)
            self._stored[name] = replace(stored, article=article)
            if stored.warnings:
                self._warnings[name] = stored.warnings
            else:
                self._warnings.pop(name, None)
            changed[name] = article if (self.drafts or not stored.page.front.draft) else None
        if len(fresh) >= 100:
            self.entity_cache.release()
        for name in sorted(gone):
            self._stored.pop(name, None)
            self._warnings.pop(name, None)
            changed[name] = None
        self._slugs = slugs
        for name in sorted(self._warnings):
            for message, line in self._warnings[name]:
                diagnostics.warn(message, self.root / name, line)
        return changed

    def save(self) -> None:
        """Save the caches."""
        self.entity_cache.save()
        self.page_cache.save(prune=False)
