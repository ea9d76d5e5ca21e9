"""One Pagefind bundle from the bundles of shards: the pages of a site indexed in parts.

Pagefind holds every word of every page in memory while it indexes (1.9 GB for the 20,000
pages of a 10,000-item site, 4.3 GB for 47,000). A site is therefore indexed in shards of
consecutive pages, each by its own Pagefind run, and the shards' bundles are merged here into
one bundle in Pagefind's own format (:data:`~sitegen.search.bundle.PAGEFIND_VERSION`), as if
one run had indexed every page in that order: pages numbered on from the previous shard, each
word's postings joined (a posting gives its page as the difference from the previous
posting's page, so only the first posting of each shard's part changes), filter values
joined, the sort orders made from the pages' sort values, metadata fields joined (a posting
names a field as ``-(its number + 1)``), fragments kept. The result is the bundle one run
writes, byte for byte once sitegen has rewritten it (tested), so the browser ranks as it did.

Each shard's words are read once (:func:`with_words`: decoding them is most of a merge's
work) into a :class:`WordTable` that the shard cache keeps beside the bundle, so a
build after another decodes only the shards that changed. The word index is merged as a
stream and written in the chunks the browser loads (no second pass over it).

A merge after another (:func:`merge_shards_since`) takes the last one's word index but for
the words of the shards that changed. A day's new pages come last, in the last shard: each
of its words has the postings of every shard before it at the start of its last entry, up to
where the last shard's part began (:class:`LastPart`, kept with the entry), so the new parts
are joined on to that (at 24,000 items a day's 12,000 words would otherwise each be joined
again from its parts in all 54 shards).
"""

from __future__ import annotations

import heapq
import json
import re
import struct
import sys
from array import array
from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, NamedTuple

from sitegen.parallel import fork_workers, forked_map
from sitegen.search.bundle import (
    PF_LEVEL,
    BundleFiles,
    SearchIndexError,
    _write_pf,
    cbor_head,
    check_version,
    decoded_words,
    encode_pf,
    read_cbor_head,
    read_pf,
    write_word_chunks,
)

__all__ = ["LastPart", "MergedIndex", "MergedWords", "ShardBundle", "ShardShape", "WordTable", "kept_places",
           "is_asset", "merge_shards", "merge_shards_since", "patch_shard", "with_words",
           "without_word_chunks"]


@dataclass(frozen=True)
class WordTable:
    """One language's word index of a shard, read once: each word's entry ``[word, postings,
    extras]`` as Pagefind encoded it (:meth:`encoded`), in word order, and what a merge needs
    of it without decoding it again. Kept in columns: the shard cache writes and reads back
    a few big objects, not a record per word (2.4 s to read back the 10,000-item site's as
    records, 0.1 s as columns)."""

    words: list[str]
    data: bytes  # the entries' encodings, one after another
    ends: array[int]  # where each entry ends in ``data``
    postings: array[int]  # how many postings each has
    first: array[int]  # the page of its first posting (0 when it has none)
    span: array[int]  # its last posting's page less its first's
    tail: array[int]  # the length of its extras' encoding, which ends the entry
    meta: bytes  # 1 where a posting names metadata locations

    def encoded(self, position: int) -> bytes:
        """The entry of the word at ``position``, as Pagefind encoded it."""
        return self.data[self.ends[position - 1] if position else 0:self.ends[position]]

    def __reduce__(self) -> tuple[Callable[..., WordTable], tuple[Any, ...]]:
        return _unpickled_table, (self.words, self.data, self.ends, self.postings, self.first, self.span, self.tail,
                                  self.meta)

    def extras(self, position: int) -> list[Any]:
        """The extras of the word at ``position`` (most words have none)."""
        end = self.ends[position]
        encoded = self.data[end - self.tail[position]:end]
        if encoded == _EMPTY_ARRAY:
            return []
        import cbor2

        extras: list[Any] = cbor2.loads(encoded)
        return extras


_EMPTY_ARRAY = b"\x80"


def _unpickled_table(words: list[str], *columns: Any) -> WordTable:
    """A :class:`WordTable` read back (from the shard cache, or from a forked worker), its
    words interned: the shards of a site share most words, and each would otherwise hold
    its own copy of each (at 24,000 items 634,540 words in the shards' tables, 126,301
    different ones: 48 MB of strings, 11 MB interned)."""
    return WordTable([sys.intern(word) for word in words], *columns)


def is_asset(name: str) -> bool:
    """Whether the file ``name`` of a bundle is one Pagefind writes the same for every index
    (pagefind.js, its worker, the WebAssembly, the UIs), not one of the index itself."""
    return not (name.startswith(("index/", "fragment/", "filter/")) or name.endswith(".pf_meta")
                or name == "pagefind-entry.json")


def without_word_chunks(shard: ShardBundle) -> ShardBundle:
    """``shard`` without its word index's files, once its word index is read
    (:attr:`ShardBundle.words`): a merge or a patch reads the words from there, and
    only the rest of its files (at 24,000 items the chunks are 31 of the 113 MB of the
    shards' bundles)."""
    if shard.words is None:
        return shard
    return replace(shard, files={name: data for name, data in shard.files.items() if not name.startswith("index/")})


class LastPart(NamedTuple):
    """Where a merged word's entry has the postings of the merge's last shard: ``at``, the
    offset in the entry where they begin (where the postings end when the word is not on
    that shard's pages; -1: not known), the number of postings before them and the page of
    the last of those (0 when none), and the entry's number of postings (``total``) and its
    last page. A merge whose shards are the last merge's but its last one, grown, and maybe
    more after it takes each entry up to ``at`` and joins the new parts on
    (:func:`_appended`)."""

    at: int
    before: int
    before_page: int
    total: int
    last_page: int


