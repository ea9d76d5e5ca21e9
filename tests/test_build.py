"""``sitegen build`` on the sample content: the pages, digests, entities, feeds and search
bundle the issue asks for, deterministic output, and failures that keep the old site."""

from __future__ import annotations

import gzip
import os
import pickle
import re
import shutil
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import pytest

from sitegen.frontmatter import parse_page
from sitegen.text import nfkc
from tests.conftest import ProcessLog, build, folder_files

ATOM = "{http://www.w3.org/2005/Atom}"


class TextAndLinks(HTMLParser):
    """Visible text and hrefs of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.text: list[str] = []
        self.links: list[tuple[str, str]] = []
        self._href: str | None = None
        self._anchor: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in {"script", "style"}:
            self._skip += 1
        if tag == "a":
            self._href = dict(attrs).get("href")
            self._anchor = []

    def handle_endtag(self, tag):
        if tag in {"script", "style"}:
            self._skip -= 1
        if tag == "a" and self._href is not None:
            self.links.append((self._href, "".join(self._anchor).strip()))
            self._href = None

    def handle_data(self, data):
        if not self._skip:
            self.text.append(data)
            if self._href is not None:
                self._anchor.append(data)


def parse(path: Path) -> TextAndLinks:
    parser = TextAndLinks()
    parser.feed(path.read_text("utf-8"))
    return parser


def text_of(path: Path) -> str:
    return "".join(parse(path).text)


def test_article_page_per_content_page(built_site, site_root):
    pages = list((site_root / "content").rglob("*.md"))
    assert len(pages) >= 31
    for page in pages:
        front = parse_page(page.read_text("utf-8"), page).front
        html = built_site / "articles" / front["slug"] / "index.html"
        assert html.is_file()
        text = text_of(html)
        assert front["title"] in text
        assert f"{front['date'].year}年{front['date'].month}月{front['date'].day}日" in text
        if front.get("date_uncertain"):
            assert "日期待核" in text


def test_digest_in_yaowen_huigu_form(built_site):
    digest = built_site / "weeks" / "2025-W08" / "index.html"
    page = parse(digest)
    text = "".join(page.text)
    assert "2025年2月17日—2月23日" in text
    assert text.count("■") == 10
    for number in "①②③④⑤⑥⑦⑧⑨⑩":
        assert number in text
    item_links = [href for href, anchor in page.links if anchor == "链接»»"]
    assert len(item_links) == 10
    for href in item_links:
        assert (built_site / href.strip("/") / "index.html").is_file()
    # the digest's own order (weight from ingest) leads: ① is the State Council item
    first = re.search(r"①([^①②]+?)国务院总理", text)
    assert first and "国务院常务会议审议通过" in first.group(1)
    assert (built_site / "weeks" / "index.html").is_file()


def test_entity_pages_with_aliases_merged(built_site):
    entity_pages = list((built_site / "entities").glob("*/*/index.html"))
    assert len(entity_pages) >= 20
    assert not (built_site / "entities" / "org" / "gong-xin-bu").exists()
    miit_folder = built_site / "entities" / "org" / "gong-ye-he-xin-xi-hua-bu"
    miit = parse(miit_folder / "index.html")
    titles = {anchor for page in miit_folder.glob("**/index.html") for _, anchor in parse(page).links}
    assert "工信部召开第十三次制造业企业座谈会" in titles  # its text says only 工信部 (on a year's page)
    assert "工信部" in "".join(miit.text)  # shown as an alias
    for kind, slug, count in [("person", "wang-kai", 2), ("person", "wang-chuan-fu", 2), ("org", "bi-ya-di", 2)]:
        page = parse(built_site / "entities" / kind / slug / "index.html")
        articles = {href for href, _ in page.links if href.startswith("/articles/")}
        assert len(articles) == count, (slug, articles)
    names = {p.parent.name: p.read_text("utf-8") for p in entity_pages}
    for generic in ["会议", "图片", "智能化", "城市", "我国", "双方"]:
        assert not any(f"<h1 data-pagefind-meta=\"title:{generic}（" in html for html in names.values()), generic


def _listed_articles(page: Path) -> list[tuple[str, str]]:
    """(article URL, its date) of each article an entity page lists."""
    html = page.read_text("utf-8")
    return re.findall(r'<li><a href="(/articles/[^"]+/)">[^<]*</a> <span class="list-meta"><time datetime="([\d-]+)"', html)


def test_a_big_entity_lists_its_newest_articles_and_every_article_by_year(built_site, site_root):
    """The sample site lists 8 articles on an entity's page (``entity_recent``): 工业和信息化部,
    named by 19, shows its newest 8 and links a page per year; the year pages list each of
    its articles once, each under its own year. An entity named by fewer has no year pages."""
    assert "entity_recent: 8" in (site_root / "sitegen.yaml").read_text("utf-8")
    folder = built_site / "entities" / "org" / "gong-ye-he-xin-xi-hua-bu"
    recent = _listed_articles(folder / "index.html")
    year_pages = sorted(folder.glob("*/index.html"))
    assert [p.parent.name for p in year_pages] == ["2025", "2026"]
    by_year = {p.parent.name: _listed_articles(p) for p in year_pages}
    every = [entry for listed in by_year.values() for entry in listed]
    assert len(every) == len(set(every)) == 19
    assert all(day.startswith(year) for year, listed in by_year.items() for _, day in listed)
    assert len(recent) == 8 and set(recent) <= set(every)
    assert min(day for _, day in recent) >= max(day for entry in every if entry not in recent for day in entry[1:])
    page = parse(folder / "index.html")
    tabs = [href for href, _ in page.links if re.fullmatch(r"/entities/org/gong-ye-he-xin-xi-hua-bu/\d{4}/", href)]
    assert tabs == ["/entities/org/gong-ye-he-xin-xi-hua-bu/2026/", "/entities/org/gong-ye-he-xin-xi-hua-bu/2025/"]
    assert "2025年" in text_of(folder / "2025" / "index.html")
    small = built_site / "entities" / "person" / "wang-kai"
    assert len(_listed_articles(small / "index.html")) == 2 and not list(small.glob("*/index.html"))


def test_article_links_to_entities_and_week(built_site):
    article = next(p for p in (built_site / "articles").glob("*/index.html")
                   if re.search(r"<h1[^>]*>河南省省长王凯与比亚迪董事长王传福举行会谈</h1>", p.read_text("utf-8")))
    page = parse(article)
    hrefs = {href for href, _ in page.links}
    assert {"/entities/person/wang-kai/", "/entities/org/bi-ya-di/", "/entities/person/wang-chuan-fu/"} <= hrefs
    assert any(h.startswith("/weeks/20") for h in hrefs)


def test_feeds_sitemap_404_robots_and_search_bundle(built_site):
    feed = ET.parse(built_site / "feed.xml").getroot()
    assert feed.tag == f"{ATOM}feed"
    entries = feed.findall(f"{ATOM}entry")
    assert len(entries) >= 10 and all(e.find(f"{ATOM}title").text for e in entries)
    weeks_feed = ET.parse(built_site / "weeks" / "feed.xml").getroot()
    assert len(weeks_feed.findall(f"{ATOM}entry")) >= 1
    sitemap = ET.parse(built_site / "sitemap.xml").getroot()
    locs = {e.text for e in sitemap.iter("{http://www.sitemaps.org/schemas/sitemap/0.9}loc")}
    for html in (built_site / "articles").glob("*/index.html"):
        assert f"https://sitegen-demo.netlify.app/articles/{html.parent.name}/" in locs
    assert "页面不存在" in text_of(built_site / "404.html")
    assert "Sitemap:" in (built_site / "robots.txt").read_text()
    assert (built_site / "pagefind" / "pagefind.js").is_file()
    assert (built_site / "pagefind" / "pagefind-entry.json").is_file()


def test_every_page_is_chinese_and_escaped(built_site):
    for html in built_site.rglob("*.html"):
        if "pagefind" in html.parts:
            continue
        head = html.read_text("utf-8")[:200]
        assert '<html lang="zh-CN">' in head, html


def test_boilerplate_absent_from_article_pages(built_site, expected):
    text = nfkc("".join(text_of(p) for p in (built_site / "articles").glob("*/index.html")))
    for doc in expected["documents"].values():
        for phrase in doc["must_drop"]:
            assert nfkc(phrase) not in text, phrase


def test_two_builds_are_byte_identical(site_root, tmp_path):
    first, second = tmp_path / "one", tmp_path / "two"
    assert build(site_root, first).exit_code == 0
    assert build(site_root, second).exit_code == 0
    files_one = sorted(p.relative_to(first) for p in first.rglob("*") if p.is_file())
    files_two = sorted(p.relative_to(second) for p in second.rglob("*") if p.is_file())
    assert files_one == files_two
    different = [str(p) for p in files_one if (first / p).read_bytes() != (second / p).read_bytes()]
    assert different == []


def _differing_files(first: Path, second: Path) -> list[str]:
    """Files missing from one folder or with other bytes in it (empty: the same site)."""
    files_one = {p.relative_to(first).as_posix() for p in first.rglob("*") if p.is_file()}
    files_two = {p.relative_to(second).as_posix() for p in second.rglob("*") if p.is_file()}
    return sorted((files_one ^ files_two) | {f for f in files_one & files_two
                                              if (first / f).read_bytes() != (second / f).read_bytes()})


def _break_template(site: Path, name: str, expression: str) -> int:
    """Insert ``expression`` as the first line of ``name``'s main block; its line number."""
    template = site / "templates" / name
    lines = template.read_text("utf-8").split("\n")
    at = lines.index("{% block main %}") + 1
    lines.insert(at, expression)
    template.write_text("\n".join(lines), "utf-8")
    return at + 1


