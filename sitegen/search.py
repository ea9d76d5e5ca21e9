"""The Pagefind full-text index, with Chinese word segmentation that agrees with the browser.

Pagefind's browser code splits a Chinese query with ``Intl.Segmenter`` (ICU) when the page's
``<html lang>`` is ``zh``. Its indexer splits text on whitespace only. So the indexer is given
a *temporary copy* of each searchable page in which every run of Chinese text is split into
ICU words separated by spaces; the published HTML is never touched. Query and index then
agree word for word. The copy holds only what Pagefind reads from our pages (the ``<html>``
tag and the ``data-pagefind-body`` element): a third of the bytes to segment, write and parse,
and the same index byte for byte.

A query is segmented *alone*, and ICU splits a few characters alone differently from the same
characters in their sentence: 强富 alone is 强|富, but 强富美高 is 强|富美|高, so Pagefind (which
matches whole words in a phrase) found nothing. Where jieba, a second segmenter, sees a word
boundary inside an ICU word, the copy writes that word with ``:`` at the boundary (富:美).
Pagefind indexes such a word whole (富美) *and* each part (富, 美) at the same position (its
compound-word rule), so 强富 matches as a phrase too. jieba's boundaries, not every character,
so that 指美 does not match 指出美国 (a part of 指出 followed by a part of 美国). The search
page removes the ``:`` from excerpts; a real ASCII colon touching Chinese text gets spaces in
the copy, so it is never mistaken for one.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator
from functools import lru_cache
from itertools import accumulate
from pathlib import Path

from sitegen.errors import SitegenError
from sitegen.output import safe_relpath
from sitegen.parallel import fork_workers, forked_map
from sitegen.progress import NO_PROGRESS, Progress
from sitegen.text import HAN

_TAG_SPLIT = re.compile(r"(<[^>]*>)")
_CJK_RUN = re.compile(f"[{HAN}0-9A-Za-z]*[{HAN}][{HAN}0-9A-Za-z]*")
_RAW_TEXT_OPEN = re.compile(r"<(script|style|template)\b", re.I)
_HAN_WORD = re.compile(f"[{HAN}]+")
_CJK_PUNCT = re.compile("[\u3000-\u303f\uff01-\uff0f\uff1a-\uff20\uff3b-\uff40\uff5b-\uff65“”‘’…—·]+")
_COLON_BY_HAN = re.compile(f"(?<=[{HAN}]):|:(?=[{HAN}])")
_PART_JOINER = ":"
_SIGNATURE = b"pagefind_dcd"
_BODY_OPEN = re.compile(r"<([A-Za-z][\w-]*)\b[^>]*\sdata-pagefind-body\b[^>]*>")
_HTML_OPEN = re.compile(r"<html\b[^>]*>", re.I)


class SearchIndexError(SitegenError):
    """Pagefind failed."""


@lru_cache(maxsize=1)
def _word_breaker():
    """One ICU word breaker per process (``setText`` resets it for each run)."""
    import icu

    return icu.BreakIterator.createWordInstance(icu.Locale("zh_CN"))


def _jieba_boundaries(run: str) -> set[int]:
    """The offsets in ``run`` where jieba ends a word."""
    import rjieba

    return set(accumulate(map(len, rjieba.cut(run))))


@lru_cache(maxsize=200_000)
def _prefix_ends(word: str) -> frozenset[int]:
    """Where the words of jieba's dictionary that begin ``word`` end (安徽省: 2, after 安徽)."""
    import rjieba

    return frozenset(len(sub) for sub in rjieba.cut_for_search(word) if len(sub) < len(word) and word.startswith(sub))


def segment_run(run: str) -> list[str]:
    """The ICU words of one run of Chinese text, each Chinese word of several characters
    with ``:`` where jieba ends a word inside it, in the sentence or in its dictionary
    (``["强", "富:美", "高"]``, ``["安徽:省"]``)."""
    breaker = _word_breaker()
    breaker.setText(run)
    boundaries = _jieba_boundaries(run)
    words = []
    start = 0
    for end in breaker:
        word = run[start:end]
        if end - start > 1 and _HAN_WORD.fullmatch(word):
            in_dictionary = _prefix_ends(word) if end - start > 2 else frozenset()
            cuts = [at - start for at in range(start + 1, end) if at in boundaries or at - start in in_dictionary]
            if cuts:
                word = _PART_JOINER.join(word[a:b] for a, b in zip([0, *cuts], [*cuts, len(word)]))
            words.append(word)
        elif word.strip():
            words.append(word)
        start = end
    return words


