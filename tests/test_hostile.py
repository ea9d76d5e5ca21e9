"""Hostile and broken input: rendered safely (escaped, never executed) or rejected with a
message naming the file (and line); never a traceback, never a write outside the output
folder, never a lost page. Fixture pages live in tests/fixtures/hostile/."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from html.parser import HTMLParser
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sitegen.frontmatter import dump_page, parse_page
from sitegen.ingest.pipeline import plan_document
from sitegen.site.group import entity_slug
from tests.conftest import build, running_pagefind

HOSTILE = Path(__file__).parent / "fixtures" / "hostile"
GOOD = ("script-everywhere.md", "traversal-title.md", "emoji-rtl.md")


def make_site(tmp_path: Path, site_root: Path, *pages: str, extra: dict[str, bytes] | None = None) -> Path:
    root = tmp_path / "site"
    shutil.copytree(site_root / "templates", root / "templates")
    shutil.copytree(site_root / "static", root / "static")
    articles = root / "content" / "articles"
    articles.mkdir(parents=True)
    for name in pages:
        shutil.copy(HOSTILE / name, articles / name)
    for name, data in (extra or {}).items():
        (articles / name).write_bytes(data)
    return root


def run_build(root: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sitegen", "build", "--root", str(root), "--out", str(root / "public"),
                           "--no-search", *args], capture_output=True, text=True, timeout=300)


def files_outside(root: Path) -> set[str]:
    """Everything under the site root except the output and the build cache."""
    return {str(p.relative_to(root)) for p in root.rglob("*")
            if p.relative_to(root).parts[0] not in {"public", ".sitegen-cache"}}


class ActiveContent(HTMLParser):
    """Elements and attributes that could run code: what a page must not contain."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in {"iframe", "object", "embed", "frame"}:
            self.found.append(f"<{tag}>")
        if tag == "script":
            # only the site's own scripts: JSON-LD data and the hashed search module
            if attrs.get("type") != "application/ld+json" and not (attrs.get("src") or "").startswith("/static/"):
                self.found.append(f"<script {attrs}>")
        for name, value in attrs.items():
            if name.startswith("on"):
                self.found.append(f"{tag}[{name}]")
            scheme = (value or "").strip().lower()
            if name in {"href", "src", "action"} and scheme.startswith(("javascript:", "data:", "vbscript:")):
                self.found.append(f"{tag}[{name}={value}]")


def active_content(html: str) -> list[str]:
    parser = ActiveContent()
    parser.feed(html)
    return parser.found


def test_markup_in_every_field_is_escaped_never_executed(tmp_path, site_root, browser):
    root = make_site(tmp_path, site_root, *GOOD)
    result = run_build(root)
    assert result.returncode == 0, result.stderr
    html = (root / "public" / "articles" / "hostile-script" / "index.html").read_text("utf-8")
    assert "&lt;script&gt;alert(&#39;title&#39;)&lt;/script&gt;标题" in html
    # every generated page is safe, not only the article (feeds, digests, entity pages, home)
    for page in (root / "public").rglob("*.html"):
        assert active_content(page.read_text("utf-8")) == [], page
    for page in (root / "public").rglob("*.xml"):
        text = page.read_text("utf-8")
        assert "<script" not in text and "<iframe" not in text, page
    from tests.conftest import StaticServer

    server = StaticServer(root / "public")
    try:
        tab = browser.new_page()
        dialogs: list[str] = []
        tab.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        tab.goto(server.base + "/articles/hostile-script/")
        for link in tab.locator("main a").all():
            href = link.get_attribute("href") or ""
            assert not href.lower().startswith(("javascript:", "data:")), href
        tab.wait_for_timeout(300)
        assert dialogs == []
        assert "<script>alert('body')</script>" in tab.locator(".article-body").inner_text()
        tab.close()
    finally:
        server.close()