_BUILD_IN_WORKERS = """
import sys
import sitegen.site.session as project
project.RENDER_BATCH = 4  # the sample site's ~150 pages become enough batches for the workers
piped = project.piped_pipeline
def recorded(function, shared, tasks, workers):
    print("pipeline started", file=sys.stderr)
    prepared = 0
    for task, result in piped(function, shared, tasks, workers):
        prepared += len(task[1])
        yield task, result
    print("prepared in workers:", prepared, file=sys.stderr)
project.piped_pipeline = recorded
import sitegen.site.load as content
prefetch = content.PageCache.prefetch
def prefetch_small_batches(self, root, names, summary_chars, **options):
    before = self.added
    parsed = prefetch(self, root, names, summary_chars, batch=2, **options)  # the sample site has ~30 pages
    print("parsed in workers:", self.added - before, file=sys.stderr)
    return parsed
content.PageCache.prefetch = prefetch_small_batches
from sitegen.cli import main
main()
"""


def _build_in_workers(root: Path, out: Path, *options: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", _BUILD_IN_WORKERS, "build", "--root", str(root), "--out", str(out),
                           *options], capture_output=True, text=True, check=False)


def test_search_requests_made_in_workers_give_the_same_site(site_root, tmp_path):
    serial, spread = tmp_path / "serial", tmp_path / "spread"
    assert build(site_root, serial).exit_code == 0
    result = _build_in_workers(site_root, spread)
    assert result.returncode == 0, result.stderr
    counted = int(re.search(r"prepared in workers: (\d+)", result.stderr).group(1))
    assert counted > 100  # every page went through the workers, not just a few
    assert _differing_files(serial, spread) == []
    assert (spread / "pagefind" / "pagefind-entry.json").is_file()


def test_a_first_build_parses_pages_in_workers_and_still_names_a_bad_page(scratch_site, tmp_path):
    def clear_page_cache() -> None:
        for cached in (scratch_site / ".sitegen-cache").glob("pages-*.pickle"):
            cached.unlink()

    page = sorted((scratch_site / "content" / "articles").rglob("*.md"))[3]
    original = page.read_text("utf-8")
    lines = original.split("\n")
    at = next(n for n, line in enumerate(lines) if line.startswith("date:"))
    lines[at] = "date: 2025-13-45"
    page.write_text("\n".join(lines), "utf-8")
    clear_page_cache()
    failed = _build_in_workers(scratch_site, tmp_path / "failed", "--no-search")
    assert failed.returncode == 1
    assert f"{page.name}:{at + 1}:" in failed.stderr and "month must be in 1..12" in failed.stderr
    parsed = int(re.search(r"parsed in workers: (\d+)", failed.stderr).group(1))
    pages = len(list((scratch_site / "content").rglob("*.md")))
    assert parsed == pages - 1 > 20  # all but the bad one, which the serial pass reports
    page.write_text(original, "utf-8")
    clear_page_cache()
    assert _build_in_workers(scratch_site, tmp_path / "spread", "--no-search").returncode == 0
    clear_page_cache()
    assert build(scratch_site, tmp_path / "serial", "--no-search").exit_code == 0
    assert _differing_files(tmp_path / "serial", tmp_path / "spread") == []


def test_pickling_a_parsed_page_leaves_no_second_copy_of_its_text(site_root):
    from sitegen.errors import Diagnostics
    from sitegen.site.load import parse_page_bytes

    # pickle writes a str through a UTF-8 copy that CPython keeps inside the string (and
    # sys.getsizeof counts); the page cache is pickled while the site's pages are in memory
    for path in sorted((site_root / "content" / "articles").rglob("*.md"))[:5]:
        page = parse_page_bytes(path, path.read_bytes(), Diagnostics(echo=False))
        texts = (page.summary, page.body_html, page.text)
        assert all(re.search(r"[\u4e00-\u9fff]", text) for text in texts)
        sizes = [sys.getsizeof(text) for text in texts]
        assert pickle.loads(pickle.dumps(page, protocol=pickle.HIGHEST_PROTOCOL)) == page
        assert [sys.getsizeof(text) for text in texts] == sizes


