"""Write planned pages into ``content/`` without ever losing an editor's work.

A manifest (``content/.ingest-manifest.json``) remembers, per origin, the page path ingest
wrote and the SHA-256 of the bytes it wrote. On a later run a page is rewritten only when
its file still holds exactly those bytes (nobody edited it); an edited page is kept and
reported (``--force`` overrides), and a page an editor deleted is not brought back.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from sitegen.errors import ContentError
from sitegen.files import atomic_write, read_regular_file, read_text_file
from sitegen.ingest.pipeline import IngestReport, PlannedPage
from sitegen.progress import NO_PROGRESS, Progress
from sitegen.text import content_hash

MANIFEST = ".ingest-manifest.json"


def _load_manifest(content: Path) -> dict[str, dict[str, str]]:
    """The manifest's records by origin; a damaged one counts as empty (every existing page
    is then treated as edited by hand, so none is overwritten)."""
    path = content / MANIFEST
    if not path.exists():
        return {}
    try:
        data = json.loads(read_text_file(path, 512 * 1024 * 1024))
    except json.JSONDecodeError:
        return {}
    if not isinstance(data, dict):
        return {}
    return {k: v for k, v in data.items()
            if isinstance(v, dict) and isinstance(v.get("path"), str) and all(isinstance(x, str) for x in v.values())}


def _legacy_record(manifest: dict[str, dict[str, str]], page: PlannedPage,
                   legacy: set[str]) -> tuple[str, dict[str, str]] | None:
    """The manifest entry of a page written before origins named the folder
    (``002_….txt#2`` where it is now ``seeds/002_….txt#2``), if this document is the one it came
    from: the first document of that name to come back claims it (and is recorded as its
    source), later ones with the same file name get pages of their own. ``legacy``: the
    manifest's entries of that form not claimed yet."""
    name = page.origin.rsplit("/", 1)[-1]
    record = manifest.get(name)
    source = page.origin.rsplit("#", 1)[0]
    if name == page.origin or name not in legacy or record is None or record.get("source", source) != source:
        return None
    legacy.discard(name)
    return name, record


def _inside(content: Path, relpath: str) -> Path:
    """``content / relpath``, refusing anything that would land outside ``content``."""
    target = content / relpath
    if not target.resolve().is_relative_to(content.resolve()) or ".." in Path(relpath).parts:
        raise ContentError(f"refusing to write outside the content folder: {relpath}", content / MANIFEST)
    return target


def write_pages(pages: list[PlannedPage], content: Path, report: IngestReport,
                dry_run: bool = False, force: bool = False, progress: Progress = NO_PROGRESS) -> None:
    """Write ``pages`` under ``content`` (see the module docstring for the rules)."""
    manifest = _load_manifest(content)
    taken: dict[str, str] = {}
    legacy = {key for key in manifest if "/" not in key}  # written before origins named the folder
    manifest_changed = False
    progress.stage("pages checked" if dry_run else "pages written", len(pages))
    for page in pages:
        progress.advance()
        key = page.origin
        record = manifest.get(key)
        if record is None and (found := _legacy_record(manifest, page, legacy)) is not None:
            key, record = found
            if record.get("source") is None:
                record["source"] = page.origin.rsplit("#", 1)[0]
                manifest_changed = True
            page = replace(page, front=replace(page.front, origin=key,
                                               slug=Path(record.get("path", "")).stem or page.front.slug))
        relpath = page.relpath
        # two items that want one path: keep both, the later one gets a suffix
        while relpath in taken and taken[relpath] != key:
            page = replace(page, front=replace(page.front, slug=f"{page.front.slug}-{len(taken) % 97}"))
            relpath = page.relpath
        taken[relpath] = key
        if record and record.get("path"):
            relpath = record["path"]
        target = _inside(content, relpath)
        data = page.text().encode("utf-8")
        if target.exists():
            current = read_regular_file(target, 64 * 1024 * 1024)
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
            atomic_write(target, data)
            manifest[key] = {**(record or {}), "path": relpath, "sha256": content_hash(data)}
            legacy.discard(key)
            manifest_changed = True
    if not dry_run and manifest_changed:
        ordered = {key: manifest[key] for key in sorted(manifest)}
        atomic_write(content / MANIFEST, (json.dumps(ordered, ensure_ascii=False, indent=1) + "\n").encode("utf-8"))
