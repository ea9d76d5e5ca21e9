"""Progress of a build: each stage reported with its real counts; one line redrawn on a
terminal, cleared before the summary; nothing at all when the output is not a terminal (CI)."""

from __future__ import annotations

import io
import os
import pty
import re
import select
import shutil
import signal
import subprocess
import sys
from pathlib import Path

from sitegen.errors import Diagnostics
from sitegen.progress import Progress, TerminalProgress
from sitegen.site.build import BuildOptions, build_site
from tests.conftest import ProcessLog

REPO = Path(__file__).resolve().parent.parent


class RecordedProgress(Progress):
    """Every stage with its total and the steps reported for it, noted in a file (a cold
    build makes its pages in a process it forks, which reports its stages there)."""

    def __init__(self, log: Path) -> None:
        self.log = ProcessLog(log)

    def stage(self, label: str, total: int | None = None) -> None:
        self.log.append(f"stage\t{label}\t{'' if total is None else total}")

    def advance(self, steps: int = 1) -> None:
        self.log.append(f"advance\t{steps}")

    def set(self, done: int) -> None:
        self.log.append(f"set\t{done}")

    @property
    def stages(self) -> list[list]:
        """[label, total, steps done] of each stage, in order."""
        stages: list[list] = []
        for line in self.log.lines():
            event, *values = line.split("\t")
            if event == "stage":
                stages.append([values[0], int(values[1]) if values[1] else None, 0])
            elif event == "advance":
                stages[-1][2] += int(values[0])
            else:
                stages[-1][2] = int(values[0])
        return stages

    def of(self, label: str) -> list:
        found = [s for s in self.stages if s[0] == label]
        assert len(found) == 1, (label, self.stages)
        return found[0]


def _site_copy(target: Path) -> Path:
    for name in ("content", "templates", "static"):
        shutil.copytree(REPO / name, target / name)
    if (REPO / "sitegen.yaml").exists():
        shutil.copy(REPO / "sitegen.yaml", target / "sitegen.yaml")
    return target


def test_build_reports_every_stage_with_its_real_counts(tmp_path):
    root = _site_copy(tmp_path / "site")
    pages = len(list((root / "content").rglob("*.md")))
    progress = RecordedProgress(tmp_path / "progress.log")
    result = build_site(BuildOptions(root=root, out=tmp_path / "out"), Diagnostics(echo=False), progress)

    labels = [label for label, _, _ in progress.stages]
    # once every page is written, each is sent to Pagefind (a first build: all of them)
    assert labels[:6] == ["reading pages", "finding people, organisations and places", "grouping weeks and entities",
                          "rendering pages", "search index: pages sent to Pagefind", "search index: pages indexed by Pagefind"]
    assert set(labels[6:]) <= {"search index: Pagefind builds the bundle"}  # one shard: nothing to merge
    assert progress.of("reading pages")[1:] == [pages, pages]
    tagged = progress.of("finding people, organisations and places")
    assert tagged[1] == tagged[2] and tagged[1] >= result.articles  # every article's text (and more) tagged once
    rendered = progress.of("rendering pages")
    static = len(list((root / "static").rglob("*.*")))
    assert rendered[1] == rendered[2] == result.files - static > 0
    searchable = int(re.search(r"search index: (\d+) pages", result.search).group(1))
    assert progress.of("search index: pages sent to Pagefind")[1:] == [searchable, searchable]
    indexed = progress.of("search index: pages indexed by Pagefind")
    assert indexed[1] == searchable and 0 <= indexed[2] <= searchable

    # the same site again: pages and entities come from the cache, the tagger is not run
    again = RecordedProgress(tmp_path / "again.log")
    build_site(BuildOptions(root=root, out=tmp_path / "out", force=True, search=False), Diagnostics(echo=False), again)
    labels = [label for label, _, _ in again.stages]
    assert labels == ["reading pages", "grouping weeks and entities", "rendering pages"]


def test_terminal_line_is_redrawn_in_place_and_cleared():
    stream = io.StringIO()
    progress = TerminalProgress(stream)
    progress.stage("rendering pages", 4)
    progress.advance()
    assert stream.getvalue() == ""  # the first half second: a small build prints nothing
    progress.started -= 1  # as if the build had been running for a second
    progress.stage("rendering pages", 4)
    progress.advance(3)  # within a tenth of a second of the last drawing: not drawn again
    progress.drawn_at -= 1
    progress.advance()
    progress.clear()
    progress.clear()  # nothing left to clear
    lines = stream.getvalue().split("\r\x1b[K")
    assert lines[0] == ""
    assert re.fullmatch(r"rendering pages 0/4 \(0%\) · 1s", lines[1])
    assert re.fullmatch(r"rendering pages 4/4 \(100%\) · 1s", lines[2])
    assert lines[3:] == [""]


_BUILD_SHOWING_PROGRESS_AT_ONCE = """
import sys
import sitegen.progress
sitegen.progress._FIRST_DRAW_S = 0.0  # the sample site builds in about a second
from sitegen.cli import cli
cli(sys.argv[1:])
"""


