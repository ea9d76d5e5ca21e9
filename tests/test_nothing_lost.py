"""Nothing lost, even when the user gets it wrong (issue #17): every command stays inside what
it owns, refuses what would destroy sources, bounds the work a small input can cause, and
answers bad input with one line naming the file (and line), never a traceback."""

from __future__ import annotations

import json
import os
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.conftest import REPO

SITEGEN = [sys.executable, "-m", "sitegen"]


def sitegen(*args: str | Path, cwd: Path | None = None, timeout: float = 300, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([*SITEGEN, *map(str, args)], capture_output=True, text=True, cwd=cwd, timeout=timeout, **kwargs)


def assert_one_line_error(result: subprocess.CompletedProcess, *needles: str) -> None:
    """The run failed with a message naming what it is about, and no traceback."""
    assert result.returncode != 0, result.stdout
    assert "Traceback" not in result.stderr and "Traceback" not in result.stdout, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, result.stderr
    for needle in needles:
        assert needle in errors[0], (needle, result.stderr)


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture()
def small_site(tmp_path: Path) -> Path:
    """A site of three articles (fast to build), with the repository's templates."""
    root = tmp_path / "site"
    shutil.copytree(REPO / "templates", root / "templates")
    shutil.copytree(REPO / "static", root / "static")
    articles = root / "content" / "articles"
    articles.mkdir(parents=True)
    for number, (title, day) in enumerate((("工信部召开座谈会", "2025-02-21"), ("比亚迪发布新车", "2025-02-24"),
                                           ("河南省省长王凯会见客人", "2025-03-03")), 1):
        (articles / f"a{number}.md").write_text(f"---\ntitle: {title}\ndate: {day}\nslug: a{number}\n---\n"
                                                f"{title}。工业和信息化部与比亚迪在郑州举行会谈。\n", "utf-8")
    return root


# -- 1. ingest of a raw .md writes only inside the content folder -----------------------------

@pytest.mark.parametrize("slug", ["../../../../../../{tmp}/PWNED", "/{tmp}/abs", "a/b/c", "x\\0y", "..", "a b"])
def test_ingest_md_with_unsafe_slug_is_refused_and_writes_nothing_outside(tmp_path, slug):
    raw, content = tmp_path / "raw", tmp_path / "project" / "content"
    raw.mkdir()
    yaml_slug = json.dumps(slug.format(tmp=str(tmp_path).lstrip("/")))  # a JSON string is a YAML string
    (raw / "trav.md").write_text(f"---\ntitle: x\ndate: 2025-03-01\nslug: {yaml_slug}\n---\n正文。\n", "utf-8")
    (raw / "good.md").write_text("---\ntitle: 好页面\ndate: 2025-03-01\n---\n正文。\n", "utf-8")
    before = {p for p in tmp_path.rglob("*")}
    result = sitegen("ingest", raw, "--content", content)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert re.search(r"trav\.md:4: .*'slug'", result.stderr), result.stderr
    assert "written: 1" in result.stdout
    added = {p for p in tmp_path.rglob("*")} - before
    assert all(p.resolve().is_relative_to(content.resolve()) for p in added - {content.parent}), added
    pages = list(content.rglob("*.md"))
    assert len(pages) == 1 and pages[0].parent.parent.parent == content / "articles"
    assert not (tmp_path / "PWNED.md").exists()


def test_ingest_md_front_matter_is_checked_as_build_checks_it(tmp_path, small_site):
    """What ingest writes, build accepts: every raw .md page is validated by the same schema."""
    raw = tmp_path / "raw"
    raw.mkdir()
    cases = {
        "also.md": "also: 5",  # not a list
        "weight.md": "weight: heavy",
        "url.md": "source_url: javascript:alert(1)",
        "draft.md": "draft: maybe",
        "date.md": "event_date: soon",
    }
    for name, line in cases.items():
        (raw / name).write_text(f"---\ntitle: {name}\ndate: 2025-03-01\n{line}\n---\n正文。\n", "utf-8")
    result = sitegen("ingest", raw, "--content", small_site / "content")
    assert "Traceback" not in result.stderr
    for name in ("also.md", "weight.md", "draft.md", "date.md"):
        assert re.search(rf"{name}:4: ", result.stderr), (name, result.stderr)
    # a bad link is dropped with a report line, the page kept
    assert re.search(r"url\.md:4: .*source_url.*dropped", result.stderr), result.stderr
    assert sitegen("build", "--root", small_site, "--no-search").returncode == 0


# -- 2. build --out never replaces or deletes sources ---------------------------------------

@pytest.mark.parametrize("out", [".", "..", "content", "content/articles", "templates", "static/css", "sitegen.yaml",
                                 ".sitegen-cache"])
def test_build_refuses_an_output_folder_that_holds_or_is_inside_the_sources(tmp_path, small_site, out):
    (small_site / "sitegen.yaml").write_text("title: 测试\n", "utf-8")
    (tmp_path / "sibling.txt").write_text("not sitegen's", "utf-8")
    assert sitegen("build", "--root", small_site, "--no-search").returncode == 0  # makes .sitegen-cache too
    before = snapshot(tmp_path)
    result = sitegen("build", "--root", small_site, "--no-search", "--force", "--out", small_site / out)
    assert result.returncode == 2, result.stderr
    assert_one_line_error(result, "refusing")
    assert snapshot(tmp_path) == before


def test_build_never_deletes_a_folder_it_did_not_create(tmp_path, small_site):
    mine = tmp_path / "my-documents"
    mine.mkdir()
    (mine / "thesis.txt").write_text("三年的工作", "utf-8")
    result = sitegen("build", "--root", small_site, "--no-search", "--out", mine)
    assert_one_line_error(result, str(mine), "not made by sitegen")
    assert (mine / "thesis.txt").read_text("utf-8") == "三年的工作" and len(list(mine.iterdir())) == 1
    # an empty folder is fine, and what sitegen made it replaces from then on
    empty = tmp_path / "empty"
    empty.mkdir()
    assert sitegen("build", "--root", small_site, "--no-search", "--out", empty).returncode == 0
    assert (empty / "index.html").is_file()
    assert sitegen("build", "--root", small_site, "--no-search", "--out", empty, "--force").returncode == 0


# -- 3. two builds into one output at once ------------------------------------------------------

def test_concurrent_builds_into_one_output_leave_a_complete_site(tmp_path, site_root):
    root = tmp_path / "site"
    for name in ("content", "templates", "static"):
        shutil.copytree(site_root / name, root / name)
    reference = tmp_path / "reference"
    assert sitegen("build", "--root", root, "--out", reference).returncode == 0
    expected = snapshot(reference)
    out = root / "public"
    for round_ in range(3):
        runs = [subprocess.Popen([*SITEGEN, "build", "--root", str(root), "--out", str(out), "--force"],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
        results = [(run.wait(timeout=300), *run.communicate()) for run in runs]
        for code, _stdout, stderr in results:
            assert code == 0 and "Traceback" not in stderr, stderr
        assert snapshot(out) == expected, f"round {round_}"
        # the site replaced is deleted by a process of its own, which may outlive the build
        deadline = time.monotonic() + 120
        while (left := [p for p in root.iterdir() if p.name.startswith(".public.")]) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not left
    plain = sitegen("build", "--root", root, "--out", out)
    assert "up to date" in plain.stdout and snapshot(out) == expected


def test_up_to_date_is_not_claimed_over_a_damaged_output(tmp_path, small_site):
    out = small_site / "public"
    assert sitegen("build", "--root", small_site, "--no-search").returncode == 0
    (out / "index.html").unlink()
    again = sitegen("build", "--root", small_site, "--no-search")
    assert "up to date" not in again.stdout and (out / "index.html").is_file()


# -- 4. the same file name in two folders ---------------------------------------------------------

def _html_page(title: str, text: str) -> str:
    return (f"<html><head><meta charset='utf-8'><title>{title}</title></head><body><article><h1>{title}</h1>"
            f"<p>2025年3月1日，{text}</p><p>{text}这是第二段，内容足够长，可以被当作正文提取出来。</p></article></body></html>")


def test_same_file_name_from_two_folders_makes_two_pages(tmp_path):
    for site, text in (("siteA", "工业和信息化部召开座谈会，听取企业意见建议"),
                       ("siteB", "国家发展改革委发布通知，部署春耕生产工作")):
        (tmp_path / site).mkdir()
        (tmp_path / site / "index.html").write_text(_html_page(text[:8], text), "utf-8")
    content = tmp_path / "content"
    first = sitegen("ingest", tmp_path / "siteA", "--content", content)
    second = sitegen("ingest", tmp_path / "siteB", "--content", content)
    assert first.returncode == 0 and second.returncode == 0, second.stderr
    assert "written: 1" in second.stdout and "updated: 0" in second.stdout
    texts = [p.read_text("utf-8") for p in content.rglob("*.md")]
    assert len(texts) == 2 and any("工业和信息化部" in t for t in texts) and any("国家发展改革委" in t for t in texts)
    origins = sorted(re.search(r"^origin: (.*)$", t, re.M).group(1) for t in texts)
    assert origins == ["siteA/index.html#1", "siteB/index.html#1"]
    # stable: the same files again change nothing, given as folders or as files, in one run
    again = sitegen("ingest", tmp_path / "siteA", tmp_path / "siteB" / "index.html", "--content", content)
    assert again.returncode == 0 and "written: 0" in again.stdout and "unchanged: 2" in again.stdout, again.stdout
    together = sitegen("ingest", tmp_path / "siteA", tmp_path / "siteB", "--content", tmp_path / "c2")
    assert together.returncode == 0 and "written: 2" in together.stdout, together.stderr


def test_pages_from_the_old_origin_format_keep_their_slug_on_reingest(tmp_path, seeds_dir):
    """Pages ingested before origins held the folder are recognised, not written twice."""
    content = tmp_path / "content"
    shutil.copytree(REPO / "content", content)
    before = sorted(p.relative_to(content) for p in content.rglob("*.md"))
    result = sitegen("ingest", seeds_dir, "--content", content)
    assert result.returncode == 0, result.stderr
    assert "written: 0" in result.stdout, result.stdout
    assert sorted(p.relative_to(content) for p in content.rglob("*.md")) == before


# -- 5. control characters never reach XML -------------------------------------------------------

def test_control_characters_never_reach_the_feeds(tmp_path, small_site):
    raw = tmp_path / "raw.jsonl"
    record = {"title": "控制\x1b[31m字符\x0c标题\x01", "date": "2025-03-05", "source": "来源\x1b", "url": "https://example.org/a",
              "text": "工业和信息化部召开座谈会\x0b，听取企业意见建议。"}
    raw.write_text(json.dumps(record, ensure_ascii=False) + "\n", "utf-8")
    assert sitegen("ingest", raw, "--content", small_site / "content").returncode == 0
    written = "".join(p.read_text("utf-8") for p in (small_site / "content").rglob("*.md"))
    assert not re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", written)
    # an editor's page with control characters: warned, and still never in the XML
    (small_site / "content" / "articles" / "ctl.md").write_text(
        "---\ntitle: \"手写\\e控制\\f字符\"\ndate: 2025-03-06\nslug: ctl\n---\n正文\x01。\n", "utf-8")
    result = sitegen("build", "--root", small_site, "--no-search")
    assert result.returncode == 0, result.stderr
    assert re.search(r"ctl\.md:\d+: .*control character", result.stderr), result.stderr
    for feed in ("feed.xml", "weeks/feed.xml", "sitemap.xml"):
        ET.parse(small_site / "public" / feed)  # well-formed
    for page in (small_site / "public").rglob("*.*ml"):
        assert not re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", page.read_text("utf-8")), page


# -- 6. non-regular files under content/ ------------------------------------------------------

@pytest.mark.parametrize("kind", ["fifo", "zero", "urandom", "dir-loop", "file-loop"])
def test_non_regular_files_in_content_are_skipped_with_a_message(tmp_path, small_site, kind):
    articles = small_site / "content" / "articles"
    odd = articles / "odd.md"
    if kind == "fifo":
        os.mkfifo(odd)
    elif kind in {"zero", "urandom"}:
        odd.symlink_to(f"/dev/{kind}")
    elif kind == "dir-loop":
        (articles / "loop").symlink_to(articles)
        odd = articles / "loop"
    else:
        (articles / "b.md").symlink_to(odd)
        odd.symlink_to(articles / "b.md")
    result = sitegen("build", "--root", small_site, "--no-search", timeout=120)
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    assert odd.name in result.stderr, result.stderr
    assert len(list((small_site / "public" / "articles").iterdir())) == 3


def test_ingest_skips_a_fifo_and_a_device(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    os.mkfifo(raw / "pipe.txt")
    (raw / "zero.txt").symlink_to("/dev/zero")
    (raw / "ok.txt").write_text("一条正常的新闻标题\n2025年2月21日，工业和信息化部召开座谈会，听取企业意见建议。", "utf-8")
    result = sitegen("ingest", raw, raw / "pipe.txt", "--content", tmp_path / "c", timeout=120)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert re.search(r"pipe\.txt.*not a regular file", result.stderr) and re.search(r"zero\.txt.*not a regular", result.stderr)
    assert "written: 1" in result.stdout


# -- 7. the work is bounded, not only the bytes ----------------------------------------------

@pytest.mark.parametrize("body,needle", [
    ("|x|y|\n|-|-|\n" + "|x|y|\n" * 790_000, "too much markup"),
    ("- x\n" * 1_100_000, "too much markup"),
    ("*a* " * 1_100_000, "too much markup"),
])
def test_markup_heavy_page_under_the_size_limit_is_refused(tmp_path, small_site, body, needle):
    page = small_site / "content" / "articles" / "heavy.md"
    page.write_text(f"---\ntitle: 重\ndate: 2025-03-01\n---\n{body}", "utf-8")
    assert page.stat().st_size < 5 * 1024 * 1024
    result = sitegen("build", "--root", small_site, "--no-search", timeout=120)
    assert_one_line_error(result, "heavy.md", needle)


def test_front_matter_with_thousands_of_keys_is_refused(tmp_path, small_site):
    keys = "".join(f"k{n}: {n}\n" for n in range(20_000))
    (small_site / "content" / "articles" / "keys.md").write_text(f"---\ntitle: 键\ndate: 2025-03-01\n{keys}---\n正文\n", "utf-8")
    result = sitegen("build", "--root", small_site, "--no-search", timeout=120)
    assert_one_line_error(result, "keys.md", "keys")


ANCHOR_BOMB = "a: &a [x,x,x,x,x,x,x,x,x]\n" + "".join(
    f"{chr(98 + n)}: &{chr(98 + n)} [{','.join(['*' + chr(97 + n)] * 9)}]\n" for n in range(9))


def test_yaml_alias_bomb_is_refused_in_ingest_build_and_settings(tmp_path, small_site):
    page = f"---\ntitle: 炸弹\ndate: 2025-03-01\n{ANCHOR_BOMB}---\n正文\n"
    assert len(page.encode()) < 1000
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "bomb.md").write_text(page, "utf-8")
    ingest = sitegen("ingest", raw, "--content", tmp_path / "c", timeout=60)
    assert ingest.returncode == 1 and "Traceback" not in ingest.stderr and "bomb.md" in ingest.stderr
    (small_site / "content" / "articles" / "bomb.md").write_text(page, "utf-8")
    assert_one_line_error(sitegen("build", "--root", small_site, "--no-search", timeout=60), "bomb.md", "alias")
    (small_site / "content" / "articles" / "bomb.md").unlink()
    (small_site / "sitegen.yaml").write_text(ANCHOR_BOMB, "utf-8")
    assert_one_line_error(sitegen("build", "--root", small_site, "--no-search", timeout=60), "sitegen.yaml", "alias")


# -- 8. ingest drops what build would refuse ---------------------------------------------------

def test_jsonl_record_with_a_script_url_is_written_without_it(tmp_path, small_site):
    raw = tmp_path / "a.jsonl"
    raw.write_text(json.dumps({"title": "链接不安全", "date": "2025-03-05", "url": "javascript:alert(1)",
                               "text": "工业和信息化部召开座谈会，听取企业意见建议。"}, ensure_ascii=False) + "\n", "utf-8")
    result = sitegen("ingest", raw, "--content", small_site / "content")
    assert result.returncode == 0 and re.search(r"a\.jsonl:1: .*source_url.*dropped", result.stderr), result.stderr
    assert "javascript" not in "".join(p.read_text("utf-8") for p in (small_site / "content").rglob("*.md"))
    assert sitegen("build", "--root", small_site, "--no-search").returncode == 0


# -- 9. one bad raw file does not stop the others --------------------------------------------------

def test_malformed_raw_md_is_skipped_and_the_rest_ingested(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "bad.md").write_text("---\ntitle: [unclosed\ndate: 2025-03-01\n---\n正文\n", "utf-8")
    (raw / "good.txt").write_text("一条正常的新闻标题\n2025年2月21日，工业和信息化部召开座谈会，听取企业意见建议。", "utf-8")
    result = sitegen("ingest", raw, "--content", tmp_path / "c")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert re.search(r"bad\.md:\d+: .*malformed YAML", result.stderr) and "written: 1" in result.stdout
    assert "files failed: 1" in result.stdout


# -- 10. one line, never a traceback ------------------------------------------------------------

def test_non_utf8_settings_and_entity_data_name_the_file(small_site):
    (small_site / "sitegen.yaml").write_bytes("title: 标题\n".encode("gbk"))
    assert_one_line_error(sitegen("build", "--root", small_site, "--no-search"), "sitegen.yaml", "UTF-8")
    (small_site / "sitegen.yaml").unlink()
    data = small_site / "content" / "_data"
    data.mkdir()
    (data / "entities.yaml").write_bytes("aliases:\n  工信部: 工业和信息化部\n".encode("gbk"))
    assert_one_line_error(sitegen("build", "--root", small_site, "--no-search"), "entities.yaml", "UTF-8")


@pytest.mark.parametrize("front", ["1: one", "? [a, b]\n: list key", "true: yes", "2025-01-01: day"])
def test_non_string_front_matter_keys_are_reported(small_site, front):
    page = small_site / "content" / "articles" / "keys.md"
    page.write_text(f"---\ntitle: 键\ndate: 2025-03-01\n{front}\n---\n正文\n", "utf-8")
    result = sitegen("build", "--root", small_site, "--no-search")
    assert "Traceback" not in result.stderr
    assert re.search(r"keys\.md:4: .*key", result.stderr), result.stderr


def test_nul_in_a_slug_is_a_content_error(tmp_path, small_site):
    page = small_site / "content" / "articles" / "nul.md"
    page.write_text('---\ntitle: 空\ndate: 2025-03-01\nslug: "a\\0b"\n---\n正文\n', "utf-8")
    assert_one_line_error(sitegen("build", "--root", small_site, "--no-search"), "nul.md:4", "slug")
    raw = tmp_path / "raw"
    raw.mkdir()
    shutil.move(small_site / "content" / "articles" / "nul.md", raw / "nul.md")
    result = sitegen("ingest", raw, "--content", tmp_path / "c")
    assert result.returncode == 1 and "Traceback" not in result.stderr and "nul.md:4" in result.stderr


@pytest.mark.parametrize("what", ["file", "folder"])
def test_unreadable_files_and_folders_are_named(small_site, what):
    import tempfile

    top = Path(tempfile.mkdtemp(prefix="sitegen-unreadable-"))  # reachable by an unprivileged user
    try:
        top.chmod(0o755)
        site = top / "site"
        shutil.copytree(small_site, site)
        if what == "file":
            blocked = site / "content" / "articles" / "locked.md"
            blocked.write_text("---\ntitle: 锁\ndate: 2025-03-01\n---\n正文\n", "utf-8")
        else:
            blocked = site / "content" / "shut"
            blocked.mkdir()
        as_user: list[str] = []
        if os.geteuid() == 0:  # root reads everything: run as nobody, who cannot
            as_user = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
            for path in [site, *site.rglob("*")]:
                path.chmod(0o777 if path.is_dir() else 0o666)
        blocked.chmod(0)
        result = subprocess.run([*as_user, *SITEGEN, "build", "--root", str(site), "--no-search"],
                                capture_output=True, text=True, timeout=300, env={**os.environ, "HOME": str(top)})
        assert_one_line_error(result, blocked.name, "Permission denied")
        assert not (site / "public").exists()
    finally:
        for path in top.rglob("*"):
            path.chmod(0o755)
        shutil.rmtree(top)


def test_disk_full_keeps_the_old_site_and_says_so_in_one_line(small_site):
    out = small_site / "public"
    assert sitegen("build", "--root", small_site, "--no-search").returncode == 0
    before = snapshot(out)
    (small_site / "content" / "articles" / "big.md").write_text(
        "---\ntitle: 大\ndate: 2025-03-01\nslug: big\n---\n" + "很长的正文。" * 20_000 + "\n", "utf-8")

    def small_files() -> None:  # the build may write no file over 64 KB: as if the disk were full
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, 64 * 1024))

    result = subprocess.run([*SITEGEN, "build", "--root", str(small_site), "--no-search"], capture_output=True,
                            text=True, timeout=300, preexec_fn=small_files)
    assert_one_line_error(result, "File too large")
    assert snapshot(out) == before
    assert not [p for p in small_site.iterdir() if p.name.startswith(".public.")]


def test_a_huge_url_gets_an_answer_from_serve(small_site):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen([*SITEGEN, "serve", "--root", str(small_site), "--port", str(port), "--no-search"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.time() + 120
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.2)
        for path in ("/" + "a" * 60_000, "/" + "%E4%B8%AD" * 6_000 + "/", "/a/" * 15_000):
            with socket.create_connection(("127.0.0.1", port), timeout=30) as connection:
                connection.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
                answer = connection.recv(200)
            assert re.match(rb"HTTP/1\.[01] (404|414)", answer), answer
        with socket.create_connection(("127.0.0.1", port), timeout=30) as connection:
            connection.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            assert connection.recv(100).startswith(b"HTTP/1.0 200")
    finally:
        server.send_signal(signal.SIGINT)
        _, stderr = server.communicate(timeout=60)
    assert "Traceback" not in stderr, stderr


# -- 11. settings are checked --------------------------------------------------------------------

@pytest.mark.parametrize("setting,needle", [
    ('base_url: "javascript:alert(1)//"', "base_url"),
    ("base_url: ftp://example.org/", "base_url"),
    ("digest_size: -1", "digest_size"),
    ("feed_size: -5", "feed_size"),
    ("home_recent: 0", "home_recent"),
    ("summary_chars: 100000000", "summary_chars"),
    ('title: "标题\\e"', "title"),
])
def test_bad_settings_are_refused_with_file_and_line(small_site, setting, needle):
    (small_site / "sitegen.yaml").write_text(f"description: 测试站\n{setting}\n", "utf-8")
    assert_one_line_error(sitegen("build", "--root", small_site, "--no-search"), "sitegen.yaml:2", needle)


def test_bad_base_url_option_is_refused(small_site):
    result = sitegen("build", "--root", small_site, "--no-search", "--base-url", "javascript:alert(1)")
    assert result.returncode == 2 and "base-url" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("data,needle", [
    ("aliases:\n  国务院: null\n", "entities.yaml:2"),
    ("aliases:\n  国务院: [a, b]\n", "entities.yaml:2"),
    ("descriptions:\n  国务院: {a: 1}\n", "entities.yaml:2"),
    ("add:\n  person: 王凯\n", "entities.yaml:2"),
])
def test_bad_entity_data_is_refused_with_file_and_line(small_site, data, needle):
    folder = small_site / "content" / "_data"
    folder.mkdir()
    (folder / "entities.yaml").write_text(data, "utf-8")
    assert_one_line_error(sitegen("build", "--root", small_site, "--no-search"), needle)


# -- 12. no silent loss in Markdown; no data: or tracking images -----------------------------------

def test_deep_nesting_is_shown_or_warned_never_silently_lost(small_site):
    quotes = "> " * 25 + "最深的引用\n"
    lists = "".join("  " * depth + "- 层" + str(depth) + "\n" for depth in range(15))
    (small_site / "content" / "articles" / "deep.md").write_text(
        f"---\ntitle: 深\ndate: 2025-03-01\nslug: deep\n---\n{quotes}\n{lists}", "utf-8")
    result = sitegen("build", "--root", small_site, "--no-search")
    assert result.returncode == 0, result.stderr
    html = (small_site / "public" / "articles" / "deep" / "index.html").read_text("utf-8")
    assert "最深的引用" in html and "层14" in html


def test_very_deep_nesting_is_warned_with_file_and_line(small_site):
    (small_site / "content" / "articles" / "deeper.md").write_text(
        "---\ntitle: 更深\ndate: 2025-03-01\nslug: deeper\n---\n开头。\n\n" + "> " * 300 + "看不见\n", "utf-8")
    result = sitegen("build", "--root", small_site, "--no-search")
    assert result.returncode == 0 and re.search(r"deeper\.md:8: .*nest", result.stderr), result.stderr


def test_data_images_are_refused_and_remote_images_warned(small_site):
    png = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
    (small_site / "content" / "articles" / "img.md").write_text(
        f"---\ntitle: 图\ndate: 2025-03-01\nslug: img\n---\n![g]({png})\n\n![跟踪](https://tracker.example/p.gif)\n", "utf-8")
    result = sitegen("build", "--root", small_site, "--no-search")
    assert result.returncode == 0
    assert re.search(r"img\.md:8: .*remote image.*tracker\.example", result.stderr), result.stderr
    html = (small_site / "public" / "articles" / "img" / "index.html").read_text("utf-8")
    assert 'src="data:' not in html
    image = re.search(r"<img [^>]*tracker\.example[^>]*>", html).group(0)
    assert 'referrerpolicy="no-referrer"' in image and 'loading="lazy"' in image
    assert sitegen("build", "--root", small_site, "--no-search", "--strict", "--force").returncode == 1


# -- no traceback anywhere: an unexpected failure is one line and a hint -------------------------

def test_unexpected_failure_is_one_line_with_a_hint_and_debug_shows_it(small_site, monkeypatch, capsys):
    import sitegen.site.build
    from sitegen.cli import main

    def crash(*args, **kwargs):
        raise KeyError("something sitegen did not expect")

    monkeypatch.setattr(sitegen.site.build, "build_site", crash)
    for argv, traceback_shown in ((["build"], False), (["--debug", "build"], True)):
        monkeypatch.setattr(sys, "argv", ["sitegen", *argv, "--root", str(small_site), "--no-search"])
        with pytest.raises(SystemExit) as stopped:
            main()
        assert stopped.value.code == 1
        err = capsys.readouterr().err
        assert ("Traceback" in err) == traceback_shown, err
        errors = [line for line in err.splitlines() if line.startswith("error:")]
        assert len(errors) == 1 and "something sitegen did not expect" in errors[0] and "KeyError" in errors[0]
        assert traceback_shown or "--debug" in errors[0]
