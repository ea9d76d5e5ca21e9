"""The site's Pagefind search index (see the README's "Search").

- :mod:`~sitegen.search.segment`: Chinese word segmentation that agrees with the browser;
- :mod:`~sitegen.search.service`: Pagefind's service protocol;
- :mod:`~sitegen.search.bundle`: Pagefind's bundle format, rewritten in place;
- :mod:`~sitegen.search.aliases`: every name of an entity finds the pages naming it;
- :mod:`~sitegen.search.shards`: where pages are cut into shards, and the shards kept
  between builds (:mod:`~sitegen.search.merge` joins them into one bundle).

A build notes what each searchable page's index entry is made of where the page is rendered,
and segments there the pages the last build did not index as they are (:func:`prepared_page`:
by worker processes while it renders on, their copies kept in :class:`SegmentedCopies`);
once every page is written, :func:`index_changed_shards` orders the pages
(:meth:`IndexedPage.order`), cuts them into shards and indexes the shards whose pages changed,
the request of a page not segmented yet (:func:`index_request`) made by forked workers on a
big site;
:func:`index_site` indexes pages read from a built folder (``serve`` re-indexes that way, in
a low-priority process: ``python -m sitegen.search SITE BUNDLE``). Either way the bundle comes
back as a :class:`Bundle` of files that the output writer puts in place.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import sys
import tempfile
from collections import Counter
from collections.abc import Callable, Generator, Iterable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from html import unescape
from pathlib import Path
from typing import IO

from sitegen.output import safe_relpath
from sitegen.parallel import fork_workers, forked_map
from sitegen.progress import NO_PROGRESS, Progress
from sitegen.search.aliases import NO_ALIASES, AliasExpander
from sitegen.search.bundle import PAGEFIND_VERSION, BundleFiles, SearchIndexError, normalise_bundle
from sitegen.search.merge import (
    ShardBundle,
    WordTable,
    merge_shards,
    merge_shards_since,
    patch_shard,
    with_words,
    without_word_chunks,
)
from sitegen.search.segment import index_copy, segment_html
from sitegen.search.service import PagefindService, message
from sitegen.search.shards import SHARDS, ShardCache, ShardCut, shard_key
from sitegen.urls import url_of

__all__ = ["SINCE_ATTRIBUTE", "AliasExpander", "Bundle", "IndexRequest", "IndexedPage", "SearchIndex", "SearchIndexError",
           "SegmentedCopies", "SegmentedPage", "ShardCache", "ShardCut", "index_changed_shards", "index_request",
           "index_site", "indexed_page", "is_searchable", "prepared_page", "searchable_pages"]

_BATCH = 200
"""Pages per task when the requests are made by forked workers."""
_RUNS_AT_ONCE = 3
"""Pagefind runs alive at once: while the next shard's pages are sent, two runs index or
build their bundles, one for each core of a small machine (a run uses about one: with two
alive, one mostly waited for the other to bundle; the 10,000-item site's pages sent from
their kept copies took 19.9 s, with three 13.6 s). Each holds its shard's pages (10 runs at
once held 285 MB, the 10,000-item site's cold build)."""

_GET_FILES_ID = 2**31 - 1
"""The request id of the request for the bundle (page requests are numbered from 1)."""


@dataclass(frozen=True)
class Bundle:
    """A search index: its files by path inside the site's ``pagefind/`` folder."""

    files: BundleFiles
    pages: int
    reused: int = 0  # pages of shards an earlier build indexed

    @property
    def summary(self) -> str:
        """One line for the console."""
        if not self.pages:
            return "no searchable pages"
        again = f" ({self.pages - self.reused} indexed again)" if self.reused else ""
        return f"search index: {self.pages} pages{again}"


def is_searchable(relpath: str, html: bytes) -> bool:
    """Whether Pagefind should index this output file (a page with a ``data-pagefind-body``)."""
    return relpath.endswith(".html") and b"data-pagefind-body" in html


