"""The copy of each page that Pagefind indexes: segmented, trimmed to what Pagefind reads,
giving the same index as the whole page would, in an order that does not depend on the
file system."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import pytest

from sitegen import search
from sitegen.search import bundle as pf_format
from sitegen.search import segment
from sitegen.site.load import site_entity_data
from sitegen.urls import url_of
from tests.conftest import folder_files


def site_aliases(root: Path) -> search.AliasExpander:
    """The alias expansion a build of the site at ``root`` indexes with (serve's re-index too)."""
    return search.AliasExpander.from_aliases(site_entity_data(root).aliases)


def write_bundle(found: search.Bundle, folder: Path) -> None:
    """Write a bundle's files into ``folder`` (as the site's pagefind/)."""
    for relpath, data in found.files.items():
        (folder / relpath).parent.mkdir(parents=True, exist_ok=True)
        (folder / relpath).write_bytes(data)


def _meta(bundle: Path) -> list:
    """The decoded metadata file of a bundle (Pagefind's format, read as sitegen reads it)."""
    (meta_file,) = bundle.glob("pagefind.*.pf_meta")
    return pf_format.read_pf(meta_file.read_bytes(), meta_file.name)


def test_trimmed_copy_gives_the_index_whole_pages_give(built_site, site_root, tmp_path, monkeypatch):
    pages = search.searchable_pages(built_site)
    trimmed = [segment.index_copy(html.decode("utf-8")) for _, html in pages]
    # the copy really is smaller: header, navigation, aside, footer and head are gone
    assert sum(map(len, trimmed)) < 0.5 * sum(len(html.decode("utf-8")) for _, html in pages)
    assert all("<nav" not in copy and "<footer" not in copy for copy in trimmed)
    monkeypatch.setattr(search, "index_copy", lambda html: html)
    write_bundle(search.index_site(pages, aliases=site_aliases(site_root)), tmp_path / "whole")
    assert folder_files(tmp_path / "whole") == folder_files(built_site / "pagefind")


def test_pages_are_numbered_by_the_day_they_first_exist_whatever_order_they_come_in(built_site, site_root, tmp_path):
    """Pagefind numbers pages in the order it finds them; from a folder that is the file
    system's order (hash order on ext4, creation order on tmpfs), so the bundle differed
    from machine to machine. Pages are numbered by the day each first exists (its
    ``data-sitegen-since``: an article's date, a digest's Monday, the day an entity got its
    page), then by URL, so that a day's new pages come after every page there was."""
    pages = search.searchable_pages(built_site)
    write_bundle(search.index_site(list(reversed(pages)), aliases=site_aliases(site_root)), tmp_path / "reversed")
    assert folder_files(tmp_path / "reversed") == folder_files(built_site / "pagefind")
    urls = urls_in_index_order(built_site / "pagefind")
    for number, (page_hash, _) in enumerate(_meta(built_site / "pagefind")[1]):
        assert pf_format.page_number(page_hash) == number
    since = {}
    for relpath, html in pages:
        found = re.search(rb'data-sitegen-since="([^"]*)"', html)
        since[url_of(relpath)] = found.group(1).decode() if found else ""
    assert urls == sorted(since, key=lambda url: (since[url], url + "index.html"))
    assert urls != sorted(urls)  # the digests and entity pages among the articles of their days
    for url in urls:
        if dated := re.fullmatch(r"/articles/(\d{4})(\d\d)(\d\d)-\w+/", url):
            assert since[url] == "-".join(dated.groups()), url
        elif url.startswith("/weeks/"):
            assert date.fromisoformat(since[url]).isoweekday() == 1, url


def urls_in_index_order(bundle: Path) -> list[str]:
    """The URL of each page of a published bundle (its ``pagefind/`` folder), by its number."""
    import gzip

    urls = []
    for page_hash, _ in _meta(bundle)[1]:  # a fragment is JSON behind Pagefind's signature
        fragment = gzip.decompress((bundle / "fragment" / f"{page_hash}.pf_fragment").read_bytes())
        urls.append(json.loads(fragment[len(b"pagefind_dcd"):])["url"])
    return urls


def test_the_date_order_is_a_file_of_its_own_not_in_the_metadata(built_site):
    """Every search downloads the metadata; only sorting by date needs the pages' date order."""
    import json

    bundle = built_site / "pagefind"
    meta = _meta(bundle)
    assert meta[4] == []
    path = json.loads((bundle / "pagefind-entry.json").read_bytes())[pf_format.DATE_ORDER_KEY]["zh-cn"]
    data = (bundle / path).read_bytes()
    assert path == pf_format.date_order_path("zh-cn", data)  # named by its content
    deltas = json.loads(data)
    numbers = [sum(deltas[: i + 1]) for i in range(len(deltas))]
    html = {url_of(relpath): data for relpath, data in search.searchable_pages(built_site)}
    pages = [html[url] for url in urls_in_index_order(bundle)]
    date_keys = [re.search(r'data-pagefind-sort="date:([^"]+)"', page.decode()).group(1) for page in pages]
    assert numbers == sorted(range(len(pages)), key=date_keys.__getitem__)
    assert [f"date/{p.name}" for p in (bundle / "date").iterdir()] == [path]


PAGE = """<!doctype html>
<html lang="zh-CN" dir="ltr"><head><title>标题</title>{head}</head>
<body><header><nav>导航</nav></header>
<article class="a" data-pagefind-body><h1>工信部</h1><article-x>不是</article-x>
<article><p>嵌套的文章</p></article><p>正文</p></article>
<aside>相关文章</aside></body></html>
"""


def test_copy_keeps_the_html_tag_and_the_whole_body_element():
    copy = segment.index_copy(PAGE.format(head=""))
    assert copy == ('<!doctype html>\n<html lang="zh-CN" dir="ltr"><body><article class="a" data-pagefind-body>'
                    "<h1>工信部</h1><article-x>不是</article-x>\n<article><p>嵌套的文章</p></article><p>正文</p>"
                    "</article></body></html>\n")


@pytest.mark.parametrize("page", [
    PAGE.format(head='<meta data-pagefind-meta="image:/a.png" content="">'),  # Pagefind reads it outside the body
    PAGE.replace("<aside>", '<aside data-pagefind-body>'),                     # two bodies
    PAGE.replace("<p>正文</p></article>", "<p>正文</p>"),                        # body never closed
    PAGE.replace(" data-pagefind-body", ""),                                 # no body: Pagefind indexes <body>
])
def test_pages_the_copy_cannot_trim_safely_are_kept_whole(page):
    assert segment.index_copy(page) == page


def test_fragment_names_are_short_and_change_when_a_page_changes(built_site, tmp_path):
    bundle = built_site / "pagefind"
    names = [name for name, _ in _meta(bundle)[1]]
    assert all(re.fullmatch(r"zh-cn_[0-9a-f]{4}[0-9a-z]{1,3}", name) for name in names), names[:5]
    assert len(set(names)) == len(names)
    assert sorted(p.stem for p in (bundle / "fragment").iterdir()) == sorted(names)  # none missing, none extra
    pages = search.searchable_pages(built_site)
    relpath, html = pages[0]
    edited = [(relpath, html.replace(b"</h1>", "（更正）</h1>".encode(), 1)), *pages[1:]]
    write_bundle(search.index_site(edited), tmp_path / "edited")
    renamed = [name for name, _ in _meta(tmp_path / "edited")[1]]
    assert all(old != new for old, new in zip(names, renamed))  # no browser keeps an old fragment under a new page


def test_a_pagefind_that_dies_gives_an_error_not_a_hang(built_site, tmp_path, monkeypatch):
    script = tmp_path / "pagefind"
    script.write_text("#!/bin/sh\necho 'pagefind: out of memory' >&2\nexit 3\n")
    script.chmod(0o755)
    monkeypatch.setattr(search.service, "pagefind_executable", lambda: script)
    with pytest.raises(search.SearchIndexError, match="out of memory"):
        write_bundle(search.index_site(search.searchable_pages(built_site)), tmp_path / "bundle")
    assert not (tmp_path / "bundle").exists()


def test_an_index_job_that_is_not_finished_stops_pagefind(built_site, tmp_path):
    """A build starts Pagefind before writing the site; if the write fails, Pagefind must not
    be left running."""
    import os

    from tests.conftest import running_pagefind

    job = search.SearchIndex()
    for number, (relpath, html) in enumerate(search.searchable_pages(built_site)):
        if (request := search.index_request(number, relpath, html)) is not None:
            job.add(relpath, request)
    assert running_pagefind(os.getpid())
    job.stop()
    assert not running_pagefind(os.getpid())
    assert job.service is not None and job.service.process.returncode is not None


def test_pagefind_dying_while_the_site_is_rendered_fails_the_build_and_keeps_the_site(site_root, tmp_path,
                                                                                     monkeypatch):
    """Pages go to Pagefind as they are rendered and written into the staging folder: if
    Pagefind dies meanwhile, the build fails naming its message, the previous site stays as
    it was and the staging folder is gone."""
    import shutil

    from tests.conftest import build

    root = tmp_path / "site"
    for name in ("content", "templates", "static"):
        shutil.copytree(site_root / name, root / name)
    out = tmp_path / "public"
    assert build(root, out).exit_code == 0
    before = folder_files(out)
    script = tmp_path / "pagefind"
    script.write_text("#!/bin/sh\nhead -c 20000 >/dev/null\necho 'pagefind: out of memory' >&2\nexit 3\n")
    script.chmod(0o755)
    monkeypatch.setattr(search.service, "pagefind_executable", lambda: script)
    result = build(root, out, "--force")
    assert result.exit_code == 1 and "out of memory" in result.output, result.output
    assert folder_files(out) == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".public.")] == []