def segment(text: str) -> str:
    """Put spaces between the words of each Chinese run in ``text`` (see :func:`segment_run`)
    and around Chinese punctuation and an ASCII colon touching Chinese text."""
    spaced = _CJK_RUN.sub(lambda m: " ".join(segment_run(m.group(0))), _COLON_BY_HAN.sub(" : ", text))
    return _CJK_PUNCT.sub(lambda m: f" {m.group(0)} ", spaced)


def segment_html(html: str) -> str:
    """Segment the text nodes of an HTML document (not tags, attributes, scripts, styles)."""
    parts = _TAG_SPLIT.split(html)
    raw_until: str | None = None
    out = []
    for part in parts:
        if part.startswith("<"):
            if raw_until and part.lower().startswith(f"</{raw_until}"):
                raw_until = None
            elif raw_until is None and (m := _RAW_TEXT_OPEN.match(part)) and not part.endswith("/>"):
                raw_until = m.group(1).lower()
            out.append(part)
        elif raw_until is None:
            out.append(segment(part))
        else:
            out.append(part)
    return "".join(out)


def index_copy(html: str) -> str:
    """The part of a page Pagefind reads: its ``<html>`` start tag (the language) and its
    ``data-pagefind-body`` element. A page with Pagefind attributes outside that element
    (or with no single closed body element) is kept whole."""
    body = _BODY_OPEN.search(html)
    html_tag = _HTML_OPEN.search(html)
    if body is None or html_tag is None:
        return html
    depth = 0
    for tag in re.compile(rf"<(/?){body.group(1)}(?=[\s/>])[^>]*>", re.I).finditer(html, body.start()):
        depth += -1 if tag.group(1) else 1
        if depth == 0:
            element = html[body.start():tag.end()]
            if element.count("data-pagefind-") != html.count("data-pagefind-"):
                return html
            return f"<!doctype html>\n{html_tag.group(0)}<body>{element}</body></html>\n"
    return html


def pagefind_executable() -> Path:
    """The Pagefind binary shipped by the ``pagefind[bin]`` package."""
    try:
        from pagefind_bin import get_executable
    except ImportError as exc:  # pragma: no cover - dependency missing
        raise SearchIndexError("the pagefind binary is not installed (pip install 'pagefind[bin]')") from exc
    return Path(get_executable())


_BATCH = 200
"""Pages per task when the requests are made by forked workers."""

_GET_FILES_ID = 2**31 - 1
"""The request id of the request for the bundle (page requests are numbered from 1)."""


def page_url(relpath: str) -> str:
    """The URL Pagefind shows for a page at ``relpath`` (``a/index.html`` → ``/a/``)."""
    return "/" + (relpath[: -len("index.html")] if relpath.endswith("index.html") else relpath)


def _message(message_id: int, payload: dict[str, object]) -> bytes:
    """One request to ``pagefind --service``: base64 of its JSON, then a comma."""
    text = json.dumps({"message_id": message_id, "payload": payload}, ensure_ascii=False)
    return base64.b64encode(text.encode("utf-8")) + b","


def is_searchable(relpath: str, html: bytes) -> bool:
    """Whether Pagefind should index this output file (a page with a ``data-pagefind-body``)."""
    return relpath.endswith(".html") and b"data-pagefind-body" in html


def add_file_request(number: int, relpath: str, html: bytes) -> tuple[int, bytes] | None:
    """Pagefind's ``AddFile`` request for output file ``number`` of a site, with its request id
    (``number + 1``): the page's segmented copy, under its URL; None for a file Pagefind
    should not index. Made where the page is rendered (a forked worker in a big build)."""
    if not is_searchable(relpath, html):
        return None
    return number + 1, _message(number + 1, {"type": "AddFile", "index_id": 0, "file_path": None,
                                              "url": page_url(relpath),
                                              "file_contents": segment_html(index_copy(html.decode("utf-8")))})