def test_template_error_while_workers_prepare_pages_names_template_and_line(scratch_site):
    line = _break_template(scratch_site, "entity.html", "{{ entity.no_such_field }}")
    result = _build_in_workers(scratch_site, scratch_site / "public")
    assert "pipeline started" in result.stderr and "prepared in workers" not in result.stderr
    assert result.returncode == 1, result.stderr
    assert f"entity.html:{line}" in result.stderr and "no_such_field" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (scratch_site / "public").exists()


@pytest.fixture()
def scratch_site(site_root, tmp_path) -> Path:
    root = tmp_path / "site"
    for name in ("content", "templates", "static"):
        shutil.copytree(site_root / name, root / name)
    shutil.copy(site_root / "sitegen.yaml", root / "sitegen.yaml")
    if (site_root / ".sitegen-cache").is_dir():  # entity extraction already done once: reuse it
        shutil.copytree(site_root / ".sitegen-cache", root / ".sitegen-cache")
    return root


def test_failed_build_keeps_previous_site_and_names_file_and_line(scratch_site):
    out = scratch_site / "public"
    assert build(scratch_site, out, "--no-search").exit_code == 0
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    page = next((scratch_site / "content" / "articles").rglob("*.md"))
    page.write_text(page.read_text("utf-8").replace("date_uncertain:", "date_uncertain: [oops\nx:"), "utf-8")
    result = build(scratch_site, out, "--no-search")
    assert result.exit_code == 1
    assert f"{page}:" in result.output and "malformed YAML" in result.output
    assert "Traceback" not in result.output
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    assert not list(scratch_site.glob(".public.*"))


def test_template_error_names_template_and_line(scratch_site):
    line = _break_template(scratch_site, "article.html", "{{ article.no_such_field }}")
    result = build(scratch_site, scratch_site / "public", "--no-search")
    assert result.exit_code == 1
    assert f"article.html:{line}" in result.output and "no_such_field" in result.output


def test_slug_collision_is_refused(scratch_site):
    pages = sorted((scratch_site / "content" / "articles").rglob("*.md"))
    slug = parse_page(pages[0].read_text("utf-8"), pages[0]).front["slug"]
    text = pages[1].read_text("utf-8")
    old = parse_page(text, pages[1]).front["slug"]
    pages[1].write_text(text.replace(f"slug: {old}", f"slug: {slug}"), "utf-8")
    result = build(scratch_site, scratch_site / "public", "--no-search")
    assert result.exit_code == 1 and "already used" in result.output


def test_raw_html_in_content_is_escaped(scratch_site):
    page = next((scratch_site / "content" / "articles").rglob("*.md"))
    text = page.read_text("utf-8")
    front = parse_page(text, page).front
    text = text.replace(f"title: {front['title']}", "title: <script>alert(1)</script>标题", 1)
    page.write_text(text + '\n<img src=x onerror="alert(2)"> [x](javascript:alert(3))\n', "utf-8")
    out = scratch_site / "public"
    assert build(scratch_site, out, "--no-search").exit_code == 0
    html = (out / "articles" / front["slug"] / "index.html").read_text("utf-8")
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;标题" in html
    assert "<img src=x" not in html and "javascript:alert" not in html.split("</main>")[0].split('href="')[-1]
    assert 'href="javascript:' not in html


def test_sample_site_builds_with_strict(site_root, tmp_path):
    result = build(site_root, tmp_path / "strict", "--strict", "--no-search")
    assert result.exit_code == 0, result.output
    assert "0 warning(s)" in result.output


def test_strict_turns_a_warning_into_failure_and_warns_once(scratch_site):
    for page in sorted((scratch_site / "content" / "articles").rglob("*.md"))[:2]:
        page.write_text(page.read_text("utf-8").replace("draft: false", "draft: false\ncolour: red"), "utf-8")
    relaxed = build(scratch_site, scratch_site / "public", "--no-search")
    assert relaxed.exit_code == 0 and "2 warning(s)" in relaxed.output
    strict = build(scratch_site, scratch_site / "public2", "--strict", "--no-search")
    assert strict.exit_code == 1 and "--strict" in strict.output
    assert not (scratch_site / "public2").exists()


def test_template_syntax_error_names_template_and_line_without_traceback(scratch_site):
    template = scratch_site / "templates" / "week.html"
    lines = template.read_text("utf-8").split("\n")
    lines[2] = lines[2] + " {% if %}"
    template.write_text("\n".join(lines), "utf-8")
    result = build(scratch_site, scratch_site / "public", "--no-search")
    assert result.exit_code == 1
    assert "week.html:3" in result.output and "Traceback" not in result.output


def test_each_warning_is_shown_once(capsys):
    from sitegen.errors import Diagnostics

    diagnostics = Diagnostics()
    for _ in range(3):
        diagnostics.warn("unknown front matter key 'colour'", "content/a.md", 4)
    diagnostics.warn("unknown front matter key 'colour'", "content/b.md", 4)
    assert capsys.readouterr().err.count("warning:") == 2
    assert diagnostics.warnings == ["content/a.md:4: unknown front matter key 'colour'",
                                    "content/b.md:4: unknown front matter key 'colour'"]


def test_nothing_changed_nothing_built(scratch_site):
    """A second build with no input changed does nothing (and leaves the output as it was);
    an edited page, a deleted output file or --force build again; --strict still fails on
    the warnings of the last build."""
    out = scratch_site / "public"
    first = build(scratch_site, out)
    searchable = sum(1 for p in out.rglob("*.html") if "pagefind" not in p.parts and "data-pagefind-body" in p.read_text("utf-8"))
    assert first.exit_code == 0 and f"search index: {searchable} pages" in first.output and searchable > 150
    before = {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()}
    again = build(scratch_site, out)
    assert again.exit_code == 0 and "up to date" in again.output
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()} == before
    page = sorted((scratch_site / "content" / "articles").rglob("*.md"))[0]
    page.write_text(page.read_text("utf-8").replace("title: ", "title: 改过的", 1), "utf-8")
    edited = build(scratch_site, out)
    slug = parse_page(page.read_text("utf-8"), page).front["slug"]
    assert "up to date" not in edited.output
    assert "改过的" in (out / "articles" / slug / "index.html").read_text("utf-8")
    (out / "404.html").unlink()
    assert "up to date" not in build(scratch_site, out).output and (out / "404.html").is_file()
    assert "up to date" not in build(scratch_site, out, "--force").output
    page.write_text(page.read_text("utf-8").replace("title: ", "unknown_key: 1\ntitle: ", 1), "utf-8")
    assert build(scratch_site, out).exit_code == 0  # a warning only
    strict = build(scratch_site, out, "--strict")
    assert strict.exit_code != 0 and "unknown front matter key" in strict.output


