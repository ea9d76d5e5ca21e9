"""A site indexed in shards (a Pagefind run per run of pages) and merged is the index one run
makes: the same pages in the same order, each word on the same pages at the same places, the
same filter values on the same pages, the same sort orders and metadata fields. Measured on
the sample site cut into shards of 50, 97 and 1 page(s), in Pagefind's own format as it
wrote it, before sitegen rewrites the bundle; then the published bundle searched in Chromium.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from sitegen import search
from sitegen.search import bundle as pf_format
from sitegen.search import merge
from sitegen.search.merge import ShardBundle, merge_shards
from tests.conftest import folder_files
from tests.test_search_index import site_aliases, write_bundle


def _as_pagefind_wrote(pages, aliases, shard_pages: int, monkeypatch) -> dict[str, bytes]:
    monkeypatch.setattr(search, "normalise_bundle", lambda files, chunked=False: None)
    return search.index_site(pages, aliases=aliases, cut=search.ShardCut.every(shard_pages)).files


def _decoded(files: dict[str, bytes]) -> dict[str, Any]:
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


@pytest.mark.parametrize("shard_pages,in_workers", [(40, False), (200, False), (40, True)])
def test_the_published_bundle_of_shards_is_the_one_run_bundle_byte_for_byte(sample_pages, site_root, built_site,
                                                                             tmp_path, shard_pages, in_workers,
                                                                             monkeypatch) -> None:
    """The sample site is built in one run (211 pages); indexed in shards of 40 (six runs) or
    200 (two), the bundle sitegen publishes is the same, file for file and byte for byte,
    also when the words are merged by forked workers, a range of words each."""
    if in_workers:
        monkeypatch.setattr(merge, "_CHUNKS_PER_RANGE", 1)
    sharded = search.index_site(sample_pages, aliases=site_aliases(site_root), cut=search.ShardCut.every(shard_pages))
    write_bundle(sharded, tmp_path / "pagefind")
    published = folder_files(built_site / "pagefind")
    assert sharded.pages == len(sample_pages) == 211
    assert sharded.files == published


def test_a_single_shard_is_passed_through() -> None:
    files = {"pagefind-entry.json": b"{}"}
    assert merge_shards([ShardBundle(files, [])]) == files


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
