"""Shared fixtures: paths to the shared seeds/corpora, a sample site, browser helpers."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
SEEDS = SHARED / "seeds"
CORPORA = SHARED / "corpora"
CHROMIUM = Path("/usr/bin/chromium")


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
