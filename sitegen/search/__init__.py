"""The site's Pagefind search index (see the README's "Search").

- :mod:`~sitegen.search.segment`: Chinese word segmentation that agrees with the browser;
- :mod:`~sitegen.search.service`: Pagefind's service protocol;
- :mod:`~sitegen.search.bundle`: Pagefind's bundle format, rewritten in place;
- :mod:`~sitegen.search.aliases`: every name of an entity finds the pages naming it.

A build makes each searchable page's request where the page is rendered
(:func:`index_request`, in a worker on a big build) and passes it to a :class:`SearchIndex`
as soon as the page is written; :func:`index_site` does the same for pages read from a
built folder (``serve`` re-indexes that way, in a low-priority process: ``python -m
sitegen.search SITE BUNDLE``). Either way the bundle comes back as a :class:`Bundle` of files
that the output writer puts in place.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Generator, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from html import unescape
from pathlib import Path

from sitegen.output import safe_relpath
from sitegen.parallel import fork_workers, forked_map
from sitegen.progress import NO_PROGRESS, Progress
from sitegen.search.aliases import NO_ALIASES, AliasExpander
from sitegen.search.bundle import SearchIndexError, normalise_bundle
from sitegen.search.merge import ShardBundle, merge_shards
from sitegen.search.segment import index_copy, segment_html
from sitegen.search.service import PagefindService, message
from sitegen.urls import url_of

__all__ = ["SHARD_PAGES", "AliasExpander", "Bundle", "IndexRequest", "SearchIndex", "SearchIndexError", "index_request",
           "index_site", "is_searchable", "searchable_pages"]

_BATCH = 200
"""Pages per task when the requests are made by forked workers."""

_GET_FILES_ID = 2**31 - 1
"""The request id of the request for the bundle (page requests are numbered from 1)."""


@dataclass(frozen=True)
class Bundle:
    """A search index: its files by path inside the site's ``pagefind/`` folder."""

    files: dict[str, bytes]
    pages: int

    @property
    def summary(self) -> str:
        """One line for the console."""
        return f"search index: {self.pages} pages" if self.pages else "no searchable pages"


def is_searchable(relpath: str, html: bytes) -> bool:
    """Whether Pagefind should index this output file (a page with a ``data-pagefind-body``)."""
    return relpath.endswith(".html") and b"data-pagefind-body" in html


@dataclass(frozen=True)
class IndexRequest:
    """Pagefind's ``AddFile`` request for one page, with what merging shards needs of it."""

    message_id: int
    encoded: bytes
    language: str
    sort_values: dict[str, str]


_SORT = re.compile(r'data-pagefind-sort="([^"]*)"')
_LANG = re.compile(r'<html\b[^>]*\blang="([^"]*)"', re.I)


def index_request(number: int, relpath: str, html: bytes, aliases: AliasExpander = NO_ALIASES) -> IndexRequest | None:
    """Pagefind's ``AddFile`` request for output file ``number`` of a site, with its request id
    (``number + 1``): the page's segmented copy (each entity name followed by its other
    names: ``aliases``), under its URL; None for a file Pagefind should not index. Made where
    the page is rendered (a forked worker in a big build)."""
    if not is_searchable(relpath, html):
        return None
    copy = segment_html(index_copy(html.decode("utf-8")), aliases.expand)
    language = _LANG.search(copy)
    sorts = dict(unescape(m.group(1)).partition(":")[::2] for m in _SORT.finditer(copy))
    encoded = message(number + 1, {"type": "AddFile", "index_id": 0, "file_path": None, "url": url_of(relpath),
                                   "file_contents": copy})
    return IndexRequest(number + 1, encoded, language.group(1).lower() if language else "unknown", sorts)


def _batch_requests(shared: tuple[list[tuple[str, bytes]], AliasExpander], start: int) -> list[IndexRequest | None]:
    """The ``AddFile`` requests of pages ``start:start + _BATCH``."""
    pages, aliases = shared
    return [index_request(start + n, relpath, html, aliases)
            for n, (relpath, html) in enumerate(pages[start:start + _BATCH])]


SHARD_PAGES = 4_000
"""Pages per Pagefind run: Pagefind's memory grows with the pages it holds (2.1 GB for the
19,881 pages of the 10,000-item site in one run, 0.75 GB in shards of 4,000)."""


