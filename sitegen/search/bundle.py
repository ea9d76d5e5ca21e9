"""Pagefind's bundle format, read and rewritten after Pagefind writes it.

Pagefind (the version :data:`PAGEFIND_VERSION`: the format is not a public interface, so any
other version is refused) writes its index as gzipped CBOR files behind a signature: a
metadata file naming every page's fragment, word index chunks, filter files. This module
rewrites them in that same format, so ``pagefind.js`` reads them as its own:

- filter values sorted (Pagefind writes them in hash-map order) and the files re-hashed, so
  the output is deterministic (the merge writes them so, :mod:`sitegen.search.merge`);
- the word index cut into chunks of about 8 KB instead of Pagefind's fixed 20,000 positions
  (~60 KB, ~28 KB compressed): a query loads the chunk of each of its words; the cuts and
  each chunk's name depend on its own words only, so a change renames the chunks it changes
  (a build after a change compresses and writes those alone, :class:`BundleFiles`);
- the ``date`` sort moved out of the metadata every search downloads into a file of its own
  that the search page fetches only to sort by date (named in the entry file,
  :func:`date_order_path`);
- fragment names shortened to a stamp of the page's block of pages and its number, so that
  a change renames only the fragments of its block (a build after a change writes those).
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import zlib
from collections.abc import Callable, Iterable, Iterator, MutableMapping, Sequence
from typing import Any, NamedTuple

from sitegen.errors import SitegenError

PAGEFIND_VERSION = "1.5.2"
"""The Pagefind whose bundle format this module reads and writes."""
_SIGNATURE = b"pagefind_dcd"


class SearchIndexError(SitegenError):
    """Pagefind failed, or wrote what this code cannot read."""


def check_version(entry: dict[str, Any]) -> None:
    """Refuse a bundle written by a Pagefind other than :data:`PAGEFIND_VERSION`."""
    version = entry.get("version")
    if version != PAGEFIND_VERSION:
        raise SearchIndexError(f"the search index was written by Pagefind {version}, but sitegen reads the bundle "
                               f"format of Pagefind {PAGEFIND_VERSION}: install pagefind[bin]=={PAGEFIND_VERSION}")


_PACK_LEVEL = 6  # of a word chunk: 2% larger than level 9 and four times faster (a 10,000-page index is 20 MB)


class BundleFiles(MutableMapping[str, bytes]):
    """A bundle's files by path. A word index chunk or a merged filter file is held as its
    bytes before compression (:meth:`pack`) and compressed when it is read: :meth:`digest`
    tells it apart without compressing it, so a build whose last build wrote the same file
    writes nothing (at 10,000 items, compressing the index's 20 MB of chunks took 1.2-1.6 s,
    its filter files 0.13 s)."""

    def __init__(self, files: Iterable[tuple[str, bytes]] = ()) -> None:
        self._files: dict[str, bytes | _Packed] = dict(files)

    def pack(self, path: str, *parts: bytes | memoryview, level: int = _PACK_LEVEL) -> None:
        """Hold the file at ``path``, which is ``parts`` joined and gzipped (at ``level``, no
        time). The parts are held as given: the word chunks of a merge are views of the
        merged word index, not copies (at 100,000 items 243 MB)."""
        self._files[path] = _Packed(level, parts)

    def digest(self, path: str) -> str:
        """A digest of the file at ``path`` (of its bytes before compression when packed)."""
        held = self._files[path]
        if isinstance(held, _Packed):
            digest = hashlib.sha256(_packed_digest(held.level))
            for part in held.parts:
                digest.update(part)
            return digest.hexdigest()
        return hashlib.sha256(held).hexdigest()

    def checked(self, check: Callable[[str], str]) -> BundleFiles:
        """These files sorted by path, each path as ``check`` returns it (raising on a path
        that cannot be written), packed files still packed."""
        files = BundleFiles()
        for path in sorted(self._files):
            files._files[check(path)] = self._files[path]
        return files

    def compressed(self, paths: Sequence[str]) -> Iterator[tuple[str, bytes]]:
        """Each of ``paths`` with its file's bytes, in order, the packed files compressed by
        threads (zlib lets go of the interpreter while it compresses: a build after a day's
        items compresses most of the index's chunks, 1,500 at 10,000 items), a window of
        them at a time: a future for every file at once (``Executor.map``) took 1.6 KB each,
        300 MB for the 200,000 files of a 100,000-item site's index."""
        from concurrent.futures import ThreadPoolExecutor

        from sitegen.parallel import worker_count

        packed = sum(1 for path in paths if isinstance(self._files[path], _Packed))
        with ThreadPoolExecutor(max_workers=worker_count(packed // _PACKED_PER_THREAD)) as pool:
            for start in range(0, len(paths), _COMPRESSED_AT_ONCE):
                window = paths[start:start + _COMPRESSED_AT_ONCE]
                made = {path: pool.submit(self.__getitem__, path) for path in window
                        if isinstance(self._files[path], _Packed)}
                for path in window:
                    found = made.pop(path, None)
                    yield path, found.result() if found is not None else self[path]

    def __getitem__(self, path: str) -> bytes:
        held = self._files[path]
        if isinstance(held, _Packed):
            return gzip.compress(b"".join(held.parts), compresslevel=held.level, mtime=0)
        return held

    def __setitem__(self, path: str, data: bytes) -> None:
        self._files[path] = data

    def __delitem__(self, path: str) -> None:
        del self._files[path]

    def __iter__(self) -> Iterator[str]:
        return iter(self._files)

    def __len__(self) -> int:
        return len(self._files)


class _Packed(NamedTuple):
    """A file :class:`BundleFiles` compresses when it is read: its bytes, in parts."""

    level: int
    parts: tuple[bytes | memoryview, ...]


_PACKED_PER_THREAD = 100  # packed files (about 4-16 KB each) that make a thread worth starting
_COMPRESSED_AT_ONCE = 512  # files whose compression is under way at once (:meth:`BundleFiles.compressed`)


def _packed_digest(level: int) -> bytes:
    """What a packed file's digest covers beside its bytes: how they are compressed."""
    return f"gzip {level} zlib {zlib.ZLIB_RUNTIME_VERSION}\x00".encode()


def _unpack_pf(data: bytes, name: str) -> bytes:
    """The CBOR inside one of Pagefind's compressed files."""
    raw = gzip.decompress(data)
    if not raw.startswith(_SIGNATURE):
        raise SearchIndexError(f"unexpected Pagefind file format: {name}")
    return raw[len(_SIGNATURE):]


def read_pf(data: bytes, name: str) -> Any:
    """The CBOR value in one of Pagefind's files."""
    import cbor2

    return cbor2.loads(_unpack_pf(data, name))


def _write_pf(data: Any, prefix: str, hash_length: int) -> tuple[str, bytes]:
    name, raw = encode_pf(data, prefix, hash_length)
    return name, gzip.compress(raw, compresslevel=PF_LEVEL, mtime=0)


def encode_pf(data: Any, prefix: str, hash_length: int) -> tuple[str, bytes]:
    """The name (``prefix`` and the start of a digest) and uncompressed bytes of one of
    Pagefind's files holding ``data`` (compressed at :data:`PF_LEVEL`)."""
    import cbor2

    raw = _SIGNATURE + cbor2.dumps(data, canonical=True)
    return f"{prefix}_{hashlib.sha256(raw).hexdigest()[:hash_length]}", raw


PF_LEVEL = 9
"""The compression of the metadata and filter files: every first search loads the metadata."""


def normalise_bundle(files: MutableMapping[str, bytes]) -> None:
    """Make a bundle (``files`` by path in the bundle, as :mod:`sitegen.search.merge` joins
    Pagefind's shards: its word index already cut by :func:`write_word_chunks`) deterministic
    and smaller to download, in Pagefind's own format (``pagefind.js`` uses the names only as
    file names).

    - (The merge has written the filter values sorted: Pagefind writes them in hash-map
      order, so its filter files, the metadata naming them and the entry file naming that
      change from run to run, which its maintainers call known.)
    - (The merge has cut the word index into chunks of about 8 KB instead of Pagefind's fixed
      20,000 positions, ~60 KB, ~28 KB compressed: a query loads the chunk of each of its words.)
    - The ``date`` sort (every page's number in date order, 21 KB compressed at 10,000 pages)
      leaves the metadata every search downloads for a file of its own, which the search
      page fetches only to sort by date (:func:`date_order_path`, named in the entry file
      under ``sitegen_date_order``).
    - Fragment names are shortened (:func:`_shorten_fragment_names`)."""
    entry = json.loads(files["pagefind-entry.json"])
    check_version(entry)
    for language, info in sorted(entry["languages"].items()):
        old_meta_hash = info["hash"]
        meta_name = f"pagefind.{old_meta_hash}.pf_meta"
        meta = read_pf(files.pop(meta_name), meta_name)
        by_date = next((pages for name, pages in meta[4] if name == _DATE_SORT), None)
        meta[4] = [sort for sort in meta[4] if sort[0] != _DATE_SORT]
        date_order = b""
        if by_date is not None:
            deltas = [page - previous for previous, page in zip([0, *by_date], by_date)]
            date_order = json.dumps(deltas, separators=(",", ":")).encode("ascii")
        _shorten_fragment_names(files, meta, language)
        if by_date is not None:
            path = date_order_path(language, date_order)
            files[path] = date_order
            entry.setdefault(DATE_ORDER_KEY, {})[language] = path
        prefix, _, digest = old_meta_hash.rpartition("_")
        new_meta_hash, blob = _write_pf(meta, prefix, len(digest))
        files[f"pagefind.{new_meta_hash}.pf_meta"] = blob
        info["hash"] = new_meta_hash
    files["pagefind-entry.json"] = json.dumps(entry, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


_DATE_SORT = "date"
_STAMP_LENGTH = 4  # hex digits of the stamp that begins fragment names
_CHUNK_NAME_LENGTH = 6  # hex digits of a word index chunk's digest in its name (Pagefind's are 7)
_FRAGMENT_BLOCK = 128  # pages whose fragment names share a stamp (a change renames its block's)
_CHUNK_LEAST = 4_000
_CHUNK_SPREAD = 16
_CHUNK_MOST = 16_000
"""A word index chunk holds at least ``_CHUNK_LEAST`` bytes of words (unless it is the last),
then ends after a word whose hash is a multiple of ``_CHUNK_SPREAD`` (a word's entry is ~370
bytes on average). On the 10,000-item site: 1,902 chunks (1,826 when each ended at its first
8,000 bytes), a query's word in a chunk of 39 KB on average (38). Chunks cut at 4,000 / 8,000 /
16,000 bytes were measured on the 5,000-item site: 214 / 209 / 213 KB per query."""


DATE_ORDER_KEY = "sitegen_date_order"
"""The key of the entry file (``pagefind-entry.json``, which ``pagefind.js`` reads for its
own keys only) that names each language's date order file (static/search.js reads it)."""


def date_order_path(language: str, date_order: bytes) -> str:
    """Where in the bundle a language's date order is: a JSON list of page numbers, oldest
    first, each given as its difference from the previous one (``date_order``), in a file
    named by its content."""
    return f"date/{language}_{hashlib.sha256(date_order).hexdigest()[:12]}.json"


def cbor_head(major: int, value: int) -> bytes:
    """The shortest CBOR head of major type ``major`` (0: unsigned integer, 4: array of
    ``value`` items) with ``value``, as Pagefind writes them."""
    if value < 24:
        return bytes([major << 5 | value])
    for info, size in ((24, 1), (25, 2), (26, 4), (27, 8)):
        if value < 1 << (8 * size):
            return bytes([major << 5 | info]) + value.to_bytes(size, "big")
    raise SearchIndexError("search index too large")


def read_cbor_head(data: bytes, position: int) -> tuple[int, int, int]:
    """The major type, value and end of the CBOR head at ``position`` of ``data``."""
    initial = data[position]
    info = initial & 0x1F
    if info < 24:
        return initial >> 5, info, position + 1
    size = 1 << (info - 24)
    return initial >> 5, int.from_bytes(data[position + 1:position + 1 + size], "big"), position + 1 + size


def _word_chunk_head(count: int) -> bytes:
    """What a word index chunk of ``count`` words holds before them (without its
    signature): an array of one item, the array of its words."""
    return b"\x81" + cbor_head(4, count)


def decoded_words(data: bytes, name: str) -> Iterator[tuple[str, bytes, list[Any]]]:
    """Each word of a word index chunk with its encoded bytes (as Pagefind wrote them) and
    their decoded value, ``[word, postings, extras]``."""
    import cbor2

    raw = _unpack_pf(data, name)
    if raw[:1] != b"\x81":  # a word index is an array of one item, the array of its words
        raise SearchIndexError(f"unexpected Pagefind file format: {name}")
    _, count, position = read_cbor_head(raw, 1)
    stream = io.BytesIO(raw)
    stream.seek(position)
    decoder = cbor2.CBORDecoder(stream)
    for _ in range(count):
        start = stream.tell()
        word = decoder.decode()
        yield word[0], raw[start:stream.tell()], word


class WordChunks(NamedTuple):
    """A word index as :func:`write_word_chunks` cut it."""

    listed: list[list[str]]
    """The metadata's list of chunks: the first and last word of each (the shortest prefixes
    that tell it from its neighbours) and its name."""
    data: bytes
    """Every word's encoding, one after another: the chunks are views of these bytes."""


def write_word_chunks(words: Iterable[tuple[str, bytes]], files: BundleFiles, language: str) -> WordChunks:
    """Write ``words`` (in order, each as its encoded bytes) into ``files`` as word index
    chunks. A chunk ends after a word that :func:`_ends_chunk` picks, so the cuts depend on
    the words around them only, and a chunk is named by a digest of its own bytes (as
    Pagefind names its files; longer where two chunks' names would be the same): a change
    to some words' postings renames their chunks and leaves the others as they were. A
    chunk's range is the shortest prefixes that tell it from its neighbours, as Pagefind
    makes them."""
    body = io.BytesIO()
    chunks: list[tuple[str, str, int, int, int]] = []  # first word, last word, words, start and end in body
    first, count, start = "", 0, 0
    for word, encoded in words:
        if not count:
            first = word
        count += 1
        body.write(encoded)
        end = body.tell()
        if _ends_chunk(word, end - start):
            chunks.append((first, word, count, start, end))
            count, start = 0, end
    if count:
        chunks.append((first, word, count, start, body.tell()))
    data = body.getvalue()
    del body
    ranges = [[first_word, last_word] for first_word, last_word, *_ in chunks]
    for left, right in zip(ranges, ranges[1:]):
        left[1], right[0] = _distinguishing_prefixes(left[1], right[0])
    listed = []
    named: set[str] = set()
    whole = memoryview(data)
    for (from_word, to_word), (_, _, count, start, end) in zip(ranges, chunks):
        head, part = _word_chunk_head(count), whole[start:end]  # the chunk: head + part
        digest = hashlib.sha256(head)
        digest.update(part)
        name = digest.hexdigest()
        length = _CHUNK_NAME_LENGTH
        while (chunk_hash := f"{language}_{name[:length]}") in named:  # two chunks' digests begin alike
            length += 1
        named.add(chunk_hash)
        files.pack(f"index/{chunk_hash}.pf_index", _SIGNATURE + head, part)
        listed.append([from_word, to_word, chunk_hash])
    return WordChunks(listed, data)


def _ends_chunk(word: str, size: int) -> bool:
    """Whether a chunk of ``size`` bytes ends after ``word``: at :data:`_CHUNK_MOST` bytes,
    or from :data:`_CHUNK_LEAST` on after a word whose hash is a multiple of
    :data:`_CHUNK_SPREAD` (content-defined chunking, as the shards are cut,
    :class:`~sitegen.search.shards.ShardCut`)."""
    if size >= _CHUNK_MOST:
        return True
    return size >= _CHUNK_LEAST and zlib.crc32(word.encode("utf-8")) % _CHUNK_SPREAD == 0


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


def _shorten_fragment_names(files: MutableMapping[str, bytes], meta: list[Any], language: str) -> None:
    """Rename each page's fragment from its 7-hex-digit content hash to a short name.

    Every search downloads the metadata file, which lists each page's fragment name: at
    10,000 pages the random hashes are 67 KB of its 93 KB (gzip cannot shrink them). Names
    made of a stamp and the page's number in base 36 take 37 KB. The stamp is shared by a
    block of :data:`_FRAGMENT_BLOCK` consecutive pages, a hash of their fragments' content
    hashes: a page that changes renames the fragments of its block (caches stay correct),
    the other blocks keep their names and files. Pages Pagefind found identical keep
    sharing one fragment."""
    renamed: dict[str, str] = {}
    pages = meta[1]
    for start in range(0, len(pages), _FRAGMENT_BLOCK):
        block = pages[start:start + _FRAGMENT_BLOCK]
        hashed = repr((start, [page[0] for page in block])).encode("utf-8")
        stamp = hashlib.sha256(hashed).hexdigest()[:_STAMP_LENGTH]
        for number, page in enumerate(block, start):
            old = page[0]
            if old not in renamed:
                renamed[old] = f"{language}_{stamp}{_base36(number)}"
                files[f"fragment/{renamed[old]}.pf_fragment"] = files.pop(f"fragment/{old}.pf_fragment")
            page[0] = renamed[old]