@pytest.mark.parametrize("out", ["content", "templates", "."])
def test_an_output_folder_that_would_replace_sources_is_refused_before_any_work(scratch_site, out):
    shutil.rmtree(scratch_site / ".sitegen-cache", ignore_errors=True)  # a build that did any work would make it
    before = sorted(p.relative_to(scratch_site) for p in scratch_site.rglob("*") if p.is_file())
    result = build(scratch_site, scratch_site / out)
    assert result.exit_code == 2
    assert "refusing to use" in result.output and "it would replace sources" in result.output
    assert "Traceback" not in result.output
    assert sorted(p.relative_to(scratch_site) for p in scratch_site.rglob("*") if p.is_file()) == before


def test_an_undated_article_is_built_but_in_no_digest(scratch_site):
    """A page whose source gives no date has no `date`: it gets its page, search and entity
    pages, the 日期不详 list, and no digest or feed entry."""
    page = scratch_site / "content" / "articles" / "undated.md"
    page.write_text("---\ntitle: 工业和信息化部召开无日期的会议\ndate_uncertain: true\nslug: no-date\n---\n"
                    "工业和信息化部召开会议，比亚迪和华为的负责人参加。\n", "utf-8")
    out = scratch_site / "public"
    result = build(scratch_site, out, "--force")
    assert result.exit_code == 0, result.output
    article = (out / "articles" / "no-date" / "index.html").read_text("utf-8")
    assert "日期不详" in article and 'href="/undated/"' in article and "datePublished" in article
    assert "收录于" not in article
    listing = parse(out / "undated" / "index.html")
    assert ("/articles/no-date/", "工业和信息化部召开无日期的会议") in listing.links
    for week in (out / "weeks").glob("*/index.html"):
        assert "/articles/no-date/" not in week.read_text("utf-8"), week
    for feed in ("feed.xml", "weeks/feed.xml"):
        assert "/articles/no-date/" not in (out / feed).read_text("utf-8")
    assert "/undated/" in (out / "sitemap.xml").read_text("utf-8")
    assert "/undated/" in (out / "weeks" / "index.html").read_text("utf-8")
    byd = (out / "entities" / "org" / "bi-ya-di" / "index.html").read_text("utf-8")
    assert "/articles/no-date/" in byd and "日期不详" in byd
    # a page that gives no date must say so: a missing date without date_uncertain is an error
    page.write_text("---\ntitle: 没有日期\nslug: no-date\n---\n正文。\n", "utf-8")
    result = build(scratch_site, out, "--force")
    assert result.exit_code == 1 and "undated.md:1: 'date' is required" in result.output


def test_a_big_previous_site_is_deleted_in_the_background(scratch_site, monkeypatch):
    """Past BACKGROUND_REMOVAL files, the site a build replaces is deleted by a process of its
    own: the new site is in place at once, and the old one is gone soon after."""
    import time

    from sitegen import output

    monkeypatch.setattr(output, "BACKGROUND_REMOVAL", 10)
    out = scratch_site / "public"
    assert build(scratch_site, out, "--no-search").exit_code == 0
    first = folder_files(out)
    page = next((scratch_site / "content" / "articles").rglob("*.md"))
    page.write_text(page.read_text("utf-8").rstrip("\n") + "\n\n编辑补充的一句话。\n", "utf-8")
    assert build(scratch_site, out, "--no-search", "--force").exit_code == 0  # every file new: no spare
    second = folder_files(out)
    assert second != first and second.keys() == first.keys()
    deadline = time.monotonic() + 30
    while list(scratch_site.glob(".public.*")) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not list(scratch_site.glob(".public.*"))
    assert folder_files(out) == second


def test_the_site_a_build_replaced_is_the_next_builds_start(scratch_site, tmp_path, monkeypatch):
    """A build that linked most of its files from the site it replaced keeps that site (in
    .sitegen-cache/) as the spare the next build starts from: only the files that differ
    from the current site are linked again (nor are the search index's files it keeps
    compressed again). Whatever the spare holds, files added, replaced or edited in place,
    the site published is the one a build from scratch makes; a failed build gives the spare
    back and leaves the site as it was."""
    from sitegen.search import shards

    monkeypatch.setattr(shards, "SHARDS", shards.ShardCut(least=10, spread=20, most=60))  # several shards
    out = scratch_site / "public"
    page = sorted((scratch_site / "content" / "articles").rglob("*.md"))[3]
    text = page.read_text("utf-8").rstrip("\n")
    assert build(scratch_site, out).exit_code == 0
    first = folder_files(out)
    copy = _spare_of(scratch_site, out)  # a first build replaced nothing: its copy
    assert folder_files(copy).keys() == first.keys()
    page.write_text(text + "\n\n第一句补充。\n", "utf-8")
    assert build(scratch_site, out).exit_code == 0
    spare = _spare_of(scratch_site, out)
    assert folder_files(spare) == first  # the site it replaced, every file
    inodes = {p.relative_to(out).as_posix(): p.stat().st_ino for p in out.rglob("*") if p.is_file()}
    (spare / "articles" / "stray.html").write_text("不属于网站", "utf-8")
    (spare / "feed.xml").unlink()
    (spare / "feed.xml").write_text("换过的文件", "utf-8")  # a new file under the same name
    (spare / "stray-folder" / "deeper").mkdir(parents=True)  # a folder the site does not have
    (spare / "stray-folder" / "deeper" / "index.html").write_text("不属于网站", "utf-8")
    shutil.rmtree(spare / "weeks")  # a folder of the site gone, with the folders in it
    page.write_text(text + "\n\n第二句补充。\n", "utf-8")
    compressed: list[bytes] = []
    real_compress = gzip.compress
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(gzip, "compress", lambda data, *args, **kw: compressed.append(data) or real_compress(data, *args, **kw))
        assert build(scratch_site, out).exit_code == 0
    second = folder_files(out)
    filters = {gzip.decompress(data) for r, data in second.items() if r.startswith("pagefind/filter/")}
    assert filters and not filters & set(compressed)  # the filters the edit left: not compressed again
    fresh = tmp_path / "fresh"
    assert build(scratch_site, fresh, "--force").exit_code == 0
    assert second == folder_files(fresh)  # nothing of what the spare held
    assert "up to date" in build(scratch_site, out).output  # the output recorded as it is
    kept = [r for r, inode in inodes.items() if (out / r).is_file() and (out / r).stat().st_ino == inode]
    assert len(kept) > len(inodes) // 2 and "404.html" in kept  # the files the edit left were not copied
    # the search index too: only the fragments of the edited page's block of pages are new
    fragments = [r for r in inodes if r.startswith("pagefind/fragment/")]
    assert len(fragments) > 200 and len([r for r in kept if r in fragments]) >= len(fragments) - 128
    chunks = [r for r in inodes if r.startswith("pagefind/index/")]  # and the word chunks of the words it changed
    assert len(chunks) > 20 and len([r for r in kept if r in chunks]) >= len(chunks) * 2 // 3
    with open(spare / "404.html", "ab") as stream:  # edited in place: the current site's 404 page too
        stream.write(b"<!-- edited -->")
    assert (out / "404.html").read_bytes().endswith(b"<!-- edited -->")
    assert "up to date" not in build(scratch_site, out).output  # the output changed: built again
    assert folder_files(out) == second
    assert not any(name.startswith(".public.") for name in os.listdir(scratch_site) if (scratch_site / name).is_dir()
                   and ".staging-" in name)
    page.write_text(text + "\n\n第三句补充。\n", "utf-8")
    assert build(scratch_site, out).exit_code == 0 and spare.is_dir()
    third = folder_files(out)
    page.write_text(text.replace("date_uncertain:", "date_uncertain: [oops\nx:"), "utf-8")
    assert build(scratch_site, out).exit_code == 1
    assert folder_files(out) == third and (spare / ".sitegen-output").is_file()
    assert not list(scratch_site.glob(".public.staging-*"))


