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

Memory stays bounded: the word index is merged as a stream, one chunk of each shard at a time,
and written in the chunks the browser loads (no second pass over it).
"""

from __future__ import annotations

import heapq
import json
import re
import struct
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sitegen.parallel import fork_workers, forked_map
from sitegen.search.bundle import (
    SearchIndexError,
    _write_pf,
    cbor_head,
    check_version,
    decoded_words,
    read_cbor_head,
    read_pf,
    write_word_chunks,
)

__all__ = ["ShardBundle", "merge_shards"]


@dataclass(frozen=True)
class ShardBundle:
    """A bundle Pagefind wrote for a run of consecutive pages, and each page's language and
    sort values (``{sort name: value}``, as ``data-pagefind-sort`` gives them), in the order
    the pages were sent."""

    files: dict[str, bytes]
    sort_values: Sequence[tuple[str, Mapping[str, str]]]


def merge_shards(shards: Sequence[ShardBundle]) -> dict[str, bytes]:
    """One bundle, as Pagefind writes it, of the pages of ``shards`` in their order; of
    several shards, with its word index already cut as
    :func:`~sitegen.search.bundle.normalise_bundle` cuts it (pass ``chunked=True``)."""
    if len(shards) == 1:
        return _with_sorts(shards[0])
    entries = [json.loads(shard.files["pagefind-entry.json"]) for shard in shards]
    for entry in entries:
        check_version(entry)
    merged: dict[str, bytes] = {}
    for name, data in shards[0].files.items():  # pagefind.js, its worker, the WebAssembly, the UIs
        if not (name.startswith(("index/", "fragment/", "filter/")) or name.endswith(".pf_meta")
                or name == "pagefind-entry.json"):
            merged[name] = data
    for shard in shards:
        for name, data in shard.files.items():
            if name.startswith("fragment/"):
                merged[name] = data  # named by content: a page twice is one fragment, as in one run
    entry = dict(entries[0])
    entry["languages"] = {}
    languages = sorted({language for e in entries for language in e["languages"]})
    for language in languages:
        metas: list[list[Any] | None] = []
        for shard, shard_entry in zip(shards, entries):
            info = shard_entry["languages"].get(language)
            if info is None:
                metas.append(None)
                continue
            name = f"pagefind.{info['hash']}.pf_meta"
            metas.append(read_pf(shard.files[name], name))
        meta = _merge_language(shards, metas, language, merged)
        meta_hash, blob = _write_pf(meta, language, 13)
        merged[f"pagefind.{meta_hash}.pf_meta"] = blob
        wasm = next(e["languages"][language].get("wasm") for e in entries if language in e["languages"])
        entry["languages"][language] = {"hash": meta_hash, "wasm": wasm, "page_count": len(meta[1])}
    merged["pagefind-entry.json"] = json.dumps(entry, ensure_ascii=False).encode("utf-8")
    return merged


def _merge_language(shards: Sequence[ShardBundle], metas: list[list[Any] | None], language: str,
                    merged: dict[str, bytes]) -> list[Any]:
    """The metadata of one language's merged index; its word and filter files go into ``merged``."""
    present = [(shard, meta) for shard, meta in zip(shards, metas) if meta is not None]
    offsets, total = [], 0
    for _, meta in present:
        offsets.append(total)
        total += len(meta[1])
    fields = sorted({field for _, meta in present for field in meta[5]})
    field_maps = [[fields.index(field) for field in meta[5]] for _, meta in present]
    pages = [page for _, meta in present for page in meta[1]]
    chunks = write_word_chunks(_merged_words(present, offsets, field_maps), merged, language)
    if not chunks:
        raise SearchIndexError("the search index has no words")
    filters = _merge_filters(present, offsets, language, merged)
    sorts = _merge_sorts(present, offsets, language)
    version = present[0][1][0]
    return [version, pages, chunks, filters, sorts, fields]


_LAST_CHARACTER = "\U0010ffff"
_CHUNKS_PER_RANGE = 200
"""Chunks of the shards' word indexes that make a range worth a forked worker."""