def test_path_like_title_and_emoji_render_inside_the_output(tmp_path, site_root):
    root = make_site(tmp_path, site_root, "traversal-title.md", "emoji-rtl.md")
    before = files_outside(root)
    assert run_build(root).returncode == 0
    assert files_outside(root) == before  # nothing written outside public/
    page = (root / "public" / "articles" / "hostile-traversal-title" / "index.html").read_text("utf-8")
    assert "../../etc/passwd</h1>" in page
    emoji = (root / "public" / "articles" / "hostile-emoji-rtl" / "index.html").read_text("utf-8")
    assert "表情😀与从右到左文字 שלום עולם مرحبا" in emoji and "🇨🇳" in emoji


@pytest.mark.parametrize("name,data,expected", [
    ("malformed-yaml.md", None, r"malformed-yaml\.md:\d+: malformed YAML front matter"),
    ("bad-slug.md", None, r"bad-slug\.md:4: 'slug' may only hold"),
    ("long-title.md", None, r"long-title\.md:2: 'title' is 500 characters long"),
    ("empty.md", b"", r"empty\.md:1: missing front matter"),
    ("binary.md", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 10, r"binary\.md(:\d+)?: not valid UTF-8"),
    ("nul.md", "---\ntitle: 空字符\ndate: 2025-03-07\n---\n正文\x00。\n".encode(), r"nul\.md:5: NUL byte"),
    ("gbk.md", "---\ntitle: 国标编码\ndate: 2025-03-07\n---\n正文。\n".encode("gbk"),
     r"gbk\.md:2: not valid UTF-8.*sitegen ingest"),
    ("bad-date.md", "---\ntitle: 日期不对\ndate: 2025-13-45\n---\n正文。\n".encode(),
     r"bad-date\.md:3: invalid value in front matter: month must be in 1..12"),
])
def test_bad_page_is_rejected_with_file_and_line_and_old_site_kept(tmp_path, site_root, name, data, expected):
    root = make_site(tmp_path, site_root, "emoji-rtl.md")
    assert run_build(root).returncode == 0
    snapshot = {p: p.read_bytes() for p in (root / "public").rglob("*") if p.is_file()}
    articles = root / "content" / "articles"
    if data is None:
        shutil.copy(HOSTILE / name, articles / name)
    else:
        (articles / name).write_bytes(data)
    result = run_build(root)
    assert result.returncode == 1
    assert re.search(expected, result.stderr), result.stderr
    assert "Traceback" not in result.stderr
    assert {p: p.read_bytes() for p in (root / "public").rglob("*") if p.is_file()} == snapshot
    assert (articles / name).exists()  # the user's file is untouched


def test_huge_page_is_rejected_quickly(tmp_path, site_root):
    huge = b"---\ntitle: big\ndate: 2025-03-08\n---\n" + ("很长的一行。" * 3_000_000).encode()
    root = make_site(tmp_path, site_root, extra={"huge.md": huge})
    started = time.perf_counter()
    result = run_build(root)
    assert result.returncode == 1 and "huge.md: too large: 51 MB (at most 5 MB)" in result.stderr
    assert time.perf_counter() - started < 60


def test_long_lines_and_deep_nesting_render(tmp_path, site_root):
    nested = "".join("  " * depth + "- 层\n" for depth in range(500))
    page = f"---\ntitle: 极端排版\ndate: 2025-03-09\nslug: extreme\n---\n{'长' * 10_000}\n\n{nested}\n" + "> " * 300 + "引用\n"
    root = make_site(tmp_path, site_root, extra={"extreme.md": page.encode()})
    result = run_build(root)
    assert result.returncode == 0, result.stderr
    assert "长" * 10_000 in (root / "public" / "articles" / "extreme" / "index.html").read_text("utf-8")


def test_same_slug_twice_is_refused_naming_both(tmp_path, site_root):
    page = "---\ntitle: 同名{n}\ndate: 2025-03-10\nslug: same\n---\n正文。\n"
    root = make_site(tmp_path, site_root, extra={"a.md": page.format(n=1).encode(), "b.md": page.format(n=2).encode()})
    result = run_build(root)
    assert result.returncode == 1 and "slug 'same' is already used by" in result.stderr
    assert "a.md" in result.stderr and "b.md" in result.stderr


