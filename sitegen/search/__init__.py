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
from collections.abc import Generator, Iterable
from dataclasses import dataclass
from pathlib import Path

from sitegen.output import safe_relpath
from sitegen.parallel import fork_workers, forked_map
from sitegen.progress import NO_PROGRESS, Progress
from sitegen.search.aliases import NO_ALIASES, AliasExpander
from sitegen.search.bundle import SearchIndexError, normalise_bundle
from sitegen.search.segment import index_copy, segment_html
from sitegen.search.service import PagefindService, message
from sitegen.urls import url_of

__all__ = ["AliasExpander", "Bundle", "SearchIndex", "SearchIndexError", "index_request", "index_site", "is_searchable",
           "searchable_pages"]

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


def index_request(number: int, relpath: str, html: bytes, aliases: AliasExpander = NO_ALIASES) -> tuple[int, bytes] | None:
    """Pagefind's ``AddFile`` request for output file ``number`` of a site, with its request id
    (``number + 1``): the page's segmented copy (each entity name followed by its other
    names: ``aliases``), under its URL; None for a file Pagefind should not index. Made where
    the page is rendered (a forked worker in a big build)."""
    if not is_searchable(relpath, html):
        return None
    copy = segment_html(index_copy(html.decode("utf-8")), aliases.expand if aliases.pattern is not None else None)
    return number + 1, message(number + 1, {"type": "AddFile", "index_id": 0, "file_path": None,
                                            "url": url_of(relpath), "file_contents": copy})


def _batch_requests(shared: tuple[list[tuple[str, bytes]], AliasExpander], start: int) -> list[tuple[int, bytes] | None]:
    """The ``AddFile`` requests of pages ``start:start + _BATCH``."""
    pages, aliases = shared
    return [index_request(start + n, relpath, html, aliases)
            for n, (relpath, html) in enumerate(pages[start:start + _BATCH])]


class SearchIndex:
    """One Pagefind bundle, its pages numbered in the order they are sent: :meth:`add`
    passes each page's request (:func:`index_request`) as soon as it is made, so Pagefind
    indexes while the caller renders and writes the site; :meth:`finish` asks for the bundle
    and waits for it; :meth:`stop` ends an index that will not be finished. Pagefind is
    started with the first page (after any forked workers: it is read by a thread)."""

    def __init__(self) -> None:
        self.service: PagefindService | None = None
        self.names: dict[int, str] = {}  # request id -> the page's output path

    def add(self, relpath: str, request: tuple[int, bytes]) -> None:
        """Send the request :func:`index_request` made for the page at ``relpath``."""
        if self.service is None:
            self.service = PagefindService()
            self.service.send(message(0, {"type": "NewIndex", "config": None}))
        message_id, encoded = request
        self.names[message_id] = relpath
        try:
            self.service.send(encoded)
        except BaseException:
            self.stop()
            raise

    def finish(self, progress: Progress = NO_PROGRESS) -> Bundle:
        """Ask for the bundle and wait for it."""
        if self.service is None:
            return Bundle({}, 0)
        pages = len(self.names)
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
            self.service.send(message(_GET_FILES_ID, {"type": "GetFiles", "index_id": 0}))
            answer = self.service.wait(_GET_FILES_ID, tick)
            refused = self.service.errors()
        finally:
            self.stop()
        if refused:
            first = min(refused)
            raise SearchIndexError(f"pagefind refused {self.names.get(first, 'the index')}: {refused[first]}"
                                   + (f" (and {len(refused) - 1} more)" if len(refused) > 1 else ""))
        if answer.get("type") != "GetFiles":
            raise SearchIndexError(f"pagefind failed: {answer.get('message')}")
        listed: list[dict[str, str]] = answer.pop("files")  # type: ignore[assignment]
        del answer
        files = {}
        while listed:  # each file's base64 text is dropped as soon as it is decoded
            file = listed.pop()
            files[file["path"]] = base64.b64decode(file["content"])
        normalise_bundle(files)
        return Bundle({safe_relpath(relpath): files[relpath] for relpath in sorted(files)}, pages)

    def stop(self) -> None:
        """End Pagefind (at once if it is still working)."""
        if self.service is not None:
            self.service.close()


def index_site(pages: Iterable[tuple[str, bytes]], progress: Progress = NO_PROGRESS,
               aliases: AliasExpander = NO_ALIASES) -> Bundle:
    """The bundle of ``(relpath, html)`` pages (those that are searchable), in relpath order,
    entity names expanded by ``aliases``; the requests are made by forked workers when there
    are many."""
    pages = sorted(pages)
    index = SearchIndex()
    progress.stage("search index: pages sent to Pagefind", len(pages))
    batches = list(range(0, len(pages), _BATCH))
    workers = fork_workers(len(batches) // 4)
    requests: Generator[list[tuple[int, bytes] | None], None, None]
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
