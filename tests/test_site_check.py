"""The web's judges on the built sample site: ../shared/tools/site-check/check_site.sh.

Nu Html Checker, Chromium (console, requests, phone overflow, CJK tofu, Pagefind), axe-core,
linkinator, Lighthouse (mobile, ≥ 95 in every category) and the feed/sitemap check must all
pass. A page whose performance alone falls short is run through Lighthouse five times and
judged by the median, as Lighthouse's documentation on variability advises: the score's
blocking time is CPU time, which a busy CI machine stretches. The checker's own Lighthouse
pages are the first four in its sort order (home, 404 and two articles), so a digest, an
entity page, the entity index and the search page are run through Lighthouse here too. Tools
come from the checker's install.sh (scripts/test.sh runs it).
"""

from __future__ import annotations

import json
import os
import re
import statistics
import subprocess
from pathlib import Path

import pytest

from tests.conftest import SHARED, StaticServer, build, need_shared

CHECKER = SHARED / "tools" / "site-check" / "check_site.sh"
TOOLS_DIR = Path(os.environ.get("TOOLS_DIR") or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "site-check")
LIGHTHOUSE = TOOLS_DIR / "node_modules" / ".bin" / "lighthouse"
CHROMIUM_BINARY = "/usr/lib/chromium/chromium"


def _tools_or_fail() -> None:
    need_shared()
    if not LIGHTHOUSE.exists():
        pytest.fail(f"site-check tools missing in {TOOLS_DIR}: run sh scripts/site-check/install-tools.sh "
                    "(scripts/test.sh does)")


@pytest.fixture(scope="module")
def checked_site(site_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample site built as it is published: with a base URL and the search index."""
    out = tmp_path_factory.mktemp("checked") / "site"
    result = build(site_root, out, "--base-url", "https://news.example.org/")
    assert result.exit_code == 0, result.output
    return out


LIGHTHOUSE_MIN = 0.95
LIGHTHOUSE_RUNS = 5  # Lighthouse's docs: the median of 5 runs is about twice as stable as one


def _lighthouse(url: str, report_path: Path) -> dict[str, float]:
    """One Lighthouse (mobile) run on ``url``: each category's score, 0 to 1."""
    run = subprocess.run(
        [str(LIGHTHOUSE), url, "--quiet", "--output", "json", "--output-path", str(report_path),
         "--max-wait-for-load=45000",
         "--chrome-flags=--headless --no-sandbox --disable-gpu --disable-quic --no-first-run "
         "--disable-background-networking --disable-component-update --disable-sync"],
        env={**os.environ, "CHROME_PATH": CHROMIUM_BINARY}, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    result = json.loads(report_path.read_text("utf-8"))
    assert not result.get("runtimeError"), result.get("runtimeError")
    scores = {name: category["score"] for name, category in result["categories"].items()}
    assert set(scores) == {"performance", "accessibility", "best-practices", "seo"}
    assert all(score is not None for score in scores.values()), scores
    return scores


def _median_scores(url: str, first: dict[str, float], tmp_path: Path) -> dict[str, float]:
    """``first`` when every category reaches the minimum; else the median of LIGHTHOUSE_RUNS runs.

    Only the performance score varies from run to run (its blocking-time metric is the CPU time
    the browser took, which a busy machine stretches); the other categories must pass as they
    are, so a run is repeated only when performance alone falls short.
    """
    if min(first.values()) >= LIGHTHOUSE_MIN:
        return first
    assert all(score >= LIGHTHOUSE_MIN for name, score in first.items() if name != "performance"), (url, first)
    runs = [first] + [_lighthouse(url, tmp_path / f"lighthouse-{n}.json") for n in range(1, LIGHTHOUSE_RUNS)]
    return {name: statistics.median(run[name] for run in runs) for name in first}


def test_check_site_passes(checked_site: Path, tmp_path: Path) -> None:
    _tools_or_fail()
    env = {**os.environ, "LH_PAGES": "4", "LH_MIN": "95", "CHECK_OUT": str(tmp_path / "report"),
           "TOOLS_DIR": str(TOOLS_DIR)}
    run = subprocess.run(["bash", str(CHECKER), str(checked_site)], env=env, capture_output=True, text=True,
                         timeout=1200)
    report = run.stdout + run.stderr
    print(report)
    failed = re.search(r"^check_site: FAIL \((.*)\)$", report, re.M)
    failures = failed.group(1).split() if failed else []
    assert all(name.startswith("lighthouse:") for name in failures), report
    assert (run.returncode == 0 and "check_site: OK" in report) or failures, report
    assert re.search(r"^html \(vnu\): 0 errors", report, re.M), report
    assert re.search(r"^axe-core: 0 violations", report, re.M), report
    assert re.search(r"^links \(linkinator\): 0 broken of (\d+)", report, re.M), report
    checked_links = int(re.search(r"0 broken of (\d+)", report).group(1))
    pages = [p for p in checked_site.rglob("*.html") if "pagefind" not in p.parts]
    assert checked_links >= len(pages) > 150, "linkinator should have reached every page"
    lighthouse = re.findall(r"^lighthouse \(mobile\) (\S+): (.*)$", report, re.M)
    assert len(lighthouse) == 4, report
    server = StaticServer(checked_site)
    try:
        for page, line in lighthouse:
            first = {name: int(value) / 100 for name, value in re.findall(r"([a-z-]+)=(\d+)", line.split("|")[0])}
            assert len(first) == 4, (page, line)
            scores = _median_scores(server.base + page, first, tmp_path)
            assert min(scores.values()) >= LIGHTHOUSE_MIN, (page, scores)
    finally:
        server.close()
    assert re.search(r"^feeds: 0 errors", report, re.M), report
    assert "tofu_pages=0" in report and "mobile_overflow=0" in report


@pytest.mark.parametrize("page", ["/weeks/2025-W08/", "/entities/person/wang-kai/", "/entities/", "/search/"])
def test_lighthouse_on_digest_entity_and_search_pages(checked_site: Path, tmp_path: Path, page: str) -> None:
    _tools_or_fail()
    assert (checked_site / page.strip("/") / "index.html").exists()
    server = StaticServer(checked_site)
    try:
        url = server.base + page
        scores = _median_scores(url, _lighthouse(url, tmp_path / "lighthouse.json"), tmp_path)
    finally:
        server.close()
    assert min(scores.values()) >= LIGHTHOUSE_MIN, scores