@dataclass(frozen=True, slots=True)
class IndexedPage:
    """What a build keeps of a searchable page for the next build's index: a digest of what
    Pagefind is sent for it, except its sort values (its URL and the part of the page it
    reads: a shard is indexed again when one of its pages' digests changes), and its language
    and sort values (the merge orders the pages by them, so a page whose sort value alone
    changed, such as an entity's last-seen date, leaves its shard as it was); and the day the
    page first exists (:data:`SINCE_ATTRIBUTE`), by which the index numbers its pages."""

    digest: str
    language: str
    sort_values: tuple[tuple[str, str], ...]
    since: str = ""

    def order(self, relpath: str) -> tuple[str, str]:
        """Where the page at ``relpath`` comes in the index: by the day it first exists, then
        by path (see :data:`SINCE_ATTRIBUTE`)."""
        return self.since, relpath


@dataclass(frozen=True)
class IndexRequest:
    """Pagefind's ``AddFile`` request for one page, with what merging shards needs of it."""

    message_id: int
    encoded: bytes
    page: IndexedPage


def indexed_page(relpath: str, html: bytes) -> IndexedPage | None:
    """What the index needs to know of a page without indexing it (:class:`IndexedPage`);
    None for a page Pagefind does not index. Cheap: the page is not segmented."""
    if not is_searchable(relpath, html):
        return None
    return _indexed_page(relpath, index_copy(html.decode("utf-8")))


def _indexed_page(relpath: str, copy: str) -> IndexedPage:
    """The :class:`IndexedPage` of the page at ``relpath`` whose index copy is ``copy``."""
    sorts = []
    for found in _SORT.finditer(copy):
        name, colon, value = unescape(found.group(1)).partition(":")
        if not colon or "[" in name:
            raise SearchIndexError(f"/{relpath}: sitegen orders search results by sort values given in the "
                                   f'attribute (data-pagefind-sort="name:value"), not "{found.group(1)}"')
        sorts.append((sys.intern(name), value))
    language = _LANG.search(copy)
    since = _SINCE.search(copy)
    unsorted = _SORT.sub('data-pagefind-sort=""', copy)
    digest = hashlib.blake2b(f"{relpath}\x00{unsorted}".encode(), digest_size=16).hexdigest()
    # the names and values many pages share are interned: a build holds every page's until
    # it is indexed (189,464 pages at 100,000 items)
    return IndexedPage(digest, sys.intern(language.group(1).lower()) if language else "unknown",
                       tuple(sorted(dict(sorts).items())), sys.intern(unescape(since.group(1)) if since else ""))


SINCE_ATTRIBUTE = "data-sitegen-since"
"""The attribute (on any element Pagefind reads of a page) giving the day the page first
exists as ``YYYY-MM-DD``: an article's date, a weekly digest's Monday, the day an entity
got its page. The index numbers pages by it, then by path (a page without it comes first),
so that a day's new pages come after every page there was: the shards before them keep
their pages' numbers, and the next build's merge takes their words from the last merge
(:func:`~sitegen.search.merge.merge_shards_since`). In path order a new article moved every
entity page and digest after it, and a new entity every page after its name."""
_SORT = re.compile(r'data-pagefind-sort="([^"]*)"')
_SINCE = re.compile(SINCE_ATTRIBUTE + r'="([^"]*)"')
_LANG = re.compile(r'<html\b[^>]*\blang="([^"]*)"', re.I)


def index_request(number: int, relpath: str, html: bytes, aliases: AliasExpander = NO_ALIASES) -> IndexRequest | None:
    """Pagefind's ``AddFile`` request for output file ``number`` of a site, with its request id
    (``number + 1``): the page's segmented copy (each entity name followed by its other
    names: ``aliases``), under its URL; None for a file Pagefind should not index."""
    if not is_searchable(relpath, html):
        return None
    part = index_copy(html.decode("utf-8"))
    return _request(number, relpath, SegmentedPage(_indexed_page(relpath, part), segment_html(part, aliases.expand)))


def _request(number: int, relpath: str, segmented: SegmentedPage) -> IndexRequest:
    """The request :func:`index_request` makes of a page already segmented."""
    encoded = message(number + 1, {"type": "AddFile", "index_id": 0, "file_path": None, "url": url_of(relpath),
                                   "file_contents": segmented.copy})
    return IndexRequest(number + 1, encoded, segmented.page)