@pytest.mark.parametrize("run,words", [
    # jieba ends a word inside an ICU word: the parts are kept with ":" (a query of 江之头 or
    # 强富 is split by ICU alone as 江|之|头 and 强|富)
    ("我住江之头", ["我", "住:江", "之", "头"]),
    ("强富美高", ["强", "富:美", "高"]),
    # a dictionary word that begins a longer ICU word: 安徽 in 安徽省
    ("安徽省委书记", ["安徽:省", "委", "书记"]),
    # where both segmenters agree nothing is added: 指美 must not match 指出美国
    ("指出美国向乌克兰", ["指出", "美国", "向", "乌克兰"]),
    ("5G网络", ["5G", "网络"]),
])
def test_index_words_record_parts_where_jieba_sees_a_boundary(run, words):
    assert segment.segment_run(run) == words


def test_a_real_colon_next_to_chinese_is_a_word_of_its_own():
    """So the search page can tell it from the parts' ":" and keep it in excerpts."""
    assert segment.segment("记者:王凯 10:30 a:b") == "记者 : 王 凯 10:30 a:b"


def test_parts_let_a_query_split_differently_alone_match_as_a_phrase(tmp_path):
    """Pagefind indexes 富:美 as 富美 and as 富 and 美 at one position: the phrase 强 富 is found."""
    page = ('<!doctype html><html lang="zh-CN"><body><main data-pagefind-body><h1>标题</h1>'
            "<p>践行强富美高新要求。我住江之头。</p></main></body></html>")
    write_bundle(search.index_site([("a/index.html", page.encode())]), tmp_path / "bundle")
    positions = {}  # word -> its positions on the page (Pagefind writes a weight as a negative number)
    for chunk in sorted((tmp_path / "bundle" / "index").iterdir()):
        for word, pages, _ in pf_format.read_pf(chunk.read_bytes(), chunk.name)[0]:
            positions[word] = [p for p in pages[0][1] if p >= 0]
    assert positions["富美"] == positions["富"] == positions["美"] == [positions["强"][0] + 1]
    assert positions["住江"] == positions["江"] == [positions["之"][0] - 1] == [positions["头"][0] - 2]