def _batch_requests(pages: list[tuple[str, bytes]], start: int) -> list[tuple[int, bytes] | None]:
    """The ``AddFile`` requests of pages ``start:start + _BATCH``."""
    return [add_file_request(start + n, relpath, html) for n, (relpath, html) in enumerate(pages[start:start + _BATCH])]


class _PagefindService:
    """``pagefind --service``, Pagefind's own protocol for its Node and Python APIs: requests
    are base64 JSON separated by commas on stdin, answered in order on stdout. Pages are
    indexed in the order they are sent, whatever the file system, and the bundle comes back
    in memory; nothing is written to disk on the way."""

    def __init__(self) -> None:
        self.log = tempfile.TemporaryFile()  # its messages, never enough to fill a pipe nobody reads
        self.process = subprocess.Popen([str(pagefind_executable()), "--service"], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, stderr=self.log)
        self.answers: dict[int, dict[str, object]] = {}
        self.arrived = threading.Condition()
        self.closed = False
        self.reader = threading.Thread(target=self._read, name="pagefind-answers", daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        pending: list[bytes] = []  # pieces of an answer not ended yet (the last one is ~100 MB)
        while chunk := self.process.stdout.read1(1 << 20):
            if b"," not in chunk:
                pending.append(chunk)
                continue
            *complete, rest = chunk.split(b",")
            pending.append(complete[0])
            complete[0] = b"".join(pending)
            pending = [rest] if rest else []
            complete.reverse()
            with self.arrived:
                while complete:  # each answer's text is dropped as soon as it is read (the bundle's is big)
                    answer = json.loads(base64.b64decode(complete.pop()))
                    message_id = answer.get("message_id")  # none when Pagefind could not read the request
                    self.answers[-1 if message_id is None else message_id] = answer.pop("payload")
                self.arrived.notify_all()
        with self.arrived:
            self.closed = True
            self.arrived.notify_all()

    def send(self, message: bytes) -> None:
        """Send one encoded request."""
        assert self.process.stdin is not None
        try:
            self.process.stdin.write(message)
        except BrokenPipeError:
            raise SearchIndexError(f"pagefind stopped: {self._stderr()}") from None

    def flush(self) -> None:
        """Push the requests sent so far to Pagefind."""
        assert self.process.stdin is not None
        try:
            self.process.stdin.flush()
        except BrokenPipeError:
            raise SearchIndexError(f"pagefind stopped: {self._stderr()}") from None

    def wait(self, message_id: int, tick: Callable[[int], None] | None = None) -> dict[str, object]:
        """The answer to request ``message_id`` (after every earlier answer arrived);
        ``tick(answers so far)`` is called a few times a second meanwhile."""
        self.flush()
        while True:
            with self.arrived:
                if self.arrived.wait_for(lambda: message_id in self.answers or self.closed,
                                         timeout=None if tick is None else 0.2):
                    return self.answers.get(message_id) or {"type": "Error", "message": f"no answer: {self._stderr()}"}
                answered = len(self.answers)
            assert tick is not None
            tick(answered)

    def errors(self) -> dict[int, str]:
        """The requests Pagefind refused, with its message."""
        with self.arrived:
            return {i: str(a.get("message")) for i, a in self.answers.items() if a.get("type") == "Error"}

    def _stderr(self) -> str:
        self.process.kill()
        self.process.wait()
        self.log.seek(0)
        return self.log.read().decode("utf-8", "replace").strip()[-300:] or "no message"

    def close(self) -> None:
        """End the service (end of its input: it exits at once, even while working) and wait for it."""
        if self.process.poll() is None:
            assert self.process.stdin is not None
            try:
                self.process.stdin.close()
            except BrokenPipeError:
                pass
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.reader.join()
        self.log.close()


class IndexJob:
    """One Pagefind bundle, its pages numbered in the order they are sent: :meth:`send`
    passes each page's request (:func:`add_file_request`) as soon as it is made, so Pagefind
    indexes while the caller renders and writes the site; :meth:`finish` asks for the bundle,
    waits for it and writes it; :meth:`stop` ends a job that will not be finished. Pagefind is
    started with the first page (after any forked workers: it is read by a thread)."""

    def __init__(self) -> None:
        self.service: _PagefindService | None = None
        self.names: dict[int, str] = {}  # request id -> the page's output path

    def send(self, relpath: str, request: tuple[int, bytes]) -> None:
        """Send the request :func:`add_file_request` made for the page at ``relpath``."""
        if self.service is None:
            self.service = _PagefindService()
            self.service.send(_message(0, {"type": "NewIndex", "config": None}))
        message_id, message = request
        self.names[message_id] = relpath
        try:
            self.service.send(message)
        except BaseException:
            self.stop()
            raise

    def finish(self, progress: Progress = NO_PROGRESS) -> tuple[dict[str, bytes], str]:
        """Ask for the bundle and wait for it: its files by path inside the bundle folder, and
        a summary line."""
        if self.service is None:
            return {}, "no searchable pages"
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
            self.service.send(_message(_GET_FILES_ID, {"type": "GetFiles", "index_id": 0}))
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
        return {safe_relpath(relpath): files[relpath] for relpath in sorted(files)}, f"search index: {pages} pages"

    def stop(self) -> None:
        """End Pagefind (at once if it is still working)."""
        if self.service is not None:
            self.service.close()


def index_pages(pages: Iterable[tuple[str, bytes]], progress: Progress = NO_PROGRESS) -> IndexJob:
    """An :class:`IndexJob` sent every searchable page of ``(relpath, html)`` pages, in relpath
    order (requests made by forked workers when there are many); finish it to get the bundle."""
    pages = sorted(pages)
    job = IndexJob()
    progress.stage("search index: pages sent to Pagefind", len(pages))
    batches = list(range(0, len(pages), _BATCH))
    workers = fork_workers(len(batches) // 4)
    if workers > 1:
        requests = forked_map(_batch_requests, pages, batches, workers)
    else:
        requests = (_batch_requests(pages, start) for start in batches)
    try:
        for start, batch in zip(batches, requests):
            for number, request in enumerate(batch, start):
                if request is not None:
                    job.send(pages[number][0], request)
            progress.advance(len(batch))
    except BaseException:
        job.stop()
        raise
    finally:
        requests.close()
    return job


def build_index(pages: Iterable[tuple[str, bytes]], bundle_dir: Path) -> str:
    """Index ``(relpath, html)`` pages into ``bundle_dir`` (a new folder), in relpath order;
    returns a summary line."""
    files, summary = index_pages(pages).finish()
    for relpath, data in files.items():
        target = bundle_dir / relpath
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    return summary


def _unpack_pf(data: bytes, name: str) -> bytes:
    """The CBOR inside one of Pagefind's compressed files."""
    raw = gzip.decompress(data)
    if not raw.startswith(_SIGNATURE):
        raise SearchIndexError(f"unexpected Pagefind file format: {name}")
    return raw[len(_SIGNATURE):]


def _read_pf(data: bytes, name: str):
    import cbor2

    return cbor2.loads(_unpack_pf(data, name))


def _write_pf(data, prefix: str, hash_length: int) -> tuple[str, bytes]:
    import cbor2

    raw = _SIGNATURE + cbor2.dumps(data, canonical=True)
    digest = hashlib.sha256(raw).hexdigest()[:hash_length]
    return f"{prefix}_{digest}", gzip.compress(raw, compresslevel=9, mtime=0)


def normalise_bundle(files: dict[str, bytes]) -> None:
    """Make Pagefind's output (``files`` by path in the bundle) deterministic and smaller to
    download, in Pagefind's own format (``pagefind.js`` uses the names only as file names).

    - Pagefind writes filter values in hash-map order, so its filter files, the metadata file
      naming them and the entry file naming that change from run to run (its maintainers call
      this known): the values are sorted and the files re-hashed.
    - The word index is cut into chunks of about 8 KB instead of Pagefind's fixed 20,000
      positions (~60 KB, ~28 KB compressed): a query loads the chunk of each of its words.
    - The ``date`` sort (every page's number in date order, 21 KB compressed at 10,000 pages)
      leaves the metadata every search downloads for a file of its own, which the search
      page fetches only to sort by date (:func:`date_order_path`).
    - Fragment names are shortened (:func:`_shorten_fragment_names`)."""
    entry = json.loads(files["pagefind-entry.json"])
    for language, info in sorted(entry["languages"].items()):
        old_meta_hash = info["hash"]
        meta_name = f"pagefind.{old_meta_hash}.pf_meta"
        meta = _read_pf(files.pop(meta_name), meta_name)
        by_date = next((pages for name, pages in meta[4] if name == _DATE_SORT), None)
        meta[4] = [sort for sort in meta[4] if sort[0] != _DATE_SORT]
        _rechunk_word_index(files, meta, language)
        for pair in meta[3]:
            name, old_hash = pair
            filter_name = f"filter/{old_hash}.pf_filter"
            data = _read_pf(files.pop(filter_name), filter_name)
            data[1] = sorted(([value, sorted(pages)] for value, pages in data[1]), key=lambda v: v[0])
            prefix, _, digest = old_hash.rpartition("_")
            new_hash, blob = _write_pf(data, prefix, len(digest))
            files[f"filter/{new_hash}.pf_filter"] = blob
            pair[1] = new_hash
        meta[3] = sorted(meta[3], key=lambda pair: pair[0])
        date_order = b""
        if by_date is not None:
            deltas = [page - previous for previous, page in zip([0, *by_date], by_date)]
            date_order = json.dumps(deltas, separators=(",", ":")).encode("ascii")
        name_prefix = _shorten_fragment_names(files, meta, language, also_hashed=date_order)
        if by_date is not None:
            files[date_order_path(name_prefix)] = date_order
        prefix, _, digest = old_meta_hash.rpartition("_")
        new_meta_hash, blob = _write_pf(meta, prefix, len(digest))
        files[f"pagefind.{new_meta_hash}.pf_meta"] = blob
        info["hash"] = new_meta_hash
    files["pagefind-entry.json"] = json.dumps(entry, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


_DATE_SORT = "date"
_STAMP_LENGTH = 4  # hex digits of the index's stamp that begins fragment and chunk names (static/search.js too)
_CHUNK_BYTES = 8_000  # measured on the 5,000-item site: 4,000 / 8,000 / 16,000 -> 214 / 209 / 213 KB per query


def date_order_path(name_prefix: str) -> str:
    """Where in the bundle the pages' date order is: a JSON list of page numbers, oldest
    first, each given as its difference from the previous one. ``name_prefix`` is what
    every fragment name of the index begins with (the search page takes it from a result's
    id), so the file changes name whenever the index does."""
    return f"date/{name_prefix}.json"


def _cbor_array_head(length: int) -> bytes:
    """The CBOR head of a definite-length array of ``length`` items."""
    if length < 24:
        return bytes([0x80 + length])
    for marker, size in ((0x98, 1), (0x99, 2), (0x9A, 4)):
        if length < 1 << (8 * size):
            return bytes([marker]) + length.to_bytes(size, "big")
    raise SearchIndexError("word index chunk too large")


def _encoded_words(data: bytes, name: str) -> Iterator[tuple[str, bytes]]:
    """Each word of a word index chunk with its encoded bytes, sliced out as Pagefind wrote them."""
    import io

    import cbor2

    raw = _unpack_pf(data, name)
    if raw[:1] != b"\x81":  # a word index is an array of one item, the array of its words
        raise SearchIndexError(f"unexpected Pagefind file format: {name}")
    stream = io.BytesIO(raw)
    stream.seek(1)
    decoder = cbor2.CBORDecoder(stream)
    head = stream.read(1)[0]
    count = head - 0x80 if head < 0x98 else int.from_bytes(stream.read(1 << (head - 0x98)), "big")
    for _ in range(count):
        start = stream.tell()
        word = decoder.decode()
        yield word[0], raw[start:stream.tell()]


def _rechunk_word_index(files: dict[str, bytes], meta: list, language: str) -> None:
    """Rewrite the word index chunks of ``meta`` with about ``_CHUNK_BYTES`` of words each,
    one old chunk in memory at a time, each word's bytes as Pagefind wrote them. A chunk's
    range in the metadata is the shortest prefixes that tell it from its neighbours, as
    Pagefind makes them."""
    chunks: list[tuple[str, str, bytes]] = []  # first word, last word, encoded chunk
    pending: list[tuple[str, bytes]] = []
    size = 0

    def close_chunk() -> None:
        encoded = b"\x81" + _cbor_array_head(len(pending)) + b"".join(data for _, data in pending)
        chunks.append((pending[0][0], pending[-1][0], encoded))
        pending.clear()

    for _, _, old_hash in meta[2]:
        name = f"index/{old_hash}.pf_index"
        for word, encoded in _encoded_words(files.pop(name), name):
            pending.append((word, encoded))
            size += len(encoded)
            if size >= _CHUNK_BYTES:
                close_chunk()
                size = 0
    if pending:
        close_chunk()
    stamp = hashlib.sha256(b"".join(raw for _, _, raw in chunks)).hexdigest()[:_STAMP_LENGTH]
    ranges = [[first_word, last_word] for first_word, last_word, _ in chunks]
    for left, right in zip(ranges, ranges[1:]):
        left[1], right[0] = _distinguishing_prefixes(left[1], right[0])
    meta[2] = []
    for number, ((from_word, to_word), (_, _, raw)) in enumerate(zip(ranges, chunks)):
        chunk_hash = f"{language}_{stamp}{_base36(number)}"
        # level 6: 2% larger than 9 and four times faster (a 10,000-page index is 20 MB)
        files[f"index/{chunk_hash}.pf_index"] = gzip.compress(_SIGNATURE + raw, compresslevel=6, mtime=0)
        meta[2].append([from_word, to_word, chunk_hash])


def _distinguishing_prefixes(left: str, right: str) -> tuple[str, str]:
    """The shortest prefixes of two neighbouring words that differ (工信, 工业 -> 工信, 工业)."""
    common = 0
    for a, b in zip(left, right):
        if a != b:
            break
        common += 1
    return left[: common + 1], right[: common + 1]


def page_number(fragment_name: str) -> int:
    """A page's number from its fragment name (see :func:`_shorten_fragment_names`)."""
    return int(fragment_name.rpartition("_")[2][_STAMP_LENGTH:], 36)


def _base36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    text = ""
    while True:
        number, digit = divmod(number, 36)
        text = digits[digit] + text
        if not number:
            return text


def _shorten_fragment_names(files: dict[str, bytes], meta: list, language: str, also_hashed: bytes = b"") -> str:
    """Rename each page's fragment from its 7-hex-digit content hash to a short name.

    Every search downloads the metadata file, which lists each page's fragment name: at
    10,000 pages the random hashes are 67 KB of its 93 KB (gzip cannot shrink them), the
    largest single download of a search. Names made of a stamp shared by the whole index
    (a hash of the metadata) and the page's number in base 36 take 37 KB. A fragment whose
    page changes still gets a new name (the stamp changes), so caches stay correct; pages
    Pagefind found identical keep sharing one fragment. Returns what every name begins with."""
    stamp = hashlib.sha256(repr(meta).encode("utf-8") + also_hashed).hexdigest()[:_STAMP_LENGTH]
    renamed: dict[str, str] = {}
    for number, page in enumerate(meta[1]):
        old = page[0]
        if old not in renamed:
            renamed[old] = f"{language}_{stamp}{_base36(number)}"
            files[f"fragment/{renamed[old]}.pf_fragment"] = files.pop(f"fragment/{old}.pf_fragment")
        page[0] = renamed[old]
    return f"{language}_{stamp}"


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


def main(argv: list[str] | None = None) -> int:
    """``python -m sitegen.search SITE BUNDLE``: index a built site into BUNDLE (used by
    ``serve`` to index in a separate, low-priority process that may be killed at any moment;
    it writes nothing but BUNDLE, in the folder serve removes)."""
    import sys

    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print("usage: python -m sitegen.search SITE_DIR BUNDLE_DIR", file=sys.stderr)
        return 2
    if hasattr(os, "nice"):
        os.nice(10)
    bundle = Path(args[1])
    print(build_index(searchable_pages(Path(args[0])), bundle))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
