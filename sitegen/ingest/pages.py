"""Write planned pages into ``content/`` without ever losing an editor's work.

A manifest (``content/.ingest-manifest.json``) remembers, per origin, the page path ingest
wrote and the SHA-256 of the bytes it wrote. On a later run a page is rewritten only when
its file still holds exactly those bytes (nobody edited it); an edited page is kept and
reported (``--force`` overrides), and a page an editor deleted is not brought back.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from sitegen.frontmatter import dump_page
from sitegen.ingest.pipeline import IngestReport, PlannedPage
from sitegen.progress import NO_PROGRESS, Progress
from sitegen.text import content_hash

MANIFEST = ".ingest-manifest.json"


def _load_manifest(content: Path) -> dict[str, dict[str, str]]:
    path = content / MANIFEST
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text("utf-8"))
    except (OSError, json.JSONDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


def _atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_pages(pages: list[PlannedPage], content: Path, report: IngestReport,
                dry_run: bool = False, force: bool = False, progress: Progress = NO_PROGRESS) -> None:
    """Write ``pages`` under ``content`` (see the module docstring for the rules)."""
    manifest = _load_manifest(content)
    taken: dict[str, str] = {}
    progress.stage("pages checked" if dry_run else "pages written", len(pages))
    for page in pages:
        progress.advance()
        relpath = page.relpath
        # two items that want one path: keep both, the later one gets a suffix
        while relpath in taken and taken[relpath] != page.origin:
            page.front["slug"] = f"{page.front['slug']}-{len(taken) % 97}"
            relpath = page.relpath
        taken[relpath] = page.origin
        record = manifest.get(page.origin)
        if record and record.get("path"):
            relpath = record["path"]
        target = content / relpath
        data = dump_page(page.front, page.body).encode("utf-8")
        if target.exists():
            current = target.read_bytes()
            if current == data:
                report.unchanged.append(relpath)
                continue
            edited = record is None or content_hash(current) != record.get("sha256")
            if edited and not force:
                report.kept_edited.append(relpath)
                continue
            report.updated.append(relpath)
        elif record is not None and not force:
            report.kept_edited.append(f"{relpath} (deleted by an editor; not recreated)")
            continue
        else:
            report.written.append(relpath)
        if not dry_run:
            _atomic_write(target, data)
            manifest[page.origin] = {"path": relpath, "sha256": content_hash(data)}
    if not dry_run and (report.written or report.updated):
        ordered = {key: manifest[key] for key in sorted(manifest)}
        _atomic_write(content / MANIFEST, (json.dumps(ordered, ensure_ascii=False, indent=1) + "\n").encode("utf-8"))