def _index_by_url(bundle: Path) -> tuple[dict[str, dict[str, list]], dict[str, set[str]], list[int]]:
    """Every word of a bundle with, per page URL, its locations; every filter value with its
    page URLs; and the size of each word index chunk (decoded as pagefind.js reads them)."""
    import gzip
    import json

    meta = _meta(bundle)
    urls = []
    for page_hash, _ in meta[1]:
        fragment = gzip.decompress((bundle / "fragment" / f"{page_hash}.pf_fragment").read_bytes())
        urls.append(json.loads(fragment[len(b"pagefind_dcd"):])["url"])
    words: dict[str, dict[str, list]] = {}
    sizes = []
    previous_to = ""
    for from_word, to_word, chunk_hash in meta[2]:
        assert previous_to < from_word <= to_word  # ranges in order, not overlapping
        previous_to = to_word
        path = bundle / "index" / f"{chunk_hash}.pf_index"
        sizes.append(len(gzip.decompress(path.read_bytes())))
        for word, pages, *_ in pf_format.read_pf(path.read_bytes(), path.name)[0]:
            assert from_word <= word[: len(from_word)] and word[: len(to_word)] <= to_word
            number = 0
            for page in pages:
                number += page[0]  # page numbers are delta-coded
                words.setdefault(word, {})[urls[number]] = page[1:]
    filters = {}
    for name, filter_hash in meta[3]:
        path = bundle / "filter" / f"{filter_hash}.pf_filter"
        for value, pages in pf_format.read_pf(path.read_bytes(), path.name)[1]:
            filters[f"{name}:{value}"] = {urls[number] for number in pages}
    return words, filters, sizes