def _spare_of(root: Path, out: Path) -> Path:
    """The spare kept for builds of ``root`` into ``out`` (the site's cache may hold the
    spares of the sample site's other output folders), which must be there."""
    from sitegen.site.build import BuildOptions, _spare_path

    spare = _spare_path(BuildOptions(root=root, out=out))
    assert spare.is_dir(), spare
    return spare


def _listed_staging_folders(monkeypatch) -> list[str]:
    """The folders of a staging folder that builds list from now on (relative paths, in
    the order listed)."""
    import sitegen.output as output

    listed: list[str] = []
    real_scandir = os.scandir

    def scandir(path):
        if ".public.staging-" in str(path):
            listed.append(str(path).split(".staging-", 1)[1].partition("/")[2])
        return real_scandir(path)

    monkeypatch.setattr(output.os, "scandir", scandir)
    return listed


def test_the_spare_is_known_by_its_record_and_listed_where_it_changed(scratch_site, tmp_path, monkeypatch):
    """The build that keeps the spare records its folders as it walked them (their names
    and times): the next build lists only the spare's folders whose time changed since, and
    before publishing counts the files of the folders it did not touch without listing
    them. Whatever was added to, replaced in or removed from the spare is still found, and a
    file lost from the new site while it is written (in a folder known by the record) fails
    the build and leaves the site as it was."""
    import sitegen.output as output

    monkeypatch.setattr(output, "SETTLING_NS", 0)  # the scratch site's folders are seconds old
    out = scratch_site / "public"
    page = sorted((scratch_site / "content" / "articles").rglob("*.md"))[3]
    text = page.read_text("utf-8").rstrip("\n")
    listed = _listed_staging_folders(monkeypatch)
    assert build(scratch_site, out).exit_code == 0
    for sentence in ["第一句补充。", "第二句补充。"]:
        page.write_text(f"{text}\n\n{sentence}\n", "utf-8")
        listed.clear()
        assert build(scratch_site, out).exit_code == 0
        folders = [p for p in out.rglob("*") if p.is_dir()]
    spare = _spare_of(scratch_site, out)
    assert len(folders) > 100 and len(listed) < len(folders) // 4  # the second edit's build: the record used
    (spare / "articles" / "stray.html").write_text("不属于网站", "utf-8")
    (spare / "feed.xml").unlink()
    (spare / "feed.xml").write_text("换过的文件", "utf-8")
    (spare / "stray-folder" / "deeper").mkdir(parents=True)
    shutil.rmtree(spare / "weeks")
    untouched = sorted(p for p in (spare / "entities").iterdir() if p.is_dir())[0]
    (untouched / "index.html").unlink()  # a folder below the top, the one above it as it was
    page.write_text(f"{text}\n\n第三句补充。\n", "utf-8")
    listed.clear()
    assert build(scratch_site, out).exit_code == 0
    changed = {"", "articles", untouched.relative_to(spare).as_posix()}
    assert changed <= set(listed) and len(listed) < len(folders) // 4
    fresh = tmp_path / "fresh"
    assert build(scratch_site, fresh, "--force").exit_code == 0
    assert folder_files(out) == folder_files(fresh)

    def losing(self):  # a file of a folder the record knows, lost before the site is published
        (self.path / untouched.relative_to(spare) / "index.html").unlink()
        return real_publish(self)

    real_publish = output.StagedSite.publish
    monkeypatch.setattr(output.StagedSite, "publish", losing)
    before = folder_files(out)
    page.write_text(f"{text}\n\n第四句补充。\n", "utf-8")
    result = build(scratch_site, out)
    assert result.exit_code == 1 and "lost files while it was written" in result.output
    assert folder_files(out) == before


def test_a_build_that_replaced_no_site_keeps_a_copy_of_its_own_as_the_spare(scratch_site, tmp_path, monkeypatch):
    """A first (or cold) build has no replaced site to keep as the spare: it keeps a copy of
    the site it published (hard links, the marker its own, the folders' modes as
    published whatever the umask, their names and times recorded), so the first build
    after it starts as every later one does: it lists almost none of its staging folders
    and links only what differs. The site that build publishes is a fresh build's, readable
    by all, and the site it replaced is the spare then."""
    out = scratch_site / "public"
    page = sorted((scratch_site / "content" / "articles").rglob("*.md"))[3]
    umask = os.umask(0o077)  # folders made without a mode are the owner's alone
    try:
        assert build(scratch_site, out).exit_code == 0
    finally:
        os.umask(umask)
    first = folder_files(out)
    spare = _spare_of(scratch_site, out)
    inodes = {p.relative_to(spare).as_posix(): p.stat().st_ino for p in spare.rglob("*") if p.is_file()}
    assert inodes.keys() == first.keys()
    assert all(inode == (out / r).stat().st_ino for r, inode in inodes.items() if r != ".sitegen-output")
    assert inodes[".sitegen-output"] != (out / ".sitegen-output").stat().st_ino  # the site's is never written through it
    folders = sorted(p.relative_to(out) for p in out.rglob("*") if p.is_dir())
    assert len(folders) > 100
    assert {(spare / f).stat().st_mode & 0o777 for f in folders} == {(out / f).stat().st_mode & 0o777 for f in folders} \
        == {0o755}
    listed = _listed_staging_folders(monkeypatch)
    page.write_text(page.read_text("utf-8").rstrip("\n") + "\n\n第一句补充。\n", "utf-8")
    assert build(scratch_site, out).exit_code == 0
    assert len(listed) < len(folders) // 4
    assert {(out / f).stat().st_mode & 0o777 for f in folders} == {0o755}
    spare = _spare_of(scratch_site, out)
    assert folder_files(spare) == first  # the site the edit replaced
    fresh = tmp_path / "fresh"
    assert build(scratch_site, fresh, "--force").exit_code == 0
    assert folder_files(out) == folder_files(fresh)
    assert not [name for name in os.listdir(scratch_site) if name.startswith(".public.")]


