"""sitegen as a user installs it: the wheel in a fresh venv, a new site, the seeds, a build.

`python -m build` makes the wheel; `python3 -m venv` (the base Python's own, with the pip its
ensurepip ships, never upgraded: 23.2 on Python 3.11) installs it and its dependencies from
PyPI; then, outside this repository, `sitegen new site`, `sitegen ingest ../shared/seeds
--content site/content` and `sitegen build` must give a whole site, and a template of the
site's own must change only the pages using it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO, SHARED, folder_files, need_shared

SEED_ARTICLES = 31


def _run(command: list[str | Path], cwd: Path, timeout: int = 1800) -> str:
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME"}}
    done = subprocess.run([str(c) for c in command], cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env)
    assert done.returncode == 0, f"{command}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout + done.stderr


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv (the base Python's venv and pip) with the wheel built from this checkout."""
    work = tmp_path_factory.mktemp("install")
    _run([sys.executable, "-m", "build", "--wheel", "--outdir", work / "dist", REPO], cwd=work)
    wheels = sorted((work / "dist").glob("sitegen-*.whl"))
    assert len(wheels) == 1, wheels
    base_python = getattr(sys, "_base_executable", None) or shutil.which("python3") or "python3"
    _run([base_python, "-m", "venv", work / "venv"], cwd=work)
    _run([work / "venv" / "bin" / "python", "-m", "pip", "install", "--disable-pip-version-check", wheels[0]], cwd=work)
    return work


def test_the_wheel_holds_the_theme_and_runs_outside_the_checkout(installed: Path) -> None:
    python = installed / "venv" / "bin" / "python"
    where = _run([python, "-c", "import sitegen, sitegen.theme as t; print(sitegen.__file__); print(t.default_theme())"],
                 cwd=installed).split()
    assert where[0].startswith(str(installed / "venv")) and where[1].startswith(str(installed / "venv"))
    for name in ("base.html", "article.html", "week.html", "entity.html", "search.html"):
        assert (Path(where[1]) / "templates" / name).read_bytes() == (REPO / "templates" / name).read_bytes()
    assert (Path(where[1]) / "static" / "search.js").read_bytes() == (REPO / "static" / "search.js").read_bytes()
    pip = _run([python, "-m", "pip", "--version"], cwd=installed)
    print(pip)  # the venv's own pip, never upgraded


def test_new_site_ingest_build_and_an_override(installed: Path) -> None:
    need_shared()
    sitegen = installed / "venv" / "bin" / "sitegen"
    _run([sitegen, "new", "site"], cwd=installed)
    site = installed / "site"
    report = _run([sitegen, "ingest", SHARED / "seeds", "--content", site / "content", "--report", "json"], cwd=installed)
    ingested = json.loads(report[report.index("{"):report.rindex("}") + 1])
    assert len(ingested["written"]) == SEED_ARTICLES and not ingested["failed_files"]
    summary = _run([sitegen, "build"], cwd=site).strip().splitlines()[-1]
    assert f"{SEED_ARTICLES + 1} articles" in summary, summary  # the seeds and the example article
    public = site / "public"
    before = folder_files(public)
    articles = [p for p in before if p.startswith("articles/") and p.endswith("/index.html")]
    digests = [p for p in before if p.startswith("weeks/2") and p.endswith("/index.html")]
    entity_pages = [p for p in before if p.startswith("entities/") and p.count("/") == 3 and p.endswith("/index.html")]
    assert len(articles) == SEED_ARTICLES + 1 and len(digests) >= 10 and len(entity_pages) >= 100
    assert "pagefind/pagefind-entry.json" in before and any(p.startswith("pagefind/wasm.") for p in before)
    assert any("工信部召开第十三次制造业企业座谈会" in before[p].decode("utf-8") for p in articles)

    # a template of the site's own, from the theme it replaces: only the pages using it change
    theme = Path(_run([installed / "venv" / "bin" / "python", "-c", "import sitegen.theme as t; print(t.default_theme())"],
                      cwd=installed).strip())
    (site / "templates").mkdir()
    entity = (theme / "templates" / "entity.html").read_text("utf-8")
    (site / "templates" / "entity.html").write_text(
        entity.replace("{% block main %}", "{% block main %}<!-- own entity page -->", 1), "utf-8")
    _run([sitegen, "build"], cwd=site)
    after = folder_files(public)
    assert before.keys() == after.keys()
    changed = {p for p in before if before[p] != after[p]}
    assert changed == set(entity_pages)
    assert all(b"<!-- own entity page -->" in after[p] for p in entity_pages)