class SearchIndex:
    """One Pagefind bundle, its pages numbered in the order they are sent: :meth:`add`
    passes each page's request (:func:`index_request`) as soon as it is made, so Pagefind
    indexes while the caller renders and writes the site; :meth:`finish` asks for the bundle
    and waits for it; :meth:`stop` ends an index that will not be finished. Pagefind is
    started with the first page (after any forked workers: it is read by a thread).

    Every ``shard_pages`` pages, a new Pagefind run takes the next pages and the full one
    builds its bundle in the background (one at a time), so no run holds more than a shard
    and the caller goes on meanwhile; :meth:`finish` merges the shards' bundles into one
    (:mod:`sitegen.search.merge`)."""

    def __init__(self, shard_pages: int = SHARD_PAGES) -> None:
        self.shard_pages = shard_pages
        self.service: PagefindService | None = None
        self.names: dict[int, str] = {}  # request id -> the page's output path, in this shard
        self.sort_values: list[tuple[str, dict[str, str]]] = []  # of the pages of this shard
        self.pages = 0
        self._finishing = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pagefind-shard")
        self._shards: list[Future[ShardBundle]] = []
        self._services: list[PagefindService] = []  # every run not yet ended

    def add(self, relpath: str, request: IndexRequest) -> None:
        """Send the request :func:`index_request` made for the page at ``relpath``."""
        if self.service is None:
            self.service = PagefindService()
            self._services.append(self.service)
            self.service.send(message(0, {"type": "NewIndex", "config": None}))
        self.names[request.message_id] = relpath
        self.sort_values.append((request.language, request.sort_values))
        self.pages += 1
        try:
            self.service.send(request.encoded)
            if len(self.names) >= self.shard_pages:
                self._shards.append(self._finishing.submit(self._collect, self.service, self.names, self.sort_values,
                                                           NO_PROGRESS))
                self.service, self.names, self.sort_values = None, {}, []
        except BaseException:
            self.stop()
            raise

    def finish(self, progress: Progress = NO_PROGRESS) -> Bundle:
        """Ask for the bundle and wait for it."""
        try:
            shards = [future.result() for future in self._shards]
            if self.service is not None:
                shards.append(self._collect(self.service, self.names, self.sort_values, progress))
                self.service = None
        finally:
            self.stop()
        if not shards:
            return Bundle({}, 0)
        if len(shards) > 1:
            progress.stage(f"search index: merging {len(shards)} shards")
        files = merge_shards(shards)
        del shards
        normalise_bundle(files)
        return Bundle({safe_relpath(relpath): files[relpath] for relpath in sorted(files)}, self.pages)

    def _collect(self, service: PagefindService, names: dict[int, str], sort_values: list[tuple[str, dict[str, str]]],
                 progress: Progress) -> ShardBundle:
        """Ask a Pagefind run for the bundle of the pages sent to it, and end it."""
        pages = len(names)
        progress.stage("search index: pages indexed by Pagefind", pages)
        bundling = False

        def tick(answered: int) -> None:  # one answer to NewIndex, then one per page
            nonlocal bundling
            if answered <= pages:
                progress.set(max(answered - 1, 0))
            elif not bundling:
                bundling = True
                progress.stage("search index: Pagefind builds the bundle")

        try:
            service.send(message(_GET_FILES_ID, {"type": "GetFiles", "index_id": 0}))
            answer = service.wait(_GET_FILES_ID, tick)
            refused = service.errors()
        finally:
            service.close()
        if refused:
            first = min(refused)
            raise SearchIndexError(f"pagefind refused {names.get(first, 'the index')}: {refused[first]}"
                                   + (f" (and {len(refused) - 1} more)" if len(refused) > 1 else ""))
        if answer.get("type") != "GetFiles":
            raise SearchIndexError(f"pagefind failed: {answer.get('message')}")
        listed: list[dict[str, str]] = answer.pop("files")  # type: ignore[assignment]
        del answer
        files = {}
        while listed:  # each file's base64 text is dropped as soon as it is decoded
            file = listed.pop()
            files[file["path"]] = base64.b64decode(file["content"])
        return ShardBundle(files, sort_values)

    def stop(self) -> None:
        """End every Pagefind run (at once if it is still working)."""
        for service in self._services:
            service.close()
        self._services = []
        self._finishing.shutdown(wait=True, cancel_futures=True)


def index_site(pages: Iterable[tuple[str, bytes]], progress: Progress = NO_PROGRESS,
               aliases: AliasExpander = NO_ALIASES, shard_pages: int = SHARD_PAGES) -> Bundle:
    """The bundle of ``(relpath, html)`` pages (those that are searchable), in relpath order,
    entity names expanded by ``aliases``; the requests are made by forked workers when there
    are many."""
    pages = sorted(pages)
    index = SearchIndex(shard_pages)
    progress.stage("search index: pages sent to Pagefind", len(pages))
    batches = list(range(0, len(pages), _BATCH))
    workers = fork_workers(len(batches) // 4)
    requests: Generator[list[IndexRequest | None], None, None]
    if workers > 1:
        requests = forked_map(_batch_requests, (pages, aliases), batches, workers)
    else:
        requests = (_batch_requests((pages, aliases), start) for start in batches)
    try:
        for start, batch in zip(batches, requests):
            for number, request in enumerate(batch, start):
                if request is not None:
                    index.add(pages[number][0], request)
            progress.advance(len(batch))
    except BaseException:
        index.stop()
        raise
    finally:
        requests.close()
    return index.finish(progress)


def searchable_pages(site: Path) -> list[tuple[str, bytes]]:
    """``(relpath, html)`` of the pages of a built site that Pagefind should index."""
    pages = []
    for path in sorted(site.rglob("*.html")):
        relpath = path.relative_to(site).as_posix()
        if relpath.startswith("pagefind/"):
            continue
        data = path.read_bytes()
        if is_searchable(relpath, data):
            pages.append((relpath, data))
    return pages
