"""A site indexed in shards (a Pagefind run per run of pages) and merged is the index one run
makes: the same pages in the same order, each word on the same pages at the same places, the
same filter values on the same pages, the same sort orders and metadata fields. Measured on
the sample site cut into shards of 50, 97 and 1 page(s), in Pagefind's own format as it
wrote it, before sitegen rewrites the bundle; then the published bundle searched in Chromium.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from sitegen import search
from sitegen.search import bundle as pf_format
from sitegen.search import merge
from sitegen.search.merge import ShardBundle, merge_shards
from tests.conftest import folder_files
from tests.test_search_index import site_aliases, write_bundle


def _as_pagefind_wrote(pages, aliases, shard_pages: int, monkeypatch) -> pf_format.BundleFiles:
    """The bundle of ``pages`` before sitegen rewrites it; of one shard, with the sort orders
    Pagefind made (sitegen makes them from the pages' sort values)."""
    monkeypatch.setattr(search, "normalise_bundle", lambda files: None)
    with monkeypatch.context() as patched:
        patched.setattr(search, "merge_shards", _one_as_pagefind_wrote)
        patched.setattr(search, "without_word_chunks", lambda shard: shard)  # the one shard's files whole
        return search.index_site(pages, aliases=aliases, cut=search.ShardCut.every(shard_pages)).files


def _one_as_pagefind_wrote(shards: list[ShardBundle]) -> pf_format.BundleFiles:
    return pf_format.BundleFiles(shards[0].files.items()) if len(shards) == 1 else merge_shards(shards)


def _decoded(files: Mapping[str, bytes]) -> dict[str, Any]:
    """Everything a bundle says, independent of file names and of the order of postings."""
    entry = json.loads(files["pagefind-entry.json"])
    found: dict[str, Any] = {"version": entry["version"]}
    for language, info in sorted(entry["languages"].items()):
        meta = pf_format.read_pf(files[f"pagefind.{info['hash']}.pf_meta"], "meta")
        fields = meta[5]
        words: dict[str, Any] = {}
        for _, _, chunk in meta[2]:
            for word in pf_format.read_pf(files[f"index/{chunk}.pf_index"], chunk)[0]:
                postings = {}
                page = 0
                for posting in word[1]:  # each page given as its difference from the previous one
                    page += posting[0]
                    named = [f"field:{fields[-v - 1]}" if v < 0 else v for v in posting[2]] if len(posting) > 2 else []
                    postings[page] = (posting[1], named)
                assert word[0] not in words
                words[word[0]] = (postings, word[2])
        filters = {}
        for name, filter_hash in meta[3]:
            data = pf_format.read_pf(files[f"filter/{filter_hash}.pf_filter"], filter_hash)
            filters[name] = {value: sorted(pages) for value, pages in data[1]}
        found[language] = {"pages": meta[1], "page_count": info["page_count"], "words": words, "filters": filters,
                           "sorts": {name: pages for name, pages in meta[4]}, "fields": sorted(fields)}
        found[language]["fragments"] = {page[0]: files[f"fragment/{page[0]}.pf_fragment"] for page in meta[1]}
    return found


@pytest.fixture(scope="module")
def sample_pages(built_site: Path) -> list[tuple[str, bytes]]:
    return search.searchable_pages(built_site)


@pytest.mark.parametrize("shard_pages", [50, 97, 1])
def test_merged_shards_say_what_one_run_says(sample_pages, site_root, shard_pages, monkeypatch) -> None:
    aliases = site_aliases(site_root)
    one_run = _decoded(_as_pagefind_wrote(sample_pages, aliases, 10_000, monkeypatch))
    merged = _decoded(_as_pagefind_wrote(sample_pages, aliases, shard_pages, monkeypatch))
    assert one_run["version"] == merged["version"] == pf_format.PAGEFIND_VERSION
    one, many = one_run["zh-cn"], merged["zh-cn"]
    assert many["pages"] == one["pages"] and many["page_count"] == one["page_count"] == len(sample_pages)
    assert many["fields"] == one["fields"] and many["fragments"] == one["fragments"]
    assert many["sorts"] == one["sorts"]
    assert many["filters"] == one["filters"]
    assert many["words"].keys() == one["words"].keys()
    differing = [w for w in one["words"] if one["words"][w] != many["words"][w]]
    assert not differing, [(w, one["words"][w], many["words"][w]) for w in differing[:3]]


@pytest.mark.parametrize("shard_pages", [40, 200])
def test_the_published_bundle_of_shards_is_the_one_run_bundle_byte_for_byte(sample_pages, site_root, built_site,
                                                                             tmp_path, shard_pages) -> None:
    """The sample site is built in one run (211 pages); indexed in shards of 40 (six runs) or
    200 (two), the bundle sitegen publishes is the same, file for file and byte for byte."""
    sharded = search.index_site(sample_pages, aliases=site_aliases(site_root), cut=search.ShardCut.every(shard_pages))
    write_bundle(sharded, tmp_path / "pagefind")
    published = folder_files(built_site / "pagefind")
    assert sharded.pages == len(sample_pages) == 211
    assert sharded.files == published


def _sorted_page(number: int, sorts: dict[str, str]) -> tuple[str, bytes]:
    spans = "".join(f'<span hidden data-pagefind-sort="{name}:{value}"></span>' for name, value in sorts.items())
    html = (f'<!doctype html><html lang="zh-cn"><body><main data-pagefind-body>{spans}<p>第{number}页 内容</p>'
            f"</main></body></html>")
    return f"p{number:02d}/index.html", html.encode("utf-8")


# a sort Pagefind orders as numbers (every value is one: 9 before 10), one it orders as text
# (not every value is a number: "10" before "9"), ties, and pages without the sort
_SORTED = [{"n": "10", "t": "10"}, {"n": "9", "t": "9"}, {"n": "-2", "t": "b"}, {"n": "1.5", "t": "a b"},
           {"n": "0", "t": "2024-01-01 x10"}, {"n": "1e1", "t": "2024-01-01 x9"}, {"t": "b"}, {"n": ".5"}, {}]


@pytest.mark.parametrize("shard_pages", [2, 100])
def test_sort_orders_are_made_as_one_pagefind_run_makes_them(shard_pages, monkeypatch) -> None:
    pages = [_sorted_page(n, sorts) for n, sorts in enumerate(_SORTED)]
    one_run = _decoded(_as_pagefind_wrote(pages, search.NO_ALIASES, 100, monkeypatch))["zh-cn"]["sorts"]
    made = _decoded(search.index_site(pages, cut=search.ShardCut.every(shard_pages)).files)["zh-cn"]["sorts"]
    assert one_run["n"] == [2, 4, 7, 3, 1, 0, 5]  # numbers, ties (10 and 1e1) in page order
    assert one_run["t"] == [0, 4, 5, 1, 3, 2, 6]  # text by code point, ties in page order
    assert made == one_run


def test_a_kept_shard_takes_its_pages_sort_values_as_they_are_now(tmp_path) -> None:
    """A page whose sort value alone changed (an entity's last-seen date) leaves its shard
    as it was: the order comes from the values the build gives now."""
    pages = [_sorted_page(n, {"date": f"2024-01-0{n + 1}"}) for n in range(4)]
    cache = search.ShardCache(tmp_path / "shards")
    index = search.SearchIndex(search.ShardCut.every(100), cache)
    for number, (relpath, html) in enumerate(pages):
        request = search.index_request(number, relpath, html)
        assert request is not None
        index.add(relpath, request)
    index.finish()
    kept = cache.get(index.keys[0])
    assert kept is not None
    now = [("zh-cn", {"date": value}) for value in ("2024-01-01", "2024-03-01", "2024-01-03", "2024-01-04")]
    files = merge_shards([dataclasses.replace(kept, sort_values=now)])  # as a build takes it
    entry = json.loads(files["pagefind-entry.json"])
    meta = pf_format.read_pf(files[f"pagefind.{entry['languages']['zh-cn']['hash']}.pf_meta"], "meta")
    assert meta[4] == [["date", [0, 2, 3, 1]]]


def test_the_merge_is_a_stage_of_its_own(sample_pages, site_root) -> None:
    from sitegen.progress import Progress

    class Stages(Progress):
        def __init__(self) -> None:
            self.labels: list[str] = []

        def stage(self, label: str, total: int | None = None) -> None:
            self.labels.append(label)

    stages = Stages()
    search.index_site(sample_pages, stages, aliases=site_aliases(site_root), cut=search.ShardCut.every(50))
    assert "search index: merging 5 shards" in stages.labels  # 211 pages: 50, 50, 50, 50, 11
    assert stages.labels[-1] == "search index: merging 5 shards"


def test_a_patched_shard_is_what_one_run_over_its_pages_makes(sample_pages, site_root, monkeypatch) -> None:
    """A shard whose pages changed a little (three edited, one gone, one new) is its kept
    bundle with the changed pages indexed in a run of their own: the same bundle as one run
    over the shard's pages as they are now, words, filters, sorts and fragments alike."""
    aliases = site_aliases(site_root)
    before = sample_pages[:60]
    edited = {before[n][0]: before[n][1].replace(b"</h1>", "</h1><p>编辑补充的一句话，包括新词甲乙丙。</p>".encode(), 1)
              for n in (3, 20, 41)}
    assert all(edited[relpath] != html for relpath, html in before if relpath in edited)
    after = [(relpath, edited.get(relpath, html)) for relpath, html in before if relpath != before[10][0]]
    after.insert(30, sample_pages[100])

    def run(pages):
        index = search.SearchIndex(search.ShardCut.every(10_000))
        for number, (relpath, html) in enumerate(pages):
            index.add(relpath, search.index_request(number, relpath, html, aliases))
        return index.shard_of_pages()

    base = run(before)
    old = dict(base.pages)
    known = {relpath: search.indexed_page(relpath, html) for relpath, html in after}
    changed = [(relpath, html) for relpath, html in after if old.get(relpath) != known[relpath].digest]
    assert len(changed) == 4
    [base] = merge.with_words([base])
    decoded_again = []  # words of the patch decoded and encoded again: those on a page that moved
    remapped = merge._remapped
    with monkeypatch.context() as patched_merge:
        patched_merge.setattr(merge, "_remapped", lambda parts, *args: decoded_again.append(parts[0][1]) or
                              remapped(parts, *args))
        patched = merge.patch_shard(base, run(changed), [(r, known[r].digest) for r, _ in after],
                                    [(known[r].language, dict(known[r].sort_values)) for r, _ in after])
    fresh = run(after)
    monkeypatch.setattr(search, "normalise_bundle", lambda files: None)
    assert _decoded(merge_shards([patched])) == _decoded(merge_shards([fresh]))
    assert patched.pages == [(r, known[r].digest) for r, _ in after]
    # its word index comes with it, as decoding the patched bundle reads it
    assert patched.words == merge.with_words([dataclasses.replace(patched, words=None)])[0].words
    words_of_base = len(base.words["zh-cn"].words)
    assert 0 < sum(table is base.words["zh-cn"] for table in decoded_again) < words_of_base * 0.9


def test_pages_segmented_where_they_were_rendered_are_not_read_again(sample_pages, site_root, tmp_path) -> None:
    """The index stage sends Pagefind the segmented copy a build kept of each page it
    rendered (:class:`~sitegen.search.SegmentedCopies`) and reads and segments only the
    other pages: the same bundle as when every page is read. A page the last build indexed
    as it is is not segmented where it is rendered."""
    aliases = site_aliases(site_root)
    html = dict(sample_pages)
    known = {relpath: search.indexed_page(relpath, data) for relpath, data in sample_pages}
    read: list[str] = []

    def reading(relpath: str) -> bytes:
        read.append(relpath)
        return html[relpath]

    cut = search.ShardCut.every(40)
    every_page_read, keys = search.index_changed_shards(known, reading, search.ShardCache(tmp_path / "read"), aliases,
                                                        cut=cut)
    assert len(keys) > 2 and sorted(read) == sorted(known)
    read.clear()
    with search.SegmentedCopies() as copies:
        for relpath, data in sample_pages[::2]:
            prepared = search.prepared_page(relpath, data, aliases, {})
            assert isinstance(prepared, search.SegmentedPage) and prepared.page == known[relpath]
            copies.put(relpath, prepared)
        half_kept, _ = search.index_changed_shards(known, reading, search.ShardCache(tmp_path / "half"), aliases,
                                                   cut=cut, copies=copies)
    assert sorted(read) == sorted(relpath for relpath, _ in sample_pages[1::2])
    assert dict(half_kept.files.items()) == dict(every_page_read.files.items())
    relpath, data = sample_pages[0]
    assert search.prepared_page(relpath, data, aliases, {relpath: known[relpath].digest}) == known[relpath]


def test_a_merge_from_the_last_one_writes_what_a_whole_merge_writes(sample_pages, site_root, monkeypatch) -> None:
    """A merge that starts from the last one (its word index, but for the words whose
    entries differ in the shards that changed since) writes the bundle a whole merge of the
    same shards writes, byte for byte: after two shards' pages gained words, lost words and
    moved their postings; after pages were added at the end and taken away (a shard more,
    then a last shard grown, shrunk, gone, back: every word of those merged again, no whole
    merge). A page more in the first shard gives every page after it another number: that
    merge is a whole one."""
    import re

    aliases = site_aliases(site_root)

    def shards_of(pages: list[tuple[str, bytes]]) -> list[ShardBundle]:
        bundles = []
        for start in range(0, len(pages), 30):
            index = search.SearchIndex(search.ShardCut.every(10_000))
            for number, (relpath, html) in enumerate(pages[start:start + 30]):
                index.add(relpath, search.index_request(number, relpath, html, aliases))
            bundles.append(index.shard_of_pages())
        return merge.with_words(bundles)

    def merged_since(shards: list[ShardBundle], previous: merge.MergedIndex | None,
                     earlier: dict[str, ShardBundle]) -> tuple[pf_format.BundleFiles, merge.MergedIndex]:
        keys = [search.shards.shard_key(shard.pages) for shard in shards]
        return merge.merge_shards_since(shards, keys, lambda shapes: previous, lambda key: earlier[key].words)

    pages = sample_pages[:90]
    before = shards_of(pages)
    _, last = merged_since(before, None, {})
    edited = list(pages)
    relpath, html = edited[5]
    edited[5] = (relpath, html.replace(b"</h1>", "</h1><p>编辑补充的一句话，包括新词甲乙丙。</p>".encode(), 1))
    relpath, html = edited[70]
    edited[70] = (relpath, re.sub(rb"(<h1[^>]*>).*?(</h1>)", rb"\1\2", html, count=1, flags=re.S))  # words
    assert edited[70][1] != html  # gone, postings moved
    after = shards_of(edited)
    assert [shard.pages != old.pages for shard, old in zip(after, before)] == [True, False, True]
    earlier = {search.shards.shard_key(shard.pages): shard for shard in before}
    with monkeypatch.context() as patched:  # from the last merge: no whole merge of the words
        patched.setattr(merge, "_merged_words", lambda *args: pytest.fail("merged whole"))
        files, _ = merged_since(after, last, earlier)
    assert dict(files.items()) == dict(merge_shards(after).items())
    added = sample_pages[90:]
    assert len(added) >= 6
    # a shard more; that shard grown; shrunk; gone; the one last now shrunk; all back; an
    # edit in place; the last shard grown: every word of the shards that moved merged again,
    # but from the last merge's entries up to its last shard's part (none joined from every
    # shard but those the edits changed)
    joined_from_all: list[str] = []
    parts_of = merge._parts_of
    edits = {word for number in (0, 2)  # the words merged again from every shard: those the edits changed
             for word in merge._differing_words(before[number].words["zh-cn"], after[number].words["zh-cn"])}
    assert len(edits) > 5
    again = list(edited)  # an edit in place, the last shard as it was; then that shard grown
    again[7] = (again[7][0], again[7][1].replace(b"</h1>", "</h1><p>又一句新词丁戊己。</p>".encode(), 1))
    for later, joined in ((edited + added[:3], edits), (edited + added[:6], set()), (edited + added[:2], set()),
                          (edited, set()), (edited[:88], None), (edited + added[:3], set()),
                          (again + added[:3], None), (again + added[:6], set())):
        shards = shards_of(later)
        joined_from_all.clear()
        with monkeypatch.context() as patched:
            patched.setattr(merge, "_merged_words", lambda *args: pytest.fail("merged whole"))
            patched.setattr(merge, "_parts_of", lambda word, tables, start: (
                joined_from_all.append(word) if start == 0 and len(tables) > 1 else None) or parts_of(word, tables, start))
            files, last = merged_since(shards, last, earlier)
        assert dict(files.items()) == dict(merge_shards(shards).items())
        if joined is not None:  # (after the last shard is gone, the words of the one last now are not known)
            assert set(joined_from_all) == joined, len(joined_from_all)
        earlier.update((search.shards.shard_key(shard.pages), shard) for shard in shards)
    whole_merges = []
    whole = merge._merged_words
    monkeypatch.setattr(merge, "_merged_words", lambda *args: whole_merges.append(1) or whole(*args))
    more = shards_of([*edited[:10], added[0], *edited[10:]])
    files, _ = merged_since(more, last, earlier)
    assert dict(files.items()) == dict(merge_shards(more).items()) and len(whole_merges) == 2


def test_the_shard_cache_keeps_a_word_index_and_reads_a_damaged_one_as_none(sample_pages, site_root,
                                                                           tmp_path) -> None:
    """A shard's decoded word index comes back from the cache as it was put; a damaged one
    comes back as None (the merge decodes the bundle again), the bundle itself intact."""
    aliases = site_aliases(site_root)
    index = search.SearchIndex(search.ShardCut.every(10_000))
    for number, (relpath, html) in enumerate(sample_pages[:30]):
        index.add(relpath, search.index_request(number, relpath, html, aliases))
    [bundle] = merge.with_words([index.shard_of_pages()])
    assert bundle.words is not None and len(bundle.words["zh-cn"].words) > 500
    cache = search.ShardCache(tmp_path / "shards")
    cache.put("key", bundle)
    kept = cache.get("key")
    assert kept is not None and kept.words == bundle.words
    # with its word index read, the files it was read from are not held
    assert kept.files == {name: data for name, data in bundle.files.items() if not name.startswith("index/")}
    assert len(kept.files) < len(bundle.files)
    # each word read back is the one string every table read holds (the shards share most words)
    again = cache.get("key")
    assert again is not None and again.words is not None and kept.words is not None
    long_words = [(ours, theirs) for ours, theirs in zip(kept.words["zh-cn"].words, again.words["zh-cn"].words)
                  if len(ours) > 1]
    assert len(long_words) > 300 and all(ours is theirs for ours, theirs in long_words)
    [words_file] = (tmp_path / "shards").glob("*.words")
    words_file.write_bytes(words_file.read_bytes()[:1000])
    damaged = cache.get("key")
    assert damaged is not None and damaged.words is None and damaged.files == bundle.files
    assert merge_shards([damaged]) == merge_shards([kept])


def test_the_shard_cache_holds_the_assets_of_its_bundles_once(sample_pages, tmp_path) -> None:
    """Every bundle the cache gives holds the one copy of pagefind.js, its worker, the
    WebAssembly and the UIs (each Pagefind run writes them alike; a 100,000-item site has
    225 shards), and nothing else of theirs is shared."""
    bundles = []
    for start in (0, 20):
        index = search.SearchIndex(search.ShardCut.every(10_000))
        for number, (relpath, html) in enumerate(sample_pages[start:start + 20]):
            index.add(relpath, search.index_request(number, relpath, html))
        bundles.append(index.shard_of_pages())
    cache = search.ShardCache(tmp_path / "shards")
    cache.put("first", bundles[0])
    cache.put("second", bundles[1])
    first, second = cache.get("first"), cache.get("second")
    assert first is not None and second is not None and first.files == bundles[0].files
    assets = [name for name in first.files if merge.is_asset(name)]
    assert {"pagefind.js", "pagefind-worker.js"} <= set(assets) and any(name.endswith(".pagefind") for name in assets)
    assert all(first.files[name] is second.files[name] for name in assets)
    assert not any(first.files[name] is second.files.get(name) for name in first.files if name not in assets)


def test_the_shard_cache_keeps_the_last_merge_under_its_salt(sample_pages, site_root, tmp_path) -> None:
    """What a merge made comes back from the cache as it was put, under the cache's salt
    only, when asked for shards whose first has the shape of its first; a damaged record
    comes back as None (the next merge is a whole one); removing the bundles not wanted
    removes the records of other salts and keeps this one's."""
    aliases = site_aliases(site_root)
    index = search.SearchIndex(search.ShardCut.every(10_000))
    for number, (relpath, html) in enumerate(sample_pages[:30]):
        index.add(relpath, search.index_request(number, relpath, html, aliases))
    shard = index.shard_of_pages()
    _, merged = merge.merge_shards_since([shard], ["key"], lambda shapes: None, lambda key: None)
    cache, other = search.ShardCache(tmp_path / "shards", salt="a"), search.ShardCache(tmp_path / "shards", salt="b")
    cache.put_merged(merged)
    other.put_merged(merged)
    kept = cache.merged()
    assert kept == merged and len(kept.words["zh-cn"].words) > 500 and kept.keys == ("key",)
    assert cache.merged(merged.shapes) == merged and cache.merged(merged.shapes * 2) == merged  # a shard more
    assert cache.merged(((("zh-cn", 1, ()),),)) is None  # the first shard of another shape: no page keeps its number
    cache.keep_only([])
    assert cache.merged() == merged and other.merged() is None
    [record] = (tmp_path / "shards").glob("*.merged")
    record.write_bytes(record.read_bytes()[:1000])
    assert cache.merged() is None


def test_no_more_than_three_pagefind_runs_are_alive_at_once(sample_pages, site_root, monkeypatch) -> None:
    """Pages sent faster than Pagefind indexes them (a build sends them once they are all
    written) start the next shard's run only when at most two other shards are still
    indexing or building their bundles: two runs work at once while the next shard's pages
    are sent, and each run holds its shard's pages until it ends. The bundle is the one of a
    run per shard."""
    from sitegen.search import service

    alive: set[int] = set()
    most = 0
    start, close = service.PagefindService.__init__, service.PagefindService.close

    def started(self: service.PagefindService) -> None:
        nonlocal most
        start(self)
        alive.add(id(self))
        most = max(most, len(alive))

    def closed(self: service.PagefindService) -> None:
        alive.discard(id(self))
        close(self)

    aliases = site_aliases(site_root)
    pages = sorted(sample_pages[:120], key=lambda page: search.indexed_page(*page).order(page[0]))  # as the index orders them
    requests = [search.index_request(number, relpath, html, aliases) for number, (relpath, html) in enumerate(pages)]
    monkeypatch.setattr(service.PagefindService, "__init__", started)
    monkeypatch.setattr(service.PagefindService, "close", closed)
    index = search.SearchIndex(search.ShardCut.every(10))
    for (relpath, _), request in zip(pages, requests):  # made beforehand: sent at once
        if request is not None:
            index.add(relpath, request)
    files = index.finish().files
    assert len(index.keys) == 12 and most == 3, (len(index.keys), most)
    assert dict(files.items()) == dict(search.index_site(pages, aliases=aliases, cut=search.ShardCut.every(10)).files.items())