def _on_a_terminal(*arguments: str, term: str = "xterm") -> tuple[int, str]:
    """Run ``sitegen ARGUMENTS`` with a terminal of type ``term`` as its output (progress
    drawn from the start); its exit code and everything it printed."""
    main, child = pty.openpty()
    process = subprocess.Popen([sys.executable, "-c", _BUILD_SHOWING_PROGRESS_AT_ONCE, *arguments],
                               stdin=subprocess.DEVNULL, stdout=child, stderr=child, cwd=REPO,
                               env={**os.environ, "TERM": term})
    os.close(child)
    output = b""
    while True:
        try:
            chunk = os.read(main, 65536)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        output += chunk
    os.close(main)
    return process.wait(timeout=120), output.decode("utf-8")


def test_build_on_a_terminal_shows_progress_then_a_clean_summary(tmp_path):
    root = _site_copy(tmp_path / "site")
    (root / "content" / "articles" / "2025" / "02" / "misspelt-key.md").write_text(
        "---\ntitle: 一篇前言有错字的稿件\ndate: 2025-02-21\nsoruce: 工信微报\n---\n正文。\n", "utf-8")
    code, text = _on_a_terminal("build", "--root", str(root), "--out", str(tmp_path / "out"))
    assert code == 0, text
    for label in ("reading pages", "rendering pages", "search index: pages indexed by Pagefind"):
        assert f"\x1b[K{label} " in text, text
    # a warning and the summary each start on a cleared line, never after a progress line
    warning = text.index("warning: ")
    assert text[:warning].endswith("\r\x1b[K"), text[:warning][-80:]
    summary = text.index("built ")
    assert text[:summary].endswith("\r\x1b[K"), text[:summary][-80:]
    assert "\x1b" not in text[summary:]


def test_a_dumb_terminal_gets_no_progress(tmp_path):
    root = _site_copy(tmp_path / "site")
    code, text = _on_a_terminal("build", "--root", str(root), "--out", str(tmp_path / "out"), term="dumb")
    assert code == 0, text
    assert text.startswith("built ") and "\x1b" not in text


def test_build_in_ci_prints_no_progress(tmp_path):
    root = _site_copy(tmp_path / "site")
    result = subprocess.run([sys.executable, "-m", "sitegen", "build", "--root", str(root), "--out",
                             str(tmp_path / "out")], capture_output=True, text=True, cwd=REPO)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("built ")
    assert "\r" not in result.stdout + result.stderr and "\x1b" not in result.stdout + result.stderr


def test_ingest_on_a_terminal_counts_files_and_documents(tmp_path, seeds_dir):
    raw = tmp_path / "raw"
    shutil.copytree(seeds_dir, raw)
    (raw / "image.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00")
    files = sorted(p.name for p in raw.glob("*.txt"))
    code, text = _on_a_terminal("ingest", str(raw), "--content", str(tmp_path / "content"))
    assert code == 1, text  # the binary file fails the run, at the end
    for number, name in enumerate(files, 1):
        if name != "image.txt":
            assert f"\x1b[K{name} (file {number}/{len(files)}): documents 0/1 (0%)" in text, name
    assert "\x1b[Kpages written 0/" in text
    warning = text.index("warning: ")
    assert "image.txt" in text[warning:].splitlines()[0] and text[:warning].endswith("\r\x1b[K")
    report = text.index("documents read: ")
    assert text[:report].endswith("\r\x1b[K") and "\x1b" not in text[report:]


def test_serve_shows_progress_for_its_first_build_only(tmp_path):
    root = _site_copy(tmp_path / "site")
    main, child = pty.openpty()
    process = subprocess.Popen([sys.executable, "-c", _BUILD_SHOWING_PROGRESS_AT_ONCE, "serve", "--root", str(root),
                                "--port", "0", "--no-search"], stdin=subprocess.DEVNULL, stdout=child, stderr=child,
                               cwd=REPO, env={**os.environ, "TERM": "xterm"})
    os.close(child)
    text = ""
    try:
        while "(Ctrl+C to stop)" not in text:
            ready, _, _ = select.select([main], [], [], 60)
            assert ready, text
            text += os.read(main, 65536).decode("utf-8", "replace")
        assert "\x1b[Krendering pages " in text
        built = text.index("[sitegen] built: ")
        assert text[:built].endswith("\r\x1b[K"), text[:built][-80:]
        # an edit is rebuilt and logged without a progress line
        page = next((root / "content" / "articles").rglob("*.md"))
        page.write_text(page.read_text("utf-8") + "\n补充一句。\n", "utf-8")
        after = len(text)
        while "[sitegen] rebuilt: " not in text[after:]:
            ready, _, _ = select.select([main], [], [], 60)
            assert ready, text[after:]
            text += os.read(main, 65536).decode("utf-8", "replace")
        assert "\x1b" not in text[after:]
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)
        os.close(main)