@dataclass(frozen=True, slots=True)
class SegmentedPage:
    """A searchable page's :class:`IndexedPage` with the copy of it Pagefind is sent
    (segmented, :func:`~sitegen.search.segment.segment_html`)."""

    page: IndexedPage
    copy: str


class SegmentedCopies:
    """The segmented copies of pages a build rendered (:class:`SegmentedPage`), kept in an
    unnamed temporary file from the render to the index stage (in memory they would take
    ~160 MB at 24,000 items); gone when closed."""

    def __init__(self) -> None:
        self._file: IO[bytes] | None = None
        self._end = 0
        self._where: dict[str, tuple[IndexedPage, int, int]] = {}  # relpath -> page, offset, size

    def __enter__(self) -> SegmentedCopies:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def open(self) -> None:
        """Make the file now: a process forked afterwards writes into the same file, and
        its :meth:`ledger` says where."""
        if self._file is None:
            self._file = tempfile.TemporaryFile()

    def ledger(self) -> tuple[dict[str, tuple[IndexedPage, int, int]], int]:
        """Where each copy is in the file, and where the file ends."""
        return self._where, self._end

    def adopt(self, ledger: tuple[dict[str, tuple[IndexedPage, int, int]], int]) -> None:
        """Take the :meth:`ledger` of a forked process that wrote into this file."""
        self._where, self._end = ledger

    def put(self, relpath: str, segmented: SegmentedPage) -> None:
        """Keep the segmented copy of the page at ``relpath``."""
        self.open()
        assert self._file is not None
        data = segmented.copy.encode("utf-8")
        written = 0
        while written < len(data):
            written += os.pwrite(self._file.fileno(), data[written:], self._end + written)
        self._where[relpath] = (segmented.page, self._end, len(data))
        self._end += len(data)

    def __contains__(self, relpath: str) -> bool:
        return relpath in self._where

    def get(self, relpath: str) -> SegmentedPage | None:
        """The segmented copy kept of the page at ``relpath``; None when there is none."""
        found = self._where.get(relpath)
        if found is None or self._file is None:
            return None
        page, offset, size = found
        return SegmentedPage(page, os.pread(self._file.fileno(), size, offset).decode("utf-8"))

    def close(self) -> None:
        """Forget every copy (the file goes)."""
        if self._file is not None:
            self._file.close()
        self._file, self._end, self._where = None, 0, {}


def prepared_page(relpath: str, html: bytes, aliases: AliasExpander,
                  indexed: Mapping[str, str]) -> IndexedPage | SegmentedPage | None:
    """What a build makes of a page where it renders it, for the index: its
    :class:`IndexedPage`, with its segmented copy (:class:`SegmentedPage`) unless
    ``indexed``, the digest of each page the last build indexed, says it was indexed as it
    is (a kept shard holds it: segmenting it again would most likely be wasted); None for a
    file Pagefind does not index. A big build makes it in worker processes while it renders
    on, so that the index stage then reads and segments only pages that were not rendered."""
    if not is_searchable(relpath, html):
        return None
    part = index_copy(html.decode("utf-8"))
    page = _indexed_page(relpath, part)
    if indexed.get(relpath) == page.digest:
        return page
    return SegmentedPage(page, segment_html(part, aliases.expand))