def test_ingest_skips_broken_raw_files_and_keeps_going(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "empty.txt").write_bytes(b"")
    (raw / "nul.txt").write_bytes("正文\x00二进制".encode())
    (raw / "latin1.txt").write_bytes("Caf\xe9 cr\xe8me br\xfbl\xe9e \xe0 la fran\xe7aise".encode("latin-1"))
    (raw / "huge.txt").write_bytes(b"x" * (21 * 1024 * 1024))
    (raw / "ok.txt").write_text("一条正常的新闻标题\n2月21日，工业和信息化部召开座谈会，听取企业意见建议。", "utf-8")
    (raw / "page.html").write_text("<html><head><title>页面标题</title><script>alert(1)</script></head><body><article>"
                                   "<p>工业和信息化部近日印发通知，组织开展算力强基揭榜行动，推动优秀成果示范应用推广。</p>"
                                   "<p onclick='alert(2)'>第二段正文，内容足够长，可以作为正文被提取出来。</p>"
                                   "</article></body></html>", "utf-8")
    result = subprocess.run([sys.executable, "-m", "sitegen", "ingest", str(raw), "--content", str(tmp_path / "c")],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    for name, reason in (("empty.txt", "empty file"), ("nul.txt", "binary"), ("latin1.txt", "not UTF-8"),
                         ("huge.txt", "too large")):
        assert re.search(rf"{name}.*{reason}", result.stderr), (name, result.stderr)
    written = "\n".join(p.read_text("utf-8") for p in (tmp_path / "c").rglob("*.md"))
    assert "一条正常的新闻标题" in written and "算力强基揭榜行动" in written
    assert "alert" not in written


def test_killed_build_leaves_previous_site_exactly(tmp_path, site_root):
    root = tmp_path / "site"
    for name in ("content", "templates", "static"):
        shutil.copytree(site_root / name, root / name)
    out = root / "public"
    assert build(root, out).exit_code == 0
    snapshot = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    system_tmp = tmp_path / "system-tmp"  # the builds' TMPDIR: a killed build must leave nothing there
    system_tmp.mkdir()
    for delay in (0.3, 1.0, 2.0):
        shutil.rmtree(root / ".sitegen-cache", ignore_errors=True)  # make the build slow enough to interrupt
        process = subprocess.Popen([sys.executable, "-m", "sitegen", "build", "--root", str(root), "--out", str(out)],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                   env={**os.environ, "TMPDIR": str(system_tmp)})
        time.sleep(delay)
        process.send_signal(signal.SIGKILL)
        process.wait()
        assert {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()} == snapshot
    # once more, killed while Pagefind indexes
    shutil.rmtree(root / ".sitegen-cache", ignore_errors=True)
    process = subprocess.Popen([sys.executable, "-m", "sitegen", "build", "--root", str(root), "--out", str(out)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               env={**os.environ, "TMPDIR": str(system_tmp)})
    deadline = time.time() + 120
    while time.time() < deadline and process.poll() is None:
        if running_pagefind(process.pid):
            break
        time.sleep(0.02)
    assert process.poll() is None, "the build ended before its index was seen"
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()} == snapshot
    assert build(root, out).exit_code == 0  # and the next build cleans up what the killed ones left
    assert not [p for p in root.iterdir() if p.name.startswith(".public.")]
    assert list(system_tmp.iterdir()) == []


def test_two_builds_identical_whatever_the_clock(tmp_path, site_root):
    root = tmp_path / "site"
    for name in ("content", "templates", "static"):
        shutil.copytree(site_root / name, root / name)
    outputs = []
    for epoch in ("1000000000", "1900000000"):
        env = {**os.environ, "SOURCE_DATE_EPOCH": epoch}
        out = tmp_path / f"out-{epoch}"
        result = subprocess.run([sys.executable, "-m", "sitegen", "build", "--root", str(root), "--out", str(out)],
                                capture_output=True, text=True, env=env, timeout=300)
        assert result.returncode == 0, result.stderr
        outputs.append({p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()})
    assert outputs[0] == outputs[1]


_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=60)