def _numbered_words(number: int, shard: ShardBundle, meta: list[Any],
                    bounds: tuple[str, str | None]) -> Iterator[tuple[str, int, bytes, list[Any]]]:
    """A shard's words from ``bounds[0]`` up to ``bounds[1]`` (None: to the end) in order,
    each tagged with the shard's number (ties in a merge keep shard order), with its
    encoding and its decoded value; one chunk in memory at a time, and only the chunks
    whose range meets the bounds (a chunk's range is given by prefixes of its first and
    last words)."""
    low, high = bounds
    for from_word, to_word, chunk_hash in meta[2]:
        if (high is not None and from_word >= high) or to_word + _LAST_CHARACTER < low:
            continue
        name = f"index/{chunk_hash}.pf_index"
        for word, encoded, decoded in decoded_words(shard.files[name], name):
            if word >= low and (high is None or word < high):
                yield word, number, encoded, decoded


def _merged_words(present: list[tuple[ShardBundle, list[Any]]], offsets: list[int],
                  field_maps: list[list[int]]) -> Iterator[tuple[str, bytes]]:
    """:func:`_merge_words` over the whole index, spread by word ranges over forked workers
    on a big index (the ranges cut where the shards' chunks begin, evenly by chunk)."""
    starts = sorted(from_word for _, meta in present for from_word, _, _ in meta[2])
    workers = fork_workers(len(starts) // _CHUNKS_PER_RANGE)
    if workers < 2:
        yield from _merge_words(present, offsets, field_maps, ("", None))
        return
    cuts = sorted({starts[len(starts) * n // workers] for n in range(1, workers)} - {""})
    ranges: list[tuple[str, str | None]] = list(zip(["", *cuts], [*cuts, None]))
    for words in forked_map(_merge_range, (present, offsets, field_maps), ranges, workers):
        yield from words


def _merge_range(shared: tuple[list[tuple[ShardBundle, list[Any]]], list[int], list[list[int]]],
                 bounds: tuple[str, str | None]) -> list[tuple[str, bytes]]:
    """In a forked worker: the merged words of one range."""
    present, offsets, field_maps = shared
    return list(_merge_words(present, offsets, field_maps, bounds))


def _remap_meta_locations(locations: list[int], field_map: list[int]) -> list[int]:
    """A posting's metadata locations with each field number (``-(field + 1)`` before the
    positions in that field) renumbered into the merged list of fields."""
    return [-(field_map[-value - 1] + 1) if value < 0 else value for value in locations]


def _merge_words(present: list[tuple[ShardBundle, list[Any]]], offsets: list[int], field_maps: list[list[int]],
                 bounds: tuple[str, str | None]) -> Iterator[tuple[str, bytes]]:
    """Each word of the shards within ``bounds`` in order, its postings joined across the
    shards (page numbers moved on by each shard's offset). A word of one shard only keeps
    Pagefind's bytes (its first posting's page patched in place); a word of several shards
    is joined."""
    streams = [_numbered_words(number, shard, meta, bounds) for number, (shard, meta) in enumerate(present)]
    identity = [field_map == list(range(len(field_map))) for field_map in field_maps]
    parts: list[_Part] = []
    current = ""
    for word, number, encoded, decoded in heapq.merge(*streams):
        if parts and word != current:
            yield current, _taken(parts, offsets, field_maps, identity)
            parts = []
        current = word
        parts.append((number, encoded, decoded))
    if parts:
        yield current, _taken(parts, offsets, field_maps, identity)


_Part = tuple[int, bytes, list[Any]]
"""A word's entry in one shard: the shard's number, the entry's encoding, its decoded value."""


def _taken(parts: list[_Part], offsets: list[int], field_maps: list[list[int]], identity: list[bool]) -> bytes:
    """One word's entry in the merged index, from its entries in the shards."""
    if len(parts) == 1 and identity[parts[0][0]]:
        number, encoded, _ = parts[0]
        return _moved_on(encoded, offsets[number]) if offsets[number] else encoded
    return _joined(parts, offsets, field_maps, identity)


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


def _joined(parts: list[_Part], offsets: list[int], field_maps: list[list[int]], identity: list[bool]) -> bytes:
    """One word's parts from several shards as one entry, pages numbered on. The postings
    are joined as Pagefind wrote them (each part's first posting's page patched); only the
    postings of a part whose metadata fields are numbered otherwise are encoded again."""
    import cbor2

    head = b""
    postings: list[bytes] = []
    count = 0
    extras: list[Any] | None = None
    last_page = 0  # the absolute page of the joined postings' last one
    for number, encoded, decoded in parts:  # decoded: [word, postings, extras]
        tail = bytes(cbor2.dumps(decoded[2]))
        if len(decoded) != 3 or not encoded.endswith(tail):  # Pagefind writes [word, postings, extras]
            raise SearchIndexError("unexpected Pagefind word index format")
        text_end, start, _ = _entry_parts(encoded)
        raw = encoded[start:len(encoded) - len(tail)]
        if decoded[1]:
            first = decoded[1][0][0] + offsets[number]
            delta = first - last_page
            last_page = first + sum(posting[0] for posting in decoded[1][1:])
            if not identity[number] and any(len(posting) > 2 and posting[2] for posting in decoded[1]):
                for posting in decoded[1]:
                    if len(posting) > 2:
                        posting[2] = _remap_meta_locations(posting[2], field_maps[number])
                decoded[1][0][0] = delta
                raw = bytes(cbor2.dumps(decoded[1]))[len(cbor_head(4, len(decoded[1]))):]
            elif delta != decoded[1][0][0]:
                raw = _with_first_page(raw, 0, delta)
        if extras is None:
            head, extras = encoded[:text_end], decoded[2]
        else:
            extras = extras + [value for value in decoded[2] if value not in extras]
        postings.append(raw)
        count += len(decoded[1])
    return head + cbor_head(4, count) + b"".join(postings) + bytes(cbor2.dumps(extras))


def _merge_filters(present: list[tuple[ShardBundle, list[Any]]], offsets: list[int], language: str,
                   merged: dict[str, bytes]) -> list[list[str]]:
    """Join each filter's values across the shards; returns the ``[name, hash]`` list."""
    values: dict[str, dict[str, list[int]]] = {}
    for (shard, meta), offset in zip(present, offsets):
        for name, filter_hash in meta[3]:
            path = f"filter/{filter_hash}.pf_filter"
            data = read_pf(shard.files[path], path)
            for value, pages in data[1]:
                values.setdefault(name, {}).setdefault(value, []).extend(page + offset for page in pages)
    listed = []
    for name in sorted(values):
        filter_hash, blob = _write_pf([name, [[value, pages] for value, pages in sorted(values[name].items())]],
                                      language, 7)
        merged[f"filter/{filter_hash}.pf_filter"] = blob
        listed.append([name, filter_hash])
    return listed


def _with_sorts(shard: ShardBundle) -> dict[str, bytes]:
    """The bundle of one shard, its sort orders made from its pages' sort values as they are
    now (a kept shard's pages can have new ones: an entity's last-seen date)."""
    files = dict(shard.files)
    entry = json.loads(files["pagefind-entry.json"])
    check_version(entry)
    for language, info in sorted(entry["languages"].items()):
        name = f"pagefind.{info['hash']}.pf_meta"
        meta = read_pf(files[name], name)
        meta[4] = _merge_sorts([(shard, meta)], [0], language)
        files[name] = _write_pf(meta, language, 1)[1]  # normalise_bundle names it by its contents
    return files


_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?|inf|infinity)", re.I)
"""A sort value Pagefind reads as a number (Rust's ``f32`` syntax; NaN left out: it has no order)."""


def _merge_sorts(present: list[tuple[ShardBundle, list[Any]]], offsets: list[int], language: str) -> list[list[Any]]:
    """Each sort's pages in the order of their sort values, as one Pagefind run orders them:
    as numbers (32-bit floats) when every value of the sort is one, else as text by code
    point; equal values in page order. The values are the pages' own (the shards' bundles are
    not read for them), so a kept shard takes its pages' values as they are now."""
    values: dict[str, list[tuple[str, int]]] = {}
    for (shard, meta), offset in zip(present, offsets):
        mine = [sorts for page_language, sorts in shard.sort_values if page_language == language]
        if len(mine) != len(meta[1]):
            raise SearchIndexError(f"cannot merge the search index: {len(meta[1])} pages in {language}, "
                                   f"{len(mine)} sent")
        for page, sorts in enumerate(mine):
            for name, value in sorts.items():
                values.setdefault(name, []).append((value, page + offset))
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