_UNKNOWN = LastPart(-1, 0, 0, 0, 0)


def _none_on_last(end: int, total: int, last_page: int) -> LastPart:
    """The last part of an entry with no postings on the last shard's pages: its ``total``
    postings, the last on ``last_page``, end at ``end``, where that shard's would begin."""
    return LastPart(end, total, last_page, total, last_page)


@dataclass(frozen=True)
class MergedWords:
    """One language's word index as a merge made it: its words in order, their entries
    (:meth:`encoded`) and where each entry has its last shard's postings (:meth:`last_part`),
    kept for the next merge (:class:`MergedIndex`)."""

    words: list[str]
    data: bytes  # the entries' encodings, one after another
    ends: array[int]  # where each entry ends in ``data``
    parts: array[int]  # each entry's :class:`LastPart`, five numbers a word

    def encoded(self, position: int) -> bytes:
        """The entry of the word at ``position``."""
        return self.data[self.ends[position - 1] if position else 0:self.ends[position]]

    def last_part(self, position: int) -> LastPart:
        """Where the entry of the word at ``position`` has its last shard's postings."""
        return LastPart(*self.parts[5 * position:5 * position + 5])


ShardShape = tuple[tuple[str, int, tuple[str, ...]], ...]
"""A shard's languages, each with its number of pages and its metadata fields: shards of the
same shapes in the same order are numbered alike in a merge (page offsets, field numbers)."""


@dataclass(frozen=True)
class MergedIndex:
    """What a merge of shards made, for the next merge to start from
    (:func:`merge_shards_since`): the shards' keys and shapes, in order, and the merged word
    index of each language."""

    keys: tuple[str, ...]
    shapes: tuple[ShardShape, ...]
    words: Mapping[str, MergedWords]


@dataclass(frozen=True)
class ShardBundle:
    """A bundle Pagefind wrote for a run of consecutive pages, and each page's language and
    sort values (``{sort name: value}``, as ``data-pagefind-sort`` gives them), in the order
    the pages were sent; ``pages``: each page's output path and request digest, in that order
    (what a later build patches the bundle from, :func:`patch_shard`); ``words``: its word
    index read by :func:`with_words`, by language (None: not read yet)."""

    files: dict[str, bytes]
    sort_values: Sequence[tuple[str, Mapping[str, str]]]
    pages: Sequence[tuple[str, str]] = ()
    words: Mapping[str, WordTable] | None = None