def test_a_build_drops_the_records_of_output_folders_that_are_gone(scratch_site, tmp_path):
    """Every output folder built into has its records in .sitegen-cache/ (manifest, state,
    digests, model, search shards, a spare of hard links to its files): once the folder is
    deleted they are dead weight, and the spare alone holds that site's bytes. A build
    removes the records whose manifest names a folder that is gone, or whose manifest is
    gone (and what is left of such a removal cut short); it leaves its own, those of folders
    still there, those whose manifest names no folder (an earlier version's), those a running
    build holds, and a folder named like a spare that is not a site."""
    import json
    import time

    from sitegen.site.build import BuildOptions, _manifest_path, _records_stem
    from sitegen.site.records import RecordsLock

    page = sorted((scratch_site / "content" / "articles").rglob("*.md"))[3]
    cache = scratch_site / ".sitegen-cache"
    outs = {name: scratch_site / name for name in ("public", "kept", "gone", "older", "unrecorded", "running")}
    for out in outs.values():
        assert build(scratch_site, out).exit_code == 0
    stems = {name: _records_stem(BuildOptions(root=scratch_site, out=out)) for name, out in outs.items()}

    def records(name: str) -> set[str]:
        return {p.name.removeprefix(stems[name]) for p in cache.iterdir() if p.name.split(".", 1)[0] == stems[name]}

    made = {".json", ".state.json", ".digests", ".model", ".shards", ".spare", ".spare-record", ".lock"}
    assert all(records(name) == made for name in outs)
    for name in ("gone", "older", "unrecorded", "running"):
        shutil.rmtree(outs[name])
    older = _manifest_path(BuildOptions(root=scratch_site, out=outs["older"]))
    manifest = json.loads(older.read_text("utf-8"))
    assert manifest.pop("out") == "older"  # (inside the site: named from its root)
    older.write_text(json.dumps(manifest), "utf-8")
    _manifest_path(BuildOptions(root=scratch_site, out=outs["unrecorded"])).unlink()
    _manifest_path(BuildOptions(root=scratch_site, out=outs["running"])).unlink()  # (not written yet)
    stranger = cache / "build-000000000000.spare"
    stranger.mkdir()
    (stranger / "index.html").write_text("不是网站", "utf-8")
    cut_short = cache / "build-111111111111.gone-x1y2z3" / "build-111111111111.spare"
    cut_short.mkdir(parents=True)  # a removal killed before it was done
    (cut_short / "index.html").write_text("旧网站", "utf-8")
    page.write_text(page.read_text("utf-8").rstrip("\n") + "\n\n第一句补充。\n", "utf-8")
    with RecordsLock(_manifest_path(BuildOptions(root=scratch_site, out=outs["running"])).with_suffix(".lock")):
        assert build(scratch_site, outs["public"]).exit_code == 0

    def put_aside() -> list[Path]:  # (removed in the background)
        return [p for p in cache.iterdir() if ".gone-" in p.name]

    deadline = time.monotonic() + 30
    while put_aside() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not put_aside()
    assert records("public") == made
    assert records("kept") == made
    assert records("older") == made
    assert records("running") == made - {".json"}
    assert records("gone") == set()
    assert records("unrecorded") == set()
    assert (stranger / "index.html").is_file()
    assert folder_files(outs["kept"])


def test_a_records_lock_taken_while_its_records_are_dropped_is_taken_again(tmp_path, monkeypatch):
    """A build waiting for the lock on its output folder's records while another drops
    them (lock file removed, then released) locks the file that is there afterwards, not
    the one removed: else a third build would find no lock held and drop its records."""
    import fcntl
    import threading

    from sitegen.site.records import RecordsLock

    path = tmp_path / "build-0123456789ab.lock"
    held: list[int] = []
    dropping = RecordsLock(path).__enter__()
    opened = threading.Event()
    flock = fcntl.flock

    def noted_flock(fd: int, operation: int) -> None:
        if threading.current_thread() is not threading.main_thread():
            opened.set()  # the waiting build has opened the lock file: it is about to wait
        flock(fd, operation)

    monkeypatch.setattr(fcntl, "flock", noted_flock)

    def wait_for_lock() -> None:
        with RecordsLock(path) as lock:
            assert lock.fd is not None
            held.append(os.fstat(lock.fd).st_ino)
            assert path.is_file()
            held.append(path.stat().st_ino)

    thread = threading.Thread(target=wait_for_lock)
    thread.start()
    assert opened.wait(10)
    path.unlink()  # the records dropped, the lock file with them
    dropping.__exit__(None, None, None)
    thread.join(10)
    assert len(held) == 2
    assert held[0] == held[1]


def test_a_build_lets_go_of_the_model_it_read_when_its_session_is_released(scratch_site, monkeypatch):
    """A build after a change reads the model the last build kept (while another process
    walks the output) and holds it through its session alone: once the session is released,
    nothing holds the model, whose memory the search index's merge then takes."""
    import weakref

    from sitegen.site import carry
    from sitegen.site.session import SiteSession

    out = scratch_site / "public"
    assert build(scratch_site, out, "--no-search").exit_code == 0
    read: list[weakref.ref] = []
    held: list[bool] = []
    load, release = carry.KeptModel.load.__func__, SiteSession.release

    def loaded(cls, *args):
        model = load(cls, *args)
        read.append(weakref.ref(model))
        return model

    def released(self):
        release(self)
        held.append(read[-1]() is not None)

    monkeypatch.setattr(carry.KeptModel, "load", classmethod(loaded))
    monkeypatch.setattr(SiteSession, "release", released)
    page = sorted((scratch_site / "content" / "articles").rglob("*.md"))[4]
    page.write_text(page.read_text("utf-8").replace("title: ", "title: 改过的", 1), "utf-8")
    result = build(scratch_site, out, "--no-search")
    assert result.exit_code == 0 and "as the last build made them" in result.output
    assert len(read) == 1 and held == [False]
    # the output walked by another process meanwhile (in a Python of its own: a thread another
    # test left running in this one would make the walk run here, as it must then)
    script = textwrap.dedent("""
        import os, sys
        from pathlib import Path
        from sitegen.errors import Diagnostics
        from sitegen.site import build

        walk = build._walk_output

        def noted(out):
            print("walked by", os.getpid(), flush=True)
            return walk(out)

        build._walk_output = noted
        root = Path(sys.argv[1])
        build.build_site(build.BuildOptions(root=root, out=root / "public", search=False), Diagnostics(echo=False))
        print("built by", os.getpid(), flush=True)
    """)
    page.write_text(page.read_text("utf-8").replace("title: 改过的", "title: 又改过的", 1), "utf-8")
    ran = subprocess.run([sys.executable, "-c", script, str(scratch_site)], capture_output=True, text=True, timeout=300)
    said = dict(line.rsplit(" ", 1) for line in ran.stdout.splitlines())
    assert said.keys() == {"walked by", "built by"} and said["walked by"] != said["built by"], ran.stdout + ran.stderr


