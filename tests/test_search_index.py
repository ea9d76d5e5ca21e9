"""The copy of each page that Pagefind indexes: segmented, trimmed to what Pagefind reads,
and giving the same index as the whole page would."""

from __future__ import annotations

from pathlib import Path

import pytest

from sitegen import search


def _bundle_bytes(bundle: Path) -> dict[str, bytes]:
    return {p.relative_to(bundle).as_posix(): p.read_bytes() for p in sorted(bundle.rglob("*")) if p.is_file()}


def test_trimmed_copy_gives_the_index_whole_pages_give(built_site, tmp_path, monkeypatch):
    pages = search.searchable_pages(built_site)
    trimmed = [search.index_copy(html.decode("utf-8")) for _, html in pages]
    # the copy really is smaller: header, navigation, aside, footer and head are gone
    assert sum(map(len, trimmed)) < 0.5 * sum(len(html.decode("utf-8")) for _, html in pages)
    assert all("<nav" not in copy and "<footer" not in copy for copy in trimmed)
    monkeypatch.setattr(search, "index_copy", lambda html: html)
    search.build_index(pages, tmp_path / "whole", scratch=tmp_path)
    assert _bundle_bytes(tmp_path / "whole") == _bundle_bytes(built_site / "pagefind")


PAGE = """<!doctype html>
<html lang="zh-CN" dir="ltr"><head><title>标题</title>{head}</head>
<body><header><nav>导航</nav></header>
<article class="a" data-pagefind-body><h1>工信部</h1><article-x>不是</article-x>
<article><p>嵌套的文章</p></article><p>正文</p></article>
<aside>相关文章</aside></body></html>
"""


def test_copy_keeps_the_html_tag_and_the_whole_body_element():
    copy = search.index_copy(PAGE.format(head=""))
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
    assert search.index_copy(page) == page