class SearchIndex:
    """One Pagefind bundle, its pages numbered in the order they are sent: :meth:`add`
    passes each page's request (:func:`index_request`) as soon as it is made, so Pagefind
    indexes while the caller makes the next ones; :meth:`finish` asks for the bundle and
    waits for it; :meth:`stop` ends an index that will not be finished. Pagefind is started
    with the first page (after any forked workers: it is read by a thread).

    Where ``cut`` ends a shard (:class:`~sitegen.search.shards.ShardCut`), a new Pagefind run
    takes the next pages and the full one builds its bundle in the background
    (:data:`_RUNS_AT_ONCE` runs alive), so no run holds more than a shard and the caller
    goes on meanwhile; each shard's bundle is kept in ``cache`` for the next build
    (and read back only when :meth:`finish` merges the shards' bundles into one,
    :mod:`sitegen.search.merge`: they are not held in memory meanwhile)."""

    def __init__(self, cut: ShardCut = SHARDS, cache: ShardCache | None = None) -> None:
        self.cut = cut
        self.cache = cache
        self.service: PagefindService | None = None
        self.names: dict[int, str] = {}  # request id -> the page's output path, in this shard
        self.sort_values: list[tuple[str, dict[str, str]]] = []  # language and sort values of this shard's pages
        self.digests: list[tuple[str, str]] = []  # (output path, request digest) of this shard's pages
        self.keys: list[str] = []  # of every shard so far
        self.pages = 0
        self.reused = 0  # pages of the shards taken whole
        self._finishing = ThreadPoolExecutor(max_workers=_RUNS_AT_ONCE, thread_name_prefix="pagefind-shard")
        self._shards: list[Future[ShardBundle | None]] = []  # None: in the cache under its key
        self._services: list[PagefindService] = []  # every run not yet ended

    def add(self, relpath: str, request: IndexRequest) -> None:
        """Send the request :func:`index_request` made for the page at ``relpath``."""
        if self.service is None:
            self._wait_for_runs(_RUNS_AT_ONCE - 1)
            self.service = PagefindService()
            self._services.append(self.service)
            self.service.send(message(0, {"type": "NewIndex", "config": None}))
        self.names[request.message_id] = relpath
        self.sort_values.append((request.page.language, dict(request.page.sort_values)))
        self.digests.append((relpath, request.page.digest))
        self.pages += 1
        try:
            self.service.send(request.encoded)
            if self.cut.ends_after(relpath, len(self.names)):
                key = shard_key(self.digests)
                self.keys.append(key)
                self._shards.append(self._finishing.submit(self._collect_full, self.service, self.names,
                                                           self.sort_values, self.digests, key))
                self.service, self.names, self.sort_values, self.digests = None, {}, [], []
        except BaseException:
            self.stop()
            raise

    def _wait_for_runs(self, most: int) -> None:
        """Wait until no more than ``most`` full shards are still building their bundles (a
        run holds its pages until then: pages sent faster than Pagefind indexes them would
        otherwise start a run for every shard at once). A failure is raised by :meth:`finish`."""
        pending = [future for future in self._shards if not future.done()]
        for future in pending[:max(len(pending) - most, 0)]:
            future.exception()  # waits for it

    def add_shard(self, key: str, bundle: ShardBundle, fresh: int = 0) -> None:
        """Take a whole shard indexed by an earlier build (between the pages of the shards
        before and after it); ``fresh``: how many of its pages were indexed now (a patched
        bundle)."""
        assert self.service is None, "a shard is taken between shards"
        done: Future[ShardBundle | None] = Future()
        done.set_result(bundle)
        self._shards.append(done)
        self.keys.append(key)
        self.pages += len(bundle.sort_values)
        self.reused += len(bundle.sort_values) - fresh

    def finish(self, progress: Progress = NO_PROGRESS) -> Bundle:
        """Ask for the bundle and wait for it."""
        try:
            made = [future.result() for future in self._shards]
            if self.service is not None:
                key = shard_key(self.digests)
                self.keys.append(key)
                made.append(self._collect(self.service, self.names, self.sort_values, self.digests, key, progress))
                self.service = None
        finally:
            self.stop()
        if not made:
            return Bundle(BundleFiles(), 0)
        if len(made) > 1:
            progress.stage(f"search index: merging {len(made)} shards")
        shards = self._read_back(made)
        del made
        unread = {key for key, shard in zip(self.keys, shards) if shard.words is None}
        shards = with_words(shards)  # the shards' word indexes, decoded where not kept with them
        if self.cache is not None:
            for key, shard in zip(self.keys, shards):
                if key in unread and shard.words is not None:
                    self.cache.put_words(key, shard.words)
        shards = [without_word_chunks(shard) for shard in shards]  # (read: not needed in memory)
        if self.cache is None:
            files = merge_shards(shards)
        else:
            files, merged = merge_shards_since(shards, self.keys, self.cache.merged, self.cache.words)
            self.cache.put_merged(merged)
            del merged
        del shards  # the merged bundle is all that is needed now
        normalise_bundle(files)
        return Bundle(files.checked(safe_relpath), self.pages, self.reused)

    def _read_back(self, made: list[ShardBundle | None]) -> list[ShardBundle]:
        """The bundle of each shard (``made``: as :meth:`_collect_full` gave it), those left in
        the cache read back with their word index, which the cache then keeps beside them.
        On many shards forked workers decode the word indexes (each reading its shard
        itself: this process never holds the word chunks of every shard at once, 31 MB at
        24,000 items) into the cache, read from there once every worker is gone: a forked
        worker shares the memory this process goes on writing, so tables sent back to it
        while they lived made copies (at 100,000 items the two workers held 815 MB)."""
        left = [key for key, bundle in zip(self.keys, made) if bundle is None]
        if not left:
            return [bundle for bundle in made if bundle is not None]
        cache = self.cache
        assert cache is not None
        workers = fork_workers(len(left) // 2)
        if workers > 1:
            for _ in forked_map(_keep_words, cache, left, workers):
                pass
        shards = []
        for key, bundle in zip(self.keys, made):
            if bundle is None:
                if workers > 1:
                    bundle = cache.get(key)
                else:
                    words = _kept_words(cache, key)
                    cache.put_words(key, words)
                    bundle = cache.get(key, words)
                if bundle is None or bundle.words is None:
                    raise _unreadable(cache)
            shards.append(bundle)
        return shards

    def shard_of_pages(self) -> ShardBundle:
        """The bundle of the pages sent (one Pagefind run, not merged nor kept: the pages that
        changed in kept shards, :func:`~sitegen.search.merge.patch_shard`)."""
        assert not self._shards and self.service is not None, "one run, with pages"
        try:
            return self._collect(self.service, self.names, self.sort_values, self.digests, None, NO_PROGRESS)
        finally:
            self.stop()

    def _collect_full(self, service: PagefindService, names: dict[int, str],
                      sort_values: list[tuple[str, dict[str, str]]], digests: list[tuple[str, str]],
                      key: str) -> ShardBundle | None:
        """:meth:`_collect` for a shard that ended before the last one (in the background):
        None when the cache keeps its bundle (:meth:`finish` reads it back to merge: it is
        not held in memory meanwhile)."""
        bundle = self._collect(service, names, sort_values, digests, key, NO_PROGRESS)
        return None if self.cache is not None else bundle

    def _collect(self, service: PagefindService, names: dict[int, str], sort_values: list[tuple[str, dict[str, str]]],
                 digests: list[tuple[str, str]], key: str | None, progress: Progress) -> ShardBundle:
        """Ask a Pagefind run for the bundle of the pages sent to it (``digests``: each one's
        path and request digest), end it, and keep the bundle under ``key`` (None: not kept)."""
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
        bundle = ShardBundle(files, sort_values, digests)
        if self.cache is not None and key is not None:
            self.cache.put(key, bundle)
        return bundle

    def stop(self) -> None:
        """End every Pagefind run (at once if it is still working)."""
        for service in self._services:
            service.close()
        self._services = []
        self._finishing.shutdown(wait=True, cancel_futures=True)


def _kept_words(cache: ShardCache, key: str) -> dict[str, WordTable]:
    """The word index of the shard ``cache`` keeps under ``key``, decoded."""
    bundle = cache.get(key)
    if bundle is None:
        raise _unreadable(cache)
    [read] = with_words([bundle])
    assert read.words is not None
    return dict(read.words)


def _keep_words(cache: ShardCache, key: str) -> None:
    """In a forked worker: keep in ``cache`` the word index of the shard it keeps under ``key``."""
    cache.put_words(key, _kept_words(cache, key))


def _unreadable(cache: ShardCache) -> SearchIndexError:
    return SearchIndexError(f"the search index of a shard could not be read back from {cache.folder}")


def index_site(pages: Iterable[tuple[str, bytes]], progress: Progress = NO_PROGRESS,
               aliases: AliasExpander = NO_ALIASES, cut: ShardCut = SHARDS) -> Bundle:
    """The bundle of ``(relpath, html)`` pages (those that are searchable), in their order
    (:meth:`IndexedPage.order`), entity names expanded by ``aliases``; the requests are made
    by forked workers when there are many."""
    html = dict(pages)
    known = {relpath: page for relpath, data in html.items() if (page := indexed_page(relpath, data)) is not None}
    relpaths = _in_index_order(known)
    index = SearchIndex(cut)
    progress.stage("search index: pages sent to Pagefind", len(relpaths))
    requests = _requests_of(relpaths, html.__getitem__, aliases)
    try:
        for relpath, request in zip(relpaths, requests):
            if request is not None:
                index.add(relpath, request)
            progress.advance()
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


def index_changed_shards(pages: Mapping[str, IndexedPage], read: Callable[[str], bytes], cache: ShardCache,
                         aliases: AliasExpander = NO_ALIASES, progress: Progress = NO_PROGRESS,
                         cut: ShardCut = SHARDS, copies: SegmentedCopies | None = None) -> tuple[Bundle, list[str]]:
    """The bundle of a site's searchable pages (``pages``: what is known of each by its
    output path), in their order (:meth:`IndexedPage.order`), and every shard's key. Each
    shard is the bundle ``cache`` keeps for it (with its pages' sort values as they are now);
    or, when most of its pages are in a kept bundle as they were, that bundle patched with
    the pages that changed or are new, indexed together in one Pagefind run
    (:func:`~sitegen.search.merge.patch_shard`); or indexed again, each page's segmented
    copy taken from ``copies`` (pages segmented where they were rendered), or the page read
    by ``read(relpath)`` and segmented."""
    known = dict(pages)
    plans = _plan_shards(_in_index_order(known), known, cache, cut)
    fresh = sorted(relpath for plan in plans for relpath in plan.fresh)
    again = [relpath for plan in plans if plan.kept is None and plan.base is None for relpath in plan.pages]
    progress.stage("search index: pages sent to Pagefind", len(fresh) + len(again))  # of the shards that changed
    fresh_pages = _NO_PAGES
    if fresh:
        fresh_index = SearchIndex(ShardCut.every(len(fresh) + 1))
        fresh_requests = _requests_of(fresh, read, aliases, copies)
        try:
            _send(fresh_index, fresh, fresh_requests, known, progress)
        finally:
            fresh_requests.close()
        fresh_pages = fresh_index.shard_of_pages()
    index = SearchIndex(cut, cache)
    requests = _requests_of(again, read, aliases, copies)  # one run of workers, forked before Pagefind starts
    try:
        for plan in plans:
            if plan.kept is not None:
                index.add_shard(plan.key, plan.kept)
            elif plan.base is not None:
                patched = patch_shard(plan.base, fresh_pages, [(r, known[r].digest) for r in plan.pages],
                                      _sort_values(plan.pages, known))
                cache.put(plan.key, patched)
                index.add_shard(plan.key, patched, fresh=len(plan.fresh))
            else:
                _send(index, plan.pages, requests, known, progress)
    except BaseException:
        index.stop()
        raise
    finally:
        requests.close()
    return index.finish(progress), index.keys


@dataclass(frozen=True)
class _ShardPlan:
    """How a shard's bundle is made: ``kept`` (the cache's, as it is), or ``base`` patched
    with its ``fresh`` pages (those ``base`` does not hold as they are now), or neither: its
    pages indexed again."""

    pages: list[str]
    key: str
    kept: ShardBundle | None = None
    base: ShardBundle | None = None
    fresh: tuple[str, ...] = ()


def _in_index_order(pages: Mapping[str, IndexedPage]) -> list[str]:
    """The output paths of ``pages`` in the order the index numbers them (:meth:`IndexedPage.order`)."""
    return sorted(pages, key=lambda relpath: pages[relpath].order(relpath))


def _plan_shards(relpaths: list[str], known: dict[str, IndexedPage], cache: ShardCache,
                 cut: ShardCut) -> list[_ShardPlan]:
    """The plan of each shard of the pages at ``relpaths`` (see :class:`_ShardPlan`). No more
    than ``cut.most`` fresh pages in all: they are indexed in one Pagefind run."""
    plans = []
    kept_pages: dict[str, tuple[str, str]] | None = None
    bases: dict[str, ShardBundle | None] = {}
    fresh_pages = 0
    for shard in cut.shards(relpaths):
        key = shard_key((relpath, known[relpath].digest) for relpath in shard)
        kept = cache.get(key)
        if kept is not None:
            plans.append(_ShardPlan(shard, key, kept=replace(kept, sort_values=_sort_values(shard, known))))
            continue
        if kept_pages is None:
            kept_pages = cache.kept_pages()
        base_key = _patch_base(shard, known, kept_pages)
        fresh = () if base_key is None else \
            tuple(r for r in shard if kept_pages.get(r) != (base_key, known[r].digest))
        if base_key is not None and fresh_pages + len(fresh) <= cut.most:
            if base_key not in bases:
                bases[base_key] = cache.get(base_key)
            if (base := bases[base_key]) is not None:
                fresh_pages += len(fresh)
                plans.append(_ShardPlan(shard, key, base=base, fresh=fresh))
                continue
        plans.append(_ShardPlan(shard, key))
    return plans


def _send(index: SearchIndex, relpaths: Sequence[str], requests: Generator[IndexRequest | None, None, None],
          known: dict[str, IndexedPage], progress: Progress) -> None:
    """Send ``index`` the next of ``requests`` for each page at ``relpaths`` (their requests,
    in that order), each checked against what the build noted of the page; stop ``index``
    on any failure."""
    try:
        for relpath in relpaths:
            request = next(requests)
            if request is None or request.page.digest != known[relpath].digest:
                raise SearchIndexError(f"/{relpath} changed while the search index was made")
            index.add(relpath, request)
            progress.advance()
    except BaseException:
        index.stop()
        raise


PATCH_SHARE = 0.5
"""A shard at least this much of whose pages a kept bundle holds as they are now is that
bundle patched, not indexed again."""

_NO_PAGES = ShardBundle({"pagefind-entry.json": b'{"version": "%s", "languages": {}}' % PAGEFIND_VERSION.encode()}, [])
"""The bundle of no pages (a shard whose pages only went: its kept bundle, some left out)."""


def _sort_values(relpaths: Sequence[str], known: dict[str, IndexedPage]) -> list[tuple[str, dict[str, str]]]:
    """The language and sort values of each page at ``relpaths``, as they are now."""
    return [(known[relpath].language, dict(known[relpath].sort_values)) for relpath in relpaths]


def _patch_base(shard: Sequence[str], known: dict[str, IndexedPage],
                kept_pages: dict[str, tuple[str, str]]) -> str | None:
    """The key of the kept bundle that holds the most of the pages of ``shard`` as they are
    now, when it holds at least :data:`PATCH_SHARE` of them; else None."""
    holding = Counter(kept_pages[relpath][0] for relpath in shard
                      if relpath in kept_pages and kept_pages[relpath][1] == known[relpath].digest)
    if not holding:
        return None
    base, count = max(holding.items(), key=lambda item: (item[1], item[0]))
    return base if count >= len(shard) * PATCH_SHARE else None


def _requests_of(relpaths: list[str], read: Callable[[str], bytes], aliases: AliasExpander,
                 copies: SegmentedCopies | None = None) -> Generator[IndexRequest | None, None, None]:
    """The requests of the pages at ``relpaths`` (numbered from 0): of the segmented copy
    ``copies`` holds of a page, else of the page read by ``read`` (by forked workers when
    there are many)."""
    copied = copies if copies is not None else SegmentedCopies()
    unread = [(number, relpath) for number, relpath in enumerate(relpaths) if relpath not in copied]
    batches = list(range(0, len(unread), _BATCH))
    workers = fork_workers(len(batches) // 4)
    made: Generator[list[IndexRequest | None], None, None]
    if workers > 1:
        made = forked_map(_read_batch_requests, (unread, aliases, read), batches, workers)
    else:
        made = (_read_batch_requests((unread, aliases, read), start) for start in batches)
    read_requests = (request for batch in made for request in batch)
    try:
        for number, relpath in enumerate(relpaths):
            segmented = copied.get(relpath)
            yield next(read_requests) if segmented is None else _request(number, relpath, segmented)
    finally:
        made.close()


def _read_batch_requests(shared: tuple[list[tuple[int, str]], AliasExpander, Callable[[str], bytes]],
                         start: int) -> list[IndexRequest | None]:
    """The ``AddFile`` requests of the pages ``start:start + _BATCH`` of the numbered pages,
    each read by ``read``."""
    numbered, aliases, read = shared
    return [index_request(number, relpath, read(relpath), aliases) for number, relpath in numbered[start:start + _BATCH]]
