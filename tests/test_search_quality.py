"""Search quality of the built sample site, measured in headless Chromium with the shared
evaluator (../shared/tools/search-eval/pfeval.py) on the real search page, with the phrase
check the search page applies: recall@5, MRR and precision against literal containment."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import SHARED, need_shared

pytestmark = pytest.mark.browser
QUERIES = Path(__file__).parent / "search_queries.tsv"


def test_search_quality_on_sample_site(built_site):
    need_shared()
    queries = [q for q in QUERIES.read_text("utf-8").splitlines() if q and not q.startswith("#")]
    assert len(queries) >= 40
    result = subprocess.run(
        [sys.executable, str(SHARED / "tools" / "search-eval" / "pfeval.py"), str(built_site), str(QUERIES),
         "--host-page", "/search/", "--truth-substring", "--phrase-filter", "--chromium", "/usr/bin/chromium"],
        capture_output=True, text=True, timeout=900,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    summary = re.search(r"mean recall@5=([\d.]+)\s+MRR@\d+=([\d.]+)", result.stdout)
    truth = re.search(r"mean set recall=([\d.]+).*mean set precision=([\d.]+)", result.stdout)
    assert summary and truth, result.stdout[-2000:]
    recall, mrr = float(summary.group(1)), float(summary.group(2))
    set_recall, set_precision = float(truth.group(1)), float(truth.group(2))
    assert recall >= 0.98 and mrr >= 0.95, result.stdout[-2000:]
    assert set_precision >= 0.95 and set_recall >= 0.95, result.stdout[-2000:]