def with_words(shards: Sequence[ShardBundle]) -> list[ShardBundle]:
    """``shards``, each with its word index read (:class:`WordTable` by language); the shards
    not read yet are decoded by forked workers when there are many."""
    missing = [shard for shard in shards if shard.words is None]
    workers = fork_workers(len(missing) // 2)
    if workers > 1:
        tables = iter(list(forked_map(_read_words_of, missing, range(len(missing)), workers)))
    else:
        tables = iter([_read_words(shard) for shard in missing])
    return [shard if shard.words is not None else replace(shard, words=next(tables)) for shard in shards]


def _read_words_of(shards: list[ShardBundle], number: int) -> dict[str, WordTable]:
    """In a forked worker: the words of shard ``number``."""
    return _read_words(shards[number])


def _read_words(shard: ShardBundle) -> dict[str, WordTable]:
    """A shard's word index by language."""
    entry = json.loads(shard.files["pagefind-entry.json"])
    check_version(entry)
    tables: dict[str, WordTable] = {}
    for language, info in sorted(entry["languages"].items()):
        name = f"pagefind.{info['hash']}.pf_meta"
        columns = _Columns()
        for _, _, chunk_hash in read_pf(shard.files[name], name)[2]:
            chunk = f"index/{chunk_hash}.pf_index"
            for word, encoded, decoded in decoded_words(shard.files[chunk], chunk):
                columns.add(word, encoded, decoded, chunk)
        tables[language] = columns.table()
    return tables


class _Columns:
    """A :class:`WordTable` as it is made, a word at a time."""

    def __init__(self) -> None:
        import cbor2

        self._dumps = cbor2.dumps
        self.words: list[str] = []
        self.encodings: list[bytes] = []
        self.ends = array("q")
        self.counts = array("q")
        self.firsts = array("q")
        self.spans = array("q")
        self.tails = array("q")
        self.metas = bytearray()

    def add(self, word: str, encoded: bytes, decoded: list[Any], source: str) -> None:
        """The word whose entry is ``encoded``, ``decoded`` (in the file ``source``)."""
        # Pagefind writes [word, postings, extras]
        if len(decoded) != 3 or not encoded.endswith(tail := bytes(self._dumps(decoded[2]))):
            raise SearchIndexError(f"unexpected Pagefind word index format: {source}")
        postings = decoded[1]
        self._add(word, encoded, len(postings), postings[0][0] if postings else 0,
                  sum(posting[0] for posting in postings[1:]), len(tail),
                  any(len(posting) > 2 and bool(posting[2]) for posting in postings))

    def add_row(self, word: str, table: WordTable, position: int) -> None:
        """The word at ``position`` of ``table``, as it is there."""
        self._add(word, table.encoded(position), table.postings[position], table.first[position],
                  table.span[position], table.tail[position], bool(table.meta[position]))

    def _add(self, word: str, encoded: bytes, count: int, first: int, span: int, tail: int, meta: bool) -> None:
        self.words.append(sys.intern(word))
        self.encodings.append(encoded)
        self.ends.append((self.ends[-1] if self.ends else 0) + len(encoded))
        self.counts.append(count)
        self.firsts.append(first)
        self.spans.append(span)
        self.tails.append(tail)
        self.metas.append(meta)

    def table(self) -> WordTable:
        """The table of the words added."""
        return WordTable(self.words, b"".join(self.encodings), self.ends, self.counts, self.firsts, self.spans,
                         self.tails, bytes(self.metas))


def _table_like(merged: MergedWords, like: WordTable) -> WordTable:
    """The word table of a merged word index whose entries are mostly those of ``like``
    (a shard patched from it): such an entry is taken with what ``like`` knows of it; the
    others are decoded."""
    import cbor2

    columns = _Columns()
    for position, word in enumerate(merged.words):
        encoded = merged.encoded(position)
        at = bisect_left(like.words, word)
        if at < len(like.words) and like.words[at] == word and like.encoded(at) == encoded:
            columns.add_row(word, like, at)
        else:
            columns.add(word, encoded, cbor2.loads(encoded), "a patched shard")
    return columns.table()


_PageMaps = dict[str, list[int | None]]
"""For each language of a bundle, the number each of its pages (in that language, in order)
has in the merged bundle; None: the page is left out."""


def merge_shards(shards: Sequence[ShardBundle]) -> BundleFiles:
    """One bundle, as Pagefind writes it, of the pages of ``shards`` in their order (its word
    index cut by :func:`~sitegen.search.bundle.write_word_chunks`, what
    :func:`~sitegen.search.bundle.normalise_bundle` expects); of one shard too: its sort orders
    are made from its pages' sort values as they are now."""
    files, _ = _merge_all(shards)
    return files


def merge_shards_since(shards: Sequence[ShardBundle], keys: Sequence[str],
                       previous: Callable[[tuple[ShardShape, ...]], MergedIndex | None],
                       earlier: Callable[[str], Mapping[str, WordTable] | None]) -> tuple[BundleFiles, MergedIndex]:
    """:func:`merge_shards`, the shards under ``keys``, and what the next merge can start
    from. When ``previous(shapes)`` gives the merge a build before made, whose first shards
    have the shapes of these (so their pages keep their numbers: :func:`kept_places`), its
    word index is taken but for the words merged again: those whose entries differ between
    a shard that changed and the shard it replaced (whose word index is ``earlier(key)``),
    and every word of the shards after the first whose shape changed, then and now (a day's
    new pages, which come last). At 10,000 items, one edited page changes a few hundred of
    70,000 words."""
    shapes = tuple(_shape(shard) for shard in shards)
    since: _Since | None = None
    last = previous(shapes)
    if last is not None:
        since = _since(last, keys, shapes, earlier)
    del last  # not held while merging, unless taken
    files, words = _merge_all(shards, since)
    return files, MergedIndex(tuple(keys), shapes, words)


def kept_places(before: Sequence[ShardShape], after: Sequence[ShardShape]) -> int:
    """How many shards at the start of two merges have the same shapes (their pages have the
    same numbers in both)."""
    return next((number for number, (old, new) in enumerate(zip(before, after)) if old != new),
                min(len(before), len(after)))


def _since(last: MergedIndex, keys: Sequence[str], shapes: tuple[ShardShape, ...],
           earlier: Callable[[str], Mapping[str, WordTable] | None]) -> _Since | None:
    """What a merge of shards under ``keys`` (of ``shapes``) takes from the ``last`` one;
    None when nothing (no shard keeps its place, or a word index that changed cannot be
    read)."""
    places = kept_places(last.shapes, shapes)
    if not places:
        return None
    replaced = {}
    for number, (old, key) in enumerate(zip(last.keys[:places], keys)):
        if old != key:
            words = earlier(old)
            if words is None or set(words) != {language for language, *_ in shapes[number]}:
                return None
            replaced[number] = words
    gone = []
    for old in last.keys[places:]:
        if (words := earlier(old)) is None:
            return None
        gone.append(words)
    return _Since(last.words, replaced, places, tuple(gone))


def _merge_all(shards: Sequence[ShardBundle], since: _Since | None = None) -> tuple[BundleFiles, dict[str, MergedWords]]:
    """:func:`_merge` of every page of ``shards``, in their order (numbered on per language)."""
    parts: list[tuple[ShardBundle, _PageMaps]] = []
    counts: dict[str, int] = {}
    for shard in shards:
        maps: _PageMaps = {}
        for language, number in _numbered(shard.sort_values, counts):
            maps.setdefault(language, []).append(number)
        parts.append((shard, maps))
    return _merge(parts, [values for shard in shards for values in shard.sort_values], since)


def _shape(shard: ShardBundle) -> ShardShape:
    """The languages of a shard with their numbers of pages and metadata fields."""
    entry = json.loads(shard.files["pagefind-entry.json"])
    shape = []
    for language, info in sorted(entry["languages"].items()):
        name = f"pagefind.{info['hash']}.pf_meta"
        meta = read_pf(shard.files[name], name)
        shape.append((language, len(meta[1]), tuple(meta[5])))
    return tuple(shape)


@dataclass(frozen=True)
class _Since:
    """A merge made from an earlier one: its word index by language, the word indexes of the
    shards since replaced in their places, by the shard's number, how many shards kept their
    places (the shards after them are merged again) and the word indexes of the earlier
    merge's shards after those."""

    words: Mapping[str, MergedWords]
    replaced: Mapping[int, Mapping[str, WordTable]]
    places: int
    gone: tuple[Mapping[str, WordTable], ...]


def patch_shard(base: ShardBundle, delta: ShardBundle, pages: Sequence[tuple[str, str]],
                sort_values: Sequence[tuple[str, Mapping[str, str]]]) -> ShardBundle:
    """The bundle of a shard whose ``pages`` (output path and request digest, in order) are
    those of ``base`` (indexed by an earlier build), except the ones whose digest differs or
    that ``base`` lacks: those are taken from ``delta`` (a Pagefind run over such pages of
    any shards); ``base``'s other pages are left out. As if Pagefind had indexed ``pages``
    in one run (a page's index entry does not depend on the other pages of its run); the
    pages' ``sort_values`` as they are now."""
    sources = []
    for bundle in (base, delta):
        seen: dict[str, int] = {}
        positions = dict(zip(bundle.pages, _numbered(bundle.sort_values, seen)))
        maps: _PageMaps = {language: [None] * count for language, count in seen.items()}
        sources.append((positions, maps))
    for page, (language, number) in zip(pages, _numbered(sort_values, {})):
        for positions, maps in sources:
            if page in positions:
                found_language, local = positions[page]
                if found_language != language:
                    raise SearchIndexError(f"cannot patch the search index: /{page[0]} changed its language")
                maps[found_language][local] = number
                break
        else:
            raise SearchIndexError(f"cannot patch the search index: /{page[0]} is in neither bundle")
    [base] = with_words([base])
    files, words = _merge([(base, sources[0][1]), (delta, sources[1][1])], sort_values)
    patched = ShardBundle(dict(files.items()), list(sort_values), list(pages))
    base_words = base.words or {}
    if not set(words) <= set(base_words):  # a language the base has no page in
        return replace(patched, words=_read_words(patched))
    return replace(patched, words={language: _table_like(merged, base_words[language])
                                   for language, merged in words.items()})


def _numbered(sort_values: Iterable[tuple[str, Mapping[str, str]]],
              counts: dict[str, int]) -> Iterator[tuple[str, int]]:
    """Each page's language and its number among the pages of that language, counted on from
    ``counts`` (which it updates)."""
    for language, _ in sort_values:
        number = counts.get(language, 0)
        counts[language] = number + 1
        yield language, number


def _merge(parts: Sequence[tuple[ShardBundle, _PageMaps]], sort_values: Sequence[tuple[str, Mapping[str, str]]],
           since: _Since | None = None) -> tuple[BundleFiles, dict[str, MergedWords]]:
    """The bundle of the pages ``parts`` map (each bundle's pages to their numbers in the
    result, per language), their ``sort_values`` in the result's order, and its word index
    by language; from the merge ``since`` where it is given."""
    read = with_words([shard for shard, _ in parts])
    parts = [(shard, maps) for shard, (_, maps) in zip(read, parts)]
    entries = [json.loads(shard.files["pagefind-entry.json"]) for shard, _ in parts]
    for entry in entries:
        check_version(entry)
    merged = BundleFiles()
    for name, data in parts[0][0].files.items():
        if is_asset(name):
            merged[name] = data
    entry = dict(entries[0])
    entry["languages"] = {}
    languages = sorted({language for e in entries for language in e["languages"]})
    words: dict[str, MergedWords] = {}
    for language in languages:
        present: list[tuple[ShardBundle, list[Any], list[int | None]]] = []
        replaced: dict[int, WordTable] = {}  # by the number in ``present``
        moved = 0  # the number in ``present`` of the first shard after those in their places
        for shard_number, ((shard, maps), shard_entry) in enumerate(zip(parts, entries)):
            info = shard_entry["languages"].get(language)
            if info is None:
                continue
            name = f"pagefind.{info['hash']}.pf_meta"
            meta = read_pf(shard.files[name], name)
            page_map = maps.get(language, [])
            if len(page_map) != len(meta[1]):
                raise SearchIndexError(f"cannot merge the search index: {len(meta[1])} pages in {language}, "
                                       f"{len(page_map)} sent")
            if any(number is not None for number in page_map):
                if since is not None and language in since.replaced.get(shard_number, {}):
                    replaced[len(present)] = since.replaced[shard_number][language]
                present.append((shard, meta, page_map))
                if since is not None and shard_number < since.places:
                    moved = len(present)
        if not present:
            continue
        values = [sorts for page_language, sorts in sort_values if page_language == language]
        earlier = None
        if since is not None and language in since.words:
            gone = [tables[language] for tables in since.gone if language in tables]
            earlier = _Earlier(since.words[language], replaced, moved, gone)
        meta, words[language] = _merge_language(present, values, language, merged, earlier)
        for shard, shard_meta, page_map in present:  # the fragments of the pages kept
            for local, number in enumerate(page_map):
                if number is not None:  # named by content: a page twice is one fragment, as in one run
                    name = f"fragment/{shard_meta[1][local][0]}.pf_fragment"
                    merged[name] = shard.files[name]
        meta_hash, blob = _write_pf(meta, language, 13)
        merged[f"pagefind.{meta_hash}.pf_meta"] = blob
        wasm = next(e["languages"][language].get("wasm") for e in entries if language in e["languages"])
        entry["languages"][language] = {"hash": meta_hash, "wasm": wasm, "page_count": len(meta[1])}
    merged["pagefind-entry.json"] = json.dumps(entry, ensure_ascii=False).encode("utf-8")
    return merged, words


@dataclass(frozen=True)
class _Earlier:
    """One language's word index as an earlier merge made it; the word tables of the shards
    (by their number in the merge's ``present``) that changed since in their places, the
    number of the first shard not in its place and the tables of the earlier merge's shards
    from there on."""

    words: MergedWords
    replaced: Mapping[int, WordTable]
    moved: int
    gone: list[WordTable]

    def changed(self, tables: list[WordTable], maps: list[_PageMap]) -> _Changes | None:
        """The words of the merge of ``tables`` to merge again; None when they are over half
        the words (a whole merge is then faster). The words of the shards from ``moved`` on
        are joined onto their entries' parts before those shards when the earlier merge's
        shards from there on were one at most (its last shard, whose part ends each entry),
        and the pages of those shards are all kept and numbered on."""
        joined = {word for number, table in self.replaced.items() for word in _differing_words(table, tables[number])}
        moved = {word for table in [*tables[self.moved:], *self.gone] for word in table.words}
        if len(joined | moved) > len(self.words.words) // 2:
            return None
        if len(self.gone) > 1 or any(page_map.offset is None for page_map in maps[self.moved:]):
            return _Changes(joined | moved, set())
        return _Changes(joined, moved - joined)

    def on_kept_last(self, word: str, tables: list[WordTable]) -> bool:
        """Whether ``word`` is on the pages of the last of ``tables`` while that shard is in
        its place (none moved after it): an entry taken as it was does not say where that
        shard's part begins."""
        return bool(tables) and self.moved == len(tables) and bool(_parts_of(word, tables, len(tables) - 1))


@dataclass(frozen=True)
class _Changes:
    """The words a merge from an earlier one makes again: ``joined`` from every shard that
    has them, ``appended`` from the earlier entry's part before the shards that moved, and
    those shards' parts."""

    joined: set[str]
    appended: set[str]


def _merge_language(present: list[tuple[ShardBundle, list[Any], list[int | None]]],
                    sort_values: Sequence[Mapping[str, str]], language: str, merged: BundleFiles,
                    earlier: _Earlier | None) -> tuple[list[Any], MergedWords]:
    """The metadata of one language's merged index and its word index; its word and filter
    files go into ``merged``; from the word index an ``earlier`` merge made when given."""
    total = sum(1 for _, _, page_map in present for number in page_map if number is not None)
    pages: list[Any] = [None] * total
    for _, meta, page_map in present:
        for local, number in enumerate(page_map):
            if number is not None:
                pages[number] = meta[1][local]
    if any(page is None for page in pages) or len(sort_values) != total:
        raise SearchIndexError(f"cannot merge the search index: the pages in {language} do not add up")
    fields = sorted({field for _, meta, _ in present for field in meta[5]})
    field_maps = [[fields.index(field) for field in meta[5]] for _, meta, _ in present]
    tables = [shard.words[language] for shard, _, _ in present if shard.words is not None]
    maps = [_PageMap.of(page_map) for _, _, page_map in present]
    changes = earlier.changed(tables, maps) if earlier is not None else None
    if earlier is not None and changes is not None:
        stream = _updated_words(earlier, changes, tables, maps, field_maps)
    else:
        stream = _merged_words(tables, maps, field_maps)
    kept: list[str] = []
    ends = array("q")
    parts = array("i")
    chunks = write_word_chunks(_noted(stream, kept, ends, parts), merged, language)  # (its chunks are views of its data)
    if not chunks.listed:
        raise SearchIndexError("the search index has no words")
    filters = _merge_filters(present, language, merged)
    sorts = _sorts(sort_values)
    version = present[0][1][0]
    return [version, pages, chunks.listed, filters, sorts, fields], MergedWords(kept, chunks.data, ends, parts)


_Merged = tuple[str, bytes, Sequence[int]]
"""A word of a merged index, its entry and where the entry has its last shard's postings
(a :class:`LastPart`, or its five numbers as a merge kept them)."""


def _noted(stream: Iterable[_Merged], words: list[str], ends: array[int],
           parts: array[int]) -> Iterator[tuple[str, bytes]]:
    """Each word of ``stream`` and its entry, noted in ``words``, ``ends`` (where its entry
    ends, the entries one after another) and ``parts`` (its :class:`LastPart`) as it passes."""
    end = 0
    for word, entry, last_part in stream:
        words.append(word)
        end += len(entry)
        ends.append(end)
        parts.extend(last_part)
        yield word, entry


def _differing_words(old: WordTable, new: WordTable) -> Iterator[str]:
    """The words whose entries differ between two word tables of a shard (in one only, or
    encoded otherwise)."""
    old_words, new_words = old.words, new.words
    i = j = 0
    while i < len(old_words) and j < len(new_words):
        if old_words[i] == new_words[j]:
            if old.encoded(i) != new.encoded(j):
                yield new_words[j]
            i += 1
            j += 1
        elif old_words[i] < new_words[j]:
            yield old_words[i]
            i += 1
        else:
            yield new_words[j]
            j += 1
    yield from old_words[i:]
    yield from new_words[j:]


def _updated_words(earlier: _Earlier, changes: _Changes, tables: list[WordTable], maps: list[_PageMap],
                   field_maps: list[list[int]]) -> Iterator[_Merged]:
    """The merged word index of ``tables``, taken from the ``earlier`` merge's (of tables
    that differed in the changed words only, numbered alike) but for the words of
    ``changes``, in order: those ``joined`` merged again from every table that has them,
    those ``appended`` from their earlier entries' parts before the tables that moved."""
    previous = earlier.words
    identity = [field_map == list(range(len(field_map))) for field_map in field_maps]
    fresh: list[tuple[str, bytes | None, LastPart]] = []
    for word in sorted(changes.joined | changes.appended):
        made = None
        if word in changes.appended:
            made = _appended(word, previous, earlier, tables, maps, field_maps, identity)
        if made is None:
            parts = _parts_of(word, tables, 0)
            made = _taken(parts, maps, field_maps, identity, len(tables) - 1) if parts else (None, _UNKNOWN)
        fresh.append((word, *made))
    same_last = earlier.moved == len(tables) and not earlier.gone  # the last shard is the last merge's
    taken = 0  # of ``fresh``
    for position, word in enumerate(previous.words):
        while taken < len(fresh) and fresh[taken][0] < word:  # a word new since
            yield from _if_any(fresh[taken])
            taken += 1
        if taken < len(fresh) and fresh[taken][0] == word:  # a word merged again (or gone: None)
            yield from _if_any(fresh[taken])
            taken += 1
            continue
        entry = previous.encoded(position)
        if same_last:
            yield word, entry, previous.parts[5 * position:5 * position + 5]
            continue
        # not on the last shard's pages (its words are merged again), but maybe on those of a
        # shard in its place that is last now
        yield word, entry, _UNKNOWN if earlier.on_kept_last(word, tables) else \
            _without_last(entry, previous.last_part(position))
    for item in fresh[taken:]:
        yield from _if_any(item)


def _parts_of(word: str, tables: list[WordTable], start: int) -> list[_Part]:
    """The entries of ``word`` in ``tables`` from the one numbered ``start`` on."""
    parts: list[_Part] = []
    for number in range(start, len(tables)):
        table = tables[number]
        position = bisect_left(table.words, word)
        if position < len(table.words) and table.words[position] == word:
            parts.append((number, table, position))
    return parts


def _without_last(entry: bytes, last_part: LastPart) -> LastPart:
    """Where ``entry``'s last shard's postings would begin if it has none there (it has no
    part on the last shard's pages): at its postings' end."""
    if last_part.at < 0 or entry[-1:] != _EMPTY_ARRAY:
        return _UNKNOWN
    return _none_on_last(len(entry) - 1, last_part.total, last_part.last_page)


def _appended(word: str, previous: MergedWords, earlier: _Earlier, tables: list[WordTable], maps: list[_PageMap],
              field_maps: list[list[int]], identity: list[bool]) -> tuple[bytes | None, LastPart] | None:
    """The entry of ``word`` made of its ``previous`` entry's postings before the tables
    that moved since (up to its last shard's part when that shard is ``gone``, else all of
    them) and its parts in the tables from ``earlier.moved`` on; None when the previous
    entry does not say where its last shard's part begins, or has extras (the extras of the
    part it leaves out cannot be told apart): the word is then joined from every table."""
    position = bisect_left(previous.words, word)
    prefix = None
    if position < len(previous.words) and previous.words[position] == word:
        entry, last_part = previous.encoded(position), previous.last_part(position)
        if last_part.at < 0 or entry[-1:] != _EMPTY_ARRAY:
            return None
        if earlier.gone:
            end, count, page = last_part.at, last_part.before, last_part.before_page
        else:
            end, count, page = len(entry) - 1, last_part.total, last_part.last_page
        if count:
            text_end, start, _ = _entry_parts(entry)
            prefix = _Prefix(entry[:text_end], entry[start:end], count, page)
    parts = _parts_of(word, tables, earlier.moved)
    if parts:
        return _joined(parts, maps, field_maps, identity, len(tables) - 1, prefix)
    if prefix is None:
        return None, _UNKNOWN  # on none of the pages now
    entry = prefix.head + cbor_head(4, prefix.total) + prefix.postings + _EMPTY_ARRAY
    if earlier.on_kept_last(word, tables):
        return entry, _UNKNOWN
    return entry, _none_on_last(len(entry) - 1, prefix.total, prefix.last_page)


def _if_any(item: tuple[str, bytes | None, LastPart]) -> Iterator[_Merged]:
    """A word, its entry and its last part, unless it has no entry (it is on no page)."""
    word, entry, last_part = item
    if entry is not None:
        yield word, entry, last_part


@dataclass(frozen=True)
class _PageMap:
    """Where a bundle's pages go in the merged bundle: ``numbers`` (None: left out), and
    ``offset`` when every page is kept and moved on by the same amount (its postings can then
    be joined as Pagefind wrote them)."""

    numbers: list[int | None]
    offset: int | None
    moved: list[int]  # the pages whose number changes (or that are left out), in order
    kept: list[int]  # the pages not left out, in order

    @classmethod
    def of(cls, numbers: list[int | None]) -> _PageMap:
        first = numbers[0] if numbers else 0
        shifted = first is not None and all(number == first + local for local, number in enumerate(numbers))
        moved = [local for local, number in enumerate(numbers) if number != local]
        kept = [local for local, number in enumerate(numbers) if number is not None]
        return cls(numbers, first if shifted else None, moved, kept)

    def keeps(self, first: int, last: int) -> bool:
        """Whether every page from ``first`` to ``last`` keeps its number."""
        at = bisect_left(self.moved, first)
        return at == len(self.moved) or self.moved[at] > last

    def leaves_out(self, first: int, last: int) -> bool:
        """Whether every page from ``first`` to ``last`` is left out."""
        if self.offset is not None:  # every page kept, moved on (most maps of a merge)
            return False
        at = bisect_left(self.kept, first)
        return at == len(self.kept) or self.kept[at] > last


def _numbered_words(number: int, table: WordTable) -> Iterator[tuple[str, int, int]]:
    """A shard's words in order, each with the shard's number (ties in a merge keep shard
    order) and its position in ``table``."""
    for position, word in enumerate(table.words):
        yield word, number, position


def _remap_meta_locations(locations: list[int], field_map: list[int]) -> list[int]:
    """A posting's metadata locations with each field number (``-(field + 1)`` before the
    positions in that field) renumbered into the merged list of fields."""
    return [-(field_map[-value - 1] + 1) if value < 0 else value for value in locations]


def _merged_words(tables: list[WordTable], maps: list[_PageMap], field_maps: list[list[int]]) -> Iterator[_Merged]:
    """Each word of the shards in order, its postings joined across the
    shards (page numbers moved on by each shard's offset). A word of one shard only keeps
    Pagefind's bytes (its first posting's page patched in place); a word of several shards
    is joined; a word of a shard whose pages are not simply moved on (a patched shard) is
    encoded again, without the postings of the pages left out (a word on no page is gone).
    In this process: forked workers, each merging a range of the words, took 13.3 s down
    to 10.9 at 100,000 items, but were forked from a build's process, which went on
    writing the memory they shared (at the merge's peak they held 850 MB of copies)."""
    streams = [_numbered_words(number, table) for number, table in enumerate(tables)]
    identity = [field_map == list(range(len(field_map))) for field_map in field_maps]
    last = len(tables) - 1
    parts: list[_Part] = []
    current = ""
    for word, number, position in heapq.merge(*streams):
        if parts and word != current:
            entry, last_part = _taken(parts, maps, field_maps, identity, last)
            if entry is not None:
                yield current, entry, last_part
            parts = []
        current = word
        parts.append((number, tables[number], position))
    if parts:
        entry, last_part = _taken(parts, maps, field_maps, identity, last)
        if entry is not None:
            yield current, entry, last_part


_Part = tuple[int, WordTable, int]
"""A word's entry in one shard: the shard's number, its word table, the word's position there."""


def _taken(parts: list[_Part], maps: list[_PageMap], field_maps: list[list[int]], identity: list[bool],
           last: int) -> tuple[bytes | None, LastPart]:
    """One word's entry in the merged index, from its entries in the shards, and where it
    has the postings of the shard numbered ``last``; None when it is on none of the pages
    kept."""
    # a shard's part on none of the pages kept adds nothing (a patch's fresh pages are
    # those of several shards: most of their words are on another shard's pages)
    parts = [part for part in parts if not _left_out(part, maps)]
    if not parts:
        return None, _UNKNOWN
    offsets = [maps[number].offset for number, _, _ in parts]
    if not all(offset is not None for offset in offsets):
        if len(parts) == 1 and identity[parts[0][0]]:  # (a patched shard's word on none of the pages
            number, table, position = parts[0]  # that changed: as it was, not decoded)
            first = table.first[position]
            if table.postings[position] and maps[number].keeps(first, first + table.span[position]):
                return table.encoded(position), _UNKNOWN
        return _remapped(parts, maps, field_maps, identity), _UNKNOWN
    if len(parts) == 1 and identity[parts[0][0]]:
        number, table, position = parts[0]
        encoded = table.encoded(position)
        entry = _moved_on(encoded, offsets[0]) if offsets[0] else encoded
        count = table.postings[position]
        page = table.first[position] + (offsets[0] or 0) if count else 0
        last_page = page + table.span[position]
        if number == last:
            return entry, LastPart(_entry_parts(entry)[1], 0, 0, count, last_page)
        return entry, _none_on_last(len(entry) - table.tail[position], count, last_page)
    return _joined(parts, maps, field_maps, identity, last)


def _left_out(part: _Part, maps: list[_PageMap]) -> bool:
    """Whether every posting of a word's part is on a page its shard's map leaves out."""
    number, table, position = part
    first = table.first[position]
    return table.postings[position] > 0 and maps[number].leaves_out(first, first + table.span[position])


class _Prefix(NamedTuple):
    """The start of a word's entry: its head (up to its postings), the bytes of its first
    ``total`` postings, and the page of the last of them."""

    head: bytes
    postings: bytes
    total: int
    last_page: int


def _entry_parts(encoded: bytes) -> tuple[int, int, int]:
    """Where a word's entry ``[word, postings, extras]`` has its postings: the end of the
    word's text, the start of the first posting, and how many postings there are."""
    _, _, position = read_cbor_head(encoded, 0)
    major, length, position = read_cbor_head(encoded, position)
    text_end = position + (length if major == 3 else 0)
    _, count, start = read_cbor_head(encoded, text_end)
    return text_end, start, count


def _with_first_page(encoded: bytes, start: int, page: int, relative: bool = False) -> bytes:
    """``encoded`` with the page of the posting at ``start`` (``[page, locations, ...]``, the
    page given as its difference from the previous posting's) set to ``page`` (moved on by
    ``page`` when ``relative``)."""
    _, _, page_at = read_cbor_head(encoded, start)
    major, old, after = read_cbor_head(encoded, page_at)
    if major != 0:
        raise SearchIndexError("unexpected Pagefind word index format")
    return encoded[:page_at] + cbor_head(0, old + page if relative else page) + encoded[after:]


def _moved_on(encoded: bytes, offset: int) -> bytes:
    """A word's encoding with its first posting's page moved on by ``offset`` (postings give
    each page as its difference from the previous one, so the others stay)."""
    _, start, count = _entry_parts(encoded)
    return _with_first_page(encoded, start, offset, relative=True) if count else encoded


def _joined(parts: list[_Part], maps: list[_PageMap], field_maps: list[list[int]], identity: list[bool],
            last: int, prefix: _Prefix | None = None) -> tuple[bytes, LastPart]:
    """One word's parts from several shards as one entry, pages numbered on, after the
    postings of a ``prefix`` when given (with no extras); and where the entry has the
    postings of the shard numbered ``last``. The postings are joined as Pagefind wrote them
    (each part's first posting's page patched); only the postings of a part whose metadata
    fields are numbered otherwise are decoded and encoded again."""
    import cbor2

    head = b""
    postings: list[bytes] = []
    size = count = 0  # of the postings so far
    extras: list[Any] | None = None
    last_page = 0  # the absolute page of the joined postings' last one
    if prefix is not None:
        head, extras, count, last_page = prefix.head, [], prefix.total, prefix.last_page
        postings.append(prefix.postings)
        size = len(prefix.postings)
    at = None
    for number, table, position in parts:
        if number == last:
            at = (size, count, last_page)
        encoded = table.encoded(position)
        text_end, start, _ = _entry_parts(encoded)
        raw = encoded[start:len(encoded) - table.tail[position]]
        if table.postings[position]:
            first = table.first[position] + (maps[number].offset or 0)
            delta = first - last_page
            last_page = first + table.span[position]
            if not identity[number] and table.meta[position]:
                decoded = cbor2.loads(encoded)  # [word, postings, extras]
                for posting in decoded[1]:
                    if len(posting) > 2:
                        posting[2] = _remap_meta_locations(posting[2], field_maps[number])
                decoded[1][0][0] = delta
                raw = bytes(cbor2.dumps(decoded[1]))[len(cbor_head(4, len(decoded[1]))):]
            elif delta != table.first[position]:
                raw = _with_first_page(raw, 0, delta)
        if extras is None:
            head, extras = encoded[:text_end], table.extras(position)
        else:
            extras = extras + [value for value in table.extras(position) if value not in extras]
        postings.append(raw)
        size += len(raw)
        count += table.postings[position]
    start = len(head) + len(cbor_head(4, count))
    offset, before, before_page = at if at is not None else (size, count, last_page)
    entry = head + cbor_head(4, count) + b"".join(postings) + bytes(cbor2.dumps(extras))
    return entry, LastPart(start + offset, before, before_page, count, last_page)


def _remapped(parts: list[_Part], maps: list[_PageMap], field_maps: list[list[int]],
              identity: list[bool]) -> bytes | None:
    """One word's parts as one entry, each posting's page renumbered by its shard's map and
    the postings of pages left out dropped, the postings in page order and encoded again;
    None when no posting is left."""
    import cbor2

    kept: list[tuple[int, list[Any]]] = []
    head = b""
    extras: list[Any] | None = None
    for number, table, position in parts:
        encoded = table.encoded(position)
        decoded = cbor2.loads(encoded)  # [word, postings, extras]
        numbers = maps[number].numbers
        if len(parts) == 1 and identity[number] and _same_pages(decoded[1], numbers):
            return encoded  # on none of the pages left out or moved (a patched shard's other words)
        page = 0
        found = False
        for posting in decoded[1]:
            page += posting[0]
            now = numbers[page]
            if now is None:
                continue
            posting = list(posting)
            if not identity[number] and len(posting) > 2 and posting[2]:
                posting[2] = _remap_meta_locations(posting[2], field_maps[number])
            kept.append((now, posting))
            found = True
        if not found:
            continue
        if extras is None:
            head, extras = encoded[:_entry_parts(encoded)[0]], decoded[2]
        else:
            extras = extras + [value for value in decoded[2] if value not in extras]
    if not kept:
        return None
    kept.sort(key=lambda item: item[0])
    postings = []
    previous = 0
    for page, posting in kept:
        posting[0] = page - previous
        previous = page
        postings.append(posting)
    # an array's encoding is its head and its items' encodings: one call encodes them all
    return head + bytes(cbor2.dumps(postings)) + bytes(cbor2.dumps(extras))


def _same_pages(postings: list[list[Any]], numbers: list[int | None]) -> bool:
    """Whether the pages of ``postings`` (each given as its difference from the previous
    one's) keep their numbers in ``numbers``."""
    page = 0
    for posting in postings:
        page += posting[0]
        if numbers[page] != page:
            return False
    return True


def _merge_filters(present: list[tuple[ShardBundle, list[Any], list[int | None]]], language: str,
                   merged: BundleFiles) -> list[list[str]]:
    """Join each filter's values across the shards, each page renumbered (a value on no page
    kept is gone), and write them sorted (Pagefind writes them in hash-map order, which
    changes from run to run); returns the ``[name, hash]`` list, by name."""
    values: dict[str, dict[str, list[int]]] = {}
    for shard, meta, numbers in present:
        for name, filter_hash in meta[3]:
            path = f"filter/{filter_hash}.pf_filter"
            data = read_pf(shard.files[path], path)
            for value, pages in data[1]:
                now = [number for page in pages if (number := numbers[page]) is not None]
                if now:
                    values.setdefault(name, {}).setdefault(value, []).extend(now)
    listed = []
    for name in sorted(values):
        filter_hash, raw = encode_pf([name, [[value, sorted(pages)] for value, pages in sorted(values[name].items())]],
                                     language, 7)
        merged.pack(f"filter/{filter_hash}.pf_filter", raw, level=PF_LEVEL)  # compressed if not the last build's
        listed.append([name, filter_hash])
    return listed


_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?|inf|infinity)", re.I)
"""A sort value Pagefind reads as a number (Rust's ``f32`` syntax; NaN left out: it has no order)."""


def _sorts(sort_values: Sequence[Mapping[str, str]]) -> list[list[Any]]:
    """Each sort's pages (numbered as in ``sort_values``) in the order of their sort values,
    as one Pagefind run orders them: as numbers (32-bit floats) when every value of the sort
    is one, else as text by code point; equal values in page order. The values are the pages'
    own (the shards' bundles are not read for them), so a kept shard takes its pages' values
    as they are now."""
    values: dict[str, list[tuple[str, int]]] = {}
    for page, sorts in enumerate(sort_values):
        for name, value in sorts.items():
            values.setdefault(name, []).append((value, page))
    merged = []
    for name in sorted(values):
        pairs = values[name]
        if all(_NUMBER.fullmatch(value) for value, _ in pairs):
            order = sorted(pairs, key=lambda pair: (_as_f32(pair[0]), pair[1]))
        else:
            order = sorted(pairs, key=lambda pair: (pair[0], pair[1]))
        merged.append([name, [page for _, page in order]])
    return merged


def _as_f32(value: str) -> float:
    """``value`` read as Pagefind reads a numeric sort value (a 32-bit float)."""
    number: float = struct.unpack("f", struct.pack("f", float(value)))[0]
    return number