def test_a_cold_build_makes_the_model_in_a_forked_process(scratch_site):
    """A build from nothing loads, groups and renders the site in a forked process that
    ends before the index stage, so the build's own process never holds the site's model;
    what that process warned of is the build's (shown once), --strict fails on it, and a
    page it cannot read fails the build with its file and line, the output left as it was.
    (In a Python of its own, whose stderr is a file, as a user's is: the forked process
    shows its warnings itself.)"""
    page = sorted((scratch_site / "content" / "articles").rglob("*.md"))[0]
    page.write_text(page.read_text("utf-8").replace("title: ", "colour: blue\ntitle: ", 1), "utf-8")
    script = textwrap.dedent("""
        import os, sys
        from pathlib import Path
        from sitegen.errors import Diagnostics, SitegenError
        from sitegen.site import build

        made = build._made_pages

        def noted(*args):
            print("made by", os.getpid(), flush=True)
            return made(*args)

        build._made_pages = noted
        root = Path(sys.argv[1])
        strict = sys.argv[2] == "strict"
        try:
            result = build.build_site(build.BuildOptions(root=root, out=root / "public", search=False,
                                                         strict=strict, force=True), Diagnostics())
        except SitegenError as error:
            print("failed", str(error).replace(" ", "_"), flush=True)
        else:
            print("warned", len(result.warnings), flush=True)
        print("built by", os.getpid(), flush=True)
    """)

    def run(mode: str) -> tuple[dict[str, str], str]:
        ran = subprocess.run([sys.executable, "-c", script, str(scratch_site), mode], capture_output=True, text=True,
                             timeout=300)
        assert ran.returncode == 0 and "Traceback" not in ran.stderr, ran.stderr
        return dict(line.rsplit(" ", 1) for line in ran.stdout.splitlines()), ran.stderr

    said, shown = run("plain")
    assert said["made by"] != said["built by"] and said["warned"] == "1", said
    assert shown.count("unknown front matter key 'colour'") == 1, shown
    site = folder_files(scratch_site / "public")
    said, _ = run("strict")
    assert said["made by"] != said["built by"] and said["failed"] == "1_warning(s)_and_--strict_is_set", said
    page.write_text(page.read_text("utf-8").replace("colour: blue\n", "weight: heavy\n", 1), "utf-8")
    said, _ = run("plain")
    assert said["made by"] != said["built by"], said
    assert f"{page.name}:2:_'weight'_must_be_a_whole_number" in said["failed"], said
    assert folder_files(scratch_site / "public") == site


def test_a_build_after_a_change_updates_the_model_the_last_build_kept(scratch_site, tmp_path, monkeypatch):
    """A build keeps the site's model (the pages as read, the grouping, the derived values)
    for the next build into the same folder, which then makes, groups and digests only what
    changed: one edited title is one article made and one change grouped, from the first
    build after a cold one on. Its site and its record of every dependency's digest are a
    cold build's; a damaged model is not used."""
    import json

    import sitegen.site.load as load
    from sitegen.site import build as build_module
    from sitegen.site.group import Grouping

    out, fresh = scratch_site / "public", tmp_path / "fresh"
    articles = len(list((scratch_site / "content").rglob("*.md")))
    page = sorted((scratch_site / "content" / "articles").rglob("*.md"))[4]
    model = build_module._model_path(build_module.BuildOptions(root=scratch_site, out=out))
    assert build(scratch_site, out, "--no-search").exit_code == 0 and model.is_file()
    made: list[str] = []
    grouped: list[int] = []
    make_article, update = load.make_article, Grouping.update

    def counted_make(page, *args):
        made.append(Path(page.path).name)
        return make_article(page, *args)

    def counted_update(self, changes):
        grouped.append(len(changes))
        return update(self, changes)

    monkeypatch.setattr(load, "make_article", counted_make)
    monkeypatch.setattr(Grouping, "update", counted_update)
    page.write_text(page.read_text("utf-8").replace("title: ", "title: 改过的", 1), "utf-8")
    assert build(scratch_site, out, "--no-search").exit_code == 0
    assert made == [page.name] and grouped == [1]

    def record(folder: Path) -> dict:
        options = build_module.BuildOptions(root=scratch_site, out=folder, search=False)
        return json.loads(build_module._state_path(options).read_text("utf-8"))

    assert build(scratch_site, fresh, "--no-search", "--force").exit_code == 0
    assert _differing_files(out, fresh) == []
    assert record(out)["values"] == record(fresh)["values"] and record(out)["pages"] == record(fresh)["pages"]
    model.write_bytes(b"not a model")
    made.clear()
    page.write_text(page.read_text("utf-8").replace("title: 改过的", "title: ", 1), "utf-8")
    assert build(scratch_site, out, "--no-search").exit_code == 0
    assert len(made) == articles  # the whole site read again from the page cache
    assert build(scratch_site, fresh, "--no-search", "--force").exit_code == 0
    assert _differing_files(out, fresh) == []


def test_a_model_read_is_freed_by_reference_counting_alone(scratch_site):
    """Reading the kept model makes no cycle of garbage: the build freezes what it read
    before the collector runs again (a collection of a 10,000-item site's model took 0.27 s),
    so a cycle would keep the whole model frozen after the session released it, to be
    collected at the end (0.5 s, and its memory held through the search index's merge)."""
    import gc
    import json
    import weakref

    from sitegen.site import build as build_module
    from sitegen.site.carry import KeptModel

    options = build_module.BuildOptions(root=scratch_site, out=scratch_site / "public", search=False)
    assert build(scratch_site, options.out, "--no-search").exit_code == 0
    inputs = json.loads(build_module._manifest_path(options).read_text("utf-8"))["inputs"]
    enabled = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        model = KeptModel.load(build_module._model_path(options), inputs, build_module._code_signature())
        assert model is not None and model.grouping and model.plans
        pages = weakref.ref(model.pages)
        del model
        assert pages() is None  # freed at once
        gc.set_debug(gc.DEBUG_SAVEALL)
        gc.collect()
        left = [type(found).__qualname__ for found in gc.garbage if type(found).__module__.startswith("sitegen.")]
        assert left == []  # nothing of sitegen's left for the collector (another thread may leave its own)
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        if enabled:
            gc.enable()