def test_rechunked_index_says_what_pagefind_wrote(built_site, site_root, tmp_path, monkeypatch):
    """Cutting the word index into small chunks (and moving the date order out of the
    metadata) changes no word's pages or locations and no filter's pages; chunks are about
    8 KB, not Pagefind's ~60 KB."""
    pages = search.searchable_pages(built_site)
    monkeypatch.setattr(search, "normalise_bundle", lambda files: None)
    monkeypatch.setattr(search, "merge_shards",  # one shard, as written
                        lambda shards: pf_format.BundleFiles(shards[0].files.items()))
    monkeypatch.setattr(search, "without_word_chunks", lambda shard: shard)
    write_bundle(search.index_site(pages, aliases=site_aliases(site_root)), tmp_path / "as-pagefind-wrote")
    written_words, written_filters, written_sizes = _index_by_url(tmp_path / "as-pagefind-wrote")
    words, filters, sizes = _index_by_url(built_site / "pagefind")
    assert words == written_words and filters == written_filters
    assert len(words) > 2000 and len(filters) > 100
    assert max(written_sizes) > 50_000 and len(sizes) >= sum(written_sizes) / pf_format._CHUNK_MOST
    assert all(size < 2 * pf_format._CHUNK_MOST for size in sizes), sizes  # none of this site's words is that big
    assert sorted(sizes)[len(sizes) // 2] > pf_format._CHUNK_LEAST  # the last chunk alone may be smaller


def test_a_changed_word_renames_the_chunks_around_it_only(built_site):
    """The word index is cut where its own words say and each chunk is named by its bytes:
    a word whose entry grows or shrinks (its postings changed) renames its chunk and at
    most the next ones until the cuts meet again; every other chunk keeps its name."""
    bundle = built_site / "pagefind"
    meta = _meta(bundle)
    words = []
    for _, _, chunk_hash in meta[2]:
        path = bundle / "index" / f"{chunk_hash}.pf_index"
        words += [(word, encoded) for word, encoded, _ in pf_format.decoded_words(path.read_bytes(), path.name)]
    as_built = pf_format.BundleFiles()
    assert pf_format.write_word_chunks(words, as_built, "zh-cn").listed == meta[2]  # the build's own cut
    assert len(meta[2]) > 20
    renamed = []
    for position in range(len(words) // 10, len(words), len(words) // 10):
        word, encoded = words[position]
        for changed in (encoded + b"\x80" * 40, encoded[: len(encoded) // 2]):  # a posting more; fewer
            files = pf_format.BundleFiles()
            pf_format.write_word_chunks([*words[:position], (word, changed), *words[position + 1:]], files, "zh-cn")
            assert all(files.digest(path) == as_built.digest(path) for path in set(files) & set(as_built))
            renamed.append(len(set(files) - set(as_built)))
    assert 1 <= max(renamed) <= 3 and sum(renamed) <= 1.5 * len(renamed), renamed


def test_chunks_compressed_on_threads_are_the_files_published(built_site, monkeypatch):
    """A build compresses the word chunks it writes on threads: each comes back under its
    path, in the order asked, as the published file byte for byte; a file not packed as it
    was put."""
    import gzip
    import threading

    bundle = built_site / "pagefind"
    published = {f"index/{path.name}": path.read_bytes() for path in sorted((bundle / "index").iterdir())}
    assert len(published) > 20
    files = pf_format.BundleFiles()
    for path, data in published.items():
        files.pack(path, gzip.decompress(data))
    entry = (bundle / "pagefind-entry.json").read_bytes()
    files["pagefind-entry.json"] = entry
    asked = [*reversed(list(published)), "pagefind-entry.json"]
    monkeypatch.setattr(pf_format, "_PACKED_PER_THREAD", 5)  # threads for the sample site's few chunks
    compressing = set()
    compress = gzip.compress
    monkeypatch.setattr(gzip, "compress", lambda *args, **kwargs: compressing.add(threading.get_ident())
                        or compress(*args, **kwargs))
    assert list(files.compressed(asked)) == [(path, published.get(path, entry)) for path in asked]
    assert compressing and threading.get_ident() not in compressing


def test_a_bundle_from_another_pagefind_version_is_refused(built_site, monkeypatch):
    """The bundle rewriting reads Pagefind's private format: only the version it was written
    for is accepted, with a message saying which to install."""
    entry = json.loads((built_site / "pagefind" / "pagefind-entry.json").read_text("utf-8"))
    assert entry["version"] == pf_format.PAGEFIND_VERSION
    with pytest.raises(search.SearchIndexError, match=r"Pagefind 1\.9\.0.*pagefind\[bin\]==1\.5\.2"):
        pf_format.normalise_bundle({"pagefind-entry.json": json.dumps({**entry, "version": "1.9.0"}).encode()})
    import importlib.metadata

    monkeypatch.setattr(importlib.metadata, "version", lambda name: "1.9.0")
    with pytest.raises(search.SearchIndexError, match=r"Pagefind 1\.9\.0 is installed"):
        search.service.pagefind_executable()