@settings(max_examples=200, deadline=None)
@given(title=_text.filter(lambda t: t.strip()), source=_text, tags=st.lists(_text, max_size=4), body=_text)
def test_front_matter_round_trips(title, source, tags, body):
    from datetime import date

    front = {"title": title, "date": date(2025, 1, 2), "date_uncertain": False, "source": source, "tags": tags,
             "slug": "x", "draft": False}
    page = parse_page(dump_page(front, body), "x.md")
    assert page.front == front
    assert page.body.rstrip("\n") == body.rstrip("\n").replace("\r\n", "\n") or "\r" in body


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=40))
def test_entity_slugs_are_ascii_and_path_safe(name):
    slug = entity_slug(name)
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", slug), slug
    assert slug == entity_slug(name)  # stable


@settings(max_examples=100, deadline=None)
@given(st.lists(st.text(alphabet="甲乙丙丁戊己庚辛abc123./\\ ", min_size=1, max_size=30), min_size=1, max_size=8, unique=True))
def test_ingest_slugs_are_safe_unique_and_stable(tmp_path_factory, names):
    from sitegen.errors import Diagnostics
    from sitegen.frontmatter import SLUG_RE
    from sitegen.ingest.clean import clean_text
    from sitegen.ingest.pages import write_pages
    from sitegen.ingest.pipeline import IngestReport
    from sitegen.ingest.readers import RawDocument

    pages = []
    for name in names:
        text = "标题一条\n2025年3月1日，工业和信息化部召开会议，听取企业意见建议。"
        doc = RawDocument(Path(name), name, text, "txt", {})
        pages += plan_document(doc, clean_text(text), Diagnostics(echo=False))
    again = [p.front.slug for name in names
             for p in plan_document(RawDocument(Path(name), name, text, "txt", {}), clean_text(text), Diagnostics(echo=False))]
    assert [p.front.slug for p in pages] == again
    content = tmp_path_factory.mktemp("slugs")
    write_pages(pages, content, IngestReport())
    written = sorted(content.rglob("*.md"))
    assert len(written) == len(pages)  # two items never share a file
    for path in written:
        assert SLUG_RE.match(path.stem) and path.resolve().is_relative_to(content.resolve())


_FRONT_KEYS = ["title", "date", "date_uncertain", "event_date", "source", "source_url", "origin", "also", "category",
               "tags", "weight", "draft", "slug", "summary", "author", "editor", "supervisor", "original_script",
               "unknown_key"]
_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True), _text, st.dates(), st.datetimes(),
    st.sampled_from(["2025-02-30", "javascript:alert(1)", "https://example.org/", "a/../../b", "\x1b[31m", "…" * 300,
                     "2025-01-01", "", " ", "yes", "~"]),
)
_yaml_values = st.recursive(_scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_text, inner, max_size=3),
                            max_leaves=8)


@settings(max_examples=400, deadline=None)
@given(key=st.sampled_from(_FRONT_KEYS), value=_yaml_values)
def test_front_matter_values_of_every_yaml_type_are_taken_or_refused_cleanly(tmp_path_factory, key, value):
    """Any YAML value under any key: build takes the page or refuses it with file and line;
    ingest of the same page as a raw .md skips it with a message or writes a page build takes."""
    import yaml

    from sitegen.errors import ContentError, Diagnostics
    from sitegen.ingest.pages import write_pages
    from sitegen.ingest.pipeline import IngestReport, plan
    from sitegen.site.load import parse_page_bytes

    front = {"title": "标题", "date": "2025-01-02", key: value}
    text = "---\n" + yaml.safe_dump(front, allow_unicode=True) + "---\n正文。\n"
    folder = tmp_path_factory.mktemp("fuzz")
    page = folder / "page.md"
    page.write_text(text, "utf-8")
    try:
        parse_page_bytes(page, page.read_bytes(), Diagnostics(echo=False))
    except ContentError as exc:
        assert exc.path == str(page) and exc.line is not None and "\n" not in exc.message
    report = IngestReport()
    planned = plan([page], Diagnostics(echo=False), report)
    content = folder / "content"
    write_pages(planned, content, report)
    assert len(report.written) + len(report.failed_files) == 1, report
    for written in content.rglob("*.md"):
        parse_page_bytes(written, written.read_bytes(), Diagnostics(echo=False))  # build takes what ingest wrote
        assert written.resolve().is_relative_to(content.resolve())
