"""Shared fixtures: paths to the shared seeds/corpora, a sample site, browser helpers."""

from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
SEEDS = SHARED / "seeds"
CORPORA = SHARED / "corpora"
CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture(autouse=True, scope="module")
def _main_thread_alone() -> None:
    """Each test module starts with no thread but the main one: a build forks its workers
    (and a cold build its model) only while no other thread runs, so a thread an earlier
    module left (a server, Playwright's) made every build after it take the one-process
    path and its tests pass on what users do not run."""
    deadline = time.monotonic() + 10  # a stopped server's thread may take a moment to end
    while threading.active_count() > 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    others = [thread.name for thread in threading.enumerate() if thread is not threading.main_thread()]
    assert not others, f"threads left running by an earlier test module: {others}"


class ProcessLog:
    """A list of lines that forked processes append to too (a cold build makes its pages in
    a process it forks: what a patched function notes there must outlive that process)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def append(self, line: str) -> None:
        """Note ``line`` (one write: lines from two processes do not mix)."""
        with self.path.open("a", encoding="utf-8") as out:
            out.write(line.replace("\n", " ") + "\n")

    def lines(self) -> list[str]:
        """Every line noted, in order."""
        return self.path.read_text("utf-8").splitlines() if self.path.exists() else []

    def clear(self) -> None:
        """Forget every line."""
        self.path.unlink(missing_ok=True)


def need_shared() -> None:
    """Skip (with the reason) when ../shared is not beside the repository; CI always has it."""
    if not SEEDS.is_dir():
        pytest.skip(f"shared data not found at {SHARED} (CI always provides it)")


@pytest.fixture(scope="session")
def seeds_dir() -> Path:
    need_shared()
    return SEEDS


@pytest.fixture(scope="session")
def expected() -> dict:
    need_shared()
    import yaml

    return yaml.safe_load((SEEDS / "expected.yaml").read_text("utf-8"))


@pytest.fixture(scope="session")
def ingested_seeds(tmp_path_factory: pytest.TempPathFactory, seeds_dir: Path) -> Path:
    """``sitegen ingest`` run once on the seeds into a fresh content folder."""
    from click.testing import CliRunner

    from sitegen.cli import cli

    content = tmp_path_factory.mktemp("seed-content") / "content"
    result = CliRunner().invoke(cli, ["ingest", str(seeds_dir), "--content", str(content)])
    assert result.exit_code == 0, result.output
    return content


@pytest.fixture(scope="session")
def site_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the repository's sample site (content/, templates/, static/, config)."""
    root = tmp_path_factory.mktemp("site")
    for name in ("content", "templates", "static"):
        shutil.copytree(REPO / name, root / name)
    for name in ("sitegen.yaml",):
        if (REPO / name).exists():
            shutil.copy(REPO / name, root / name)
    return root


class StaticServer:
    """Serve a folder on 127.0.0.1 in a background thread (for browser tests)."""

    def __init__(self, directory: Path) -> None:
        import functools
        import threading
        from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

        class Quiet(SimpleHTTPRequestHandler):
            extensions_map = {**SimpleHTTPRequestHandler.extensions_map, ".wasm": "application/wasm"}

            def log_message(self, *args) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(directory)))
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def folder_files(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder``, by its path inside it, with its bytes (to compare builds)."""
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def build(root: Path, out: Path, *extra: str):
    """Run ``sitegen build`` in-process; returns the click result."""
    from click.testing import CliRunner

    from sitegen.cli import cli

    return CliRunner().invoke(cli, ["build", "--root", str(root), "--out", str(out), *extra])


@pytest.fixture(scope="session")
def built_site(site_root: Path) -> Path:
    """The sample site built once (with the search index)."""
    out = site_root / "public"
    result = build(site_root, out)
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="module")
def browser():
    """A real headless Chromium (Debian's /usr/bin/chromium) driven by Playwright, for one
    test module: Playwright's threads end with it, so the modules after it build as users
    do (a build forks its workers only while no other thread runs)."""
    if not CHROMIUM.exists():
        pytest.fail("Debian chromium is required for the browser tests: apt-get install chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--no-first-run", "--disable-sync", "--disable-quic"],
        )
        yield instance
        instance.close()


@pytest.fixture(scope="module")
def site_server(built_site: Path):
    """The sample site served on 127.0.0.1 for one test module (its thread ends with it)."""
    server = StaticServer(built_site)
    yield server
    server.close()


def running_pagefind(ancestor: int) -> bool:
    """Whether a Pagefind process runs below process ``ancestor`` (read from /proc)."""
    parents: dict[int, int] = {}
    names: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        parents[int(entry.name)] = int(stat[stat.rindex(")") + 2 :].split()[1])
        names[int(entry.name)] = name
    for pid, name in names.items():
        if name.startswith("pagefind"):
            parent = parents.get(pid, 0)
            while parent > 1:
                if parent == ancestor:
                    return True
                parent = parents.get(parent, 0)
    return False
