"""``sitegen new DIR``: start a site that builds at once.

The files come from ``sitegen/scaffold/`` (shipped in the package): ``sitegen.yaml`` with
every setting explained, ``content/_data/entities.yaml`` explained, one example article,
``.gitignore``, ``requirements.txt``, ``netlify.toml`` and a GitHub Actions workflow. The site
has no ``templates/`` or ``static/``: it uses the theme inside sitegen until it overrides a
file (see :mod:`sitegen.theme`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sitegen.errors import UsageError

SCAFFOLD = Path(__file__).resolve().parent / "scaffold"
"""The new site's files, in one flat folder of package data."""
SCAFFOLD_FILES = {
    "sitegen.yaml": "sitegen.yaml",
    "content/_data/entities.yaml": "entities.yaml",
    "content/articles/2026/01/20260105-example.md": "example-article.md",
    ".gitignore": "gitignore",
    "requirements.txt": "requirements.txt",
    "netlify.toml": "netlify.toml",
    ".github/workflows/sitegen.yml": "github-workflow.yml",
}
"""Each file of a new site (its path in the site) and its source in :data:`SCAFFOLD`."""


@dataclass(frozen=True)
class NewSite:
    """What :func:`new_site` did: files written and files already there (left as they were)."""

    root: Path
    written: tuple[str, ...]
    kept: tuple[str, ...]


def new_site(target: Path, force: bool = False) -> NewSite:
    """Write a new site into ``target``. A folder that holds anything is refused unless
    ``force``; even then no file that exists is changed and nothing is written outside
    ``target`` (through a link inside it)."""
    if target.exists() and not target.is_dir():
        raise UsageError(f"{target} exists and is not a folder")
    if target.is_dir() and any(target.iterdir()) and not force:
        raise UsageError(f"{target} is not empty: choose a new folder, or pass --force to add the missing "
                         "files (no file there is changed)")
    target.mkdir(parents=True, exist_ok=True)
    inside = target.resolve()
    written: list[str] = []
    kept: list[str] = []
    for relpath, source in SCAFFOLD_FILES.items():
        destination = target / relpath
        if destination.exists() or destination.is_symlink():
            kept.append(relpath)
            continue
        if not destination.parent.resolve().is_relative_to(inside):  # checked before any folder is made
            raise UsageError(f"{destination.parent} leads outside {target}: not writing {relpath} there")
        destination.parent.mkdir(parents=True, exist_ok=True)
        with destination.open("xb") as file:  # never replaces a file that appeared meanwhile
            file.write((SCAFFOLD / source).read_bytes())
        written.append(relpath)
    return NewSite(target, tuple(written), tuple(kept))