def test_a_new_build_reads_only_the_pages_whose_files_changed(scratch_site, tmp_path, monkeypatch):
    """A build (a new process, a new page cache read from disk) knows an unchanged page by its
    file's size, modification time and inode, without reading it; an edited page, or one
    only touched, is read again, and the site is the one a build from scratch makes."""
    import sitegen.site.load as load

    pages = sorted((scratch_site / "content" / "articles").rglob("*.md"))
    assert build(scratch_site, scratch_site / "public", "--no-search").exit_code == 0
    log = ProcessLog(tmp_path / "read.log")  # a cold build reads in a process it forks
    reader = load.read_regular_file

    def counted(path, *args, **kwargs):
        if Path(path).suffix == ".md":
            log.append(Path(path).name)
        return reader(path, *args, **kwargs)

    monkeypatch.setattr(load, "read_regular_file", counted)
    edited, touched = pages[2], pages[5]
    edited.write_text(edited.read_text("utf-8") + "\n又补充一句。\n", "utf-8")
    os.utime(touched)  # same bytes, a new modification time
    assert build(scratch_site, scratch_site / "public", "--no-search").exit_code == 0
    assert sorted(log.lines()) == sorted([edited.name, touched.name])
    log.clear()
    shutil.rmtree(scratch_site / ".sitegen-cache")
    assert build(scratch_site, tmp_path / "fresh", "--no-search").exit_code == 0
    assert len(log.lines()) == len(list((scratch_site / "content").rglob("*.md")))  # no cache: every page read
    assert _differing_files(scratch_site / "public", tmp_path / "fresh") == []


def test_every_published_file_is_readable_by_all_whatever_the_umask(scratch_site):
    """A build sets the mode of what it writes and of the folders it makes, not of the files
    it links from the previous site (made so when that site was published): under umask 077
    the first build, an edit's build (from the previous site), a new article's (a new
    folder) and the one after (from the spare) publish files 0644 and folders 0755."""
    import os
    import stat

    out = scratch_site / "public"
    articles = sorted((scratch_site / "content" / "articles").rglob("*.md"))
    before = os.umask(0o077)
    try:
        for step in range(4):
            if step == 1:
                articles[0].write_text(articles[0].read_text("utf-8").rstrip("\n") + "\n\n编辑补充的一句话。\n", "utf-8")
            elif step == 2:
                text = articles[1].read_text("utf-8").replace(f"slug: {articles[1].stem}", "slug: 20990101-newpage", 1)
                (articles[1].parent / "20990101-newpage.md").write_text(text.replace("date: ", "date: 2099-01-01 #", 1),
                                                                         "utf-8")
            elif step == 3:
                articles[2].write_text(articles[2].read_text("utf-8").rstrip("\n") + "\n\n又一句话。\n", "utf-8")
            result = build(scratch_site, out, "--no-search")
            assert result.exit_code == 0, result.output
            modes = {}
            for folder, _, files in os.walk(out):
                modes[folder] = stat.S_IMODE(os.stat(folder).st_mode)
                for name in files:
                    modes[os.path.join(folder, name)] = stat.S_IMODE(os.stat(os.path.join(folder, name)).st_mode)
            wrong = {path: oct(mode) for path, mode in modes.items()
                     if mode != (0o755 if os.path.isdir(path) else 0o644)}
            assert not wrong, (step, list(wrong.items())[:5])
        assert (out / "articles" / "20990101-newpage" / "index.html").is_file()
    finally:
        os.umask(before)


def test_a_build_given_its_root_otherwise_renders_nothing_again(scratch_site, monkeypatch):
    """Inside the site (``sitegen build``) or from the folder above (``--root site``): the
    same site, so the second build renders no page again (the pages were known by their path
    as given: every page was rendered again, 38 s instead of 12 s for a day's build at 10,000
    items). Messages still name a file by its path from the working folder."""
    page = sorted((scratch_site / "content" / "articles").rglob("*.md"))[3]
    page.write_text(page.read_text("utf-8").replace("title: ", "colour: red\ntitle: ", 1), "utf-8")
    monkeypatch.chdir(scratch_site)
    inside = build(Path("."), Path("public"), "--no-search")
    relpath = page.relative_to(scratch_site).as_posix()
    assert inside.exit_code == 0 and f"warning: {relpath}:" in inside.output, inside.output
    monkeypatch.chdir(scratch_site.parent)
    above = build(Path(scratch_site.name), Path(scratch_site.name) / "public", "--no-search")
    made = re.search(r"built \S+: ([\d,]+) files \(([\d,]+) as the last build made them\)", above.output)
    static = [path for path in (scratch_site / "public" / "static").rglob("*") if path.is_file()]
    assert above.exit_code == 0 and made is not None, above.output
    assert int(made[2]) == int(made[1]) - len(static)  # every page as it was (the static files are counted apart)
    assert f"warning: {scratch_site.name}/{relpath}:" in above.output, above.output


_FREED_THEN_TRIMMED = """
import sys
from sitegen.collector import return_free_memory

def resident_mb():
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS")) // 1024

texts = [("文" * 600) + str(n) for n in range(200_000)]  # 240 MB of strings from the C allocator
kept = texts[::50]  # a few live on among the freed ones, as a build's do once its model is released
del texts
before = resident_mb()
if sys.argv[1] == "trim":
    return_free_memory()
print(before, resident_mb())
"""


@pytest.mark.parametrize("trimmed", [True, False])
def test_memory_freed_by_a_released_model_goes_back_to_the_system(trimmed: bool) -> None:
    """Strings freed among live ones stay in the C allocator's pages, counted against the
    build, until :func:`return_free_memory` gives those pages back (a fresh process: a
    heap of known shape)."""
    done = subprocess.run([sys.executable, "-c", _FREED_THEN_TRIMMED, "trim" if trimmed else "keep"],
                          capture_output=True, text=True, check=True, cwd=Path(__file__).resolve().parent.parent)
    before, after = map(int, done.stdout.split())
    assert before > 200
    if trimmed:
        assert after < before - 150
    else:
        assert after > before - 20  # what makes the trim worth its call
