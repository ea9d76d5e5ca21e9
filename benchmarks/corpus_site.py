"""Shared by the benchmarks: a site folder made of the first N records of the CCTV corpus."""

from __future__ import annotations

import shutil
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
RECORDS_PER_FILE = 10000
CORPUS = REPO.parent / "shared" / "corpora" / "cctv_xwlb" / "items_by_month"


def next_day_records(count: int) -> list[str]:
    """The records after the first ``count`` that share the date of the first of them: the
    next day's news of a site built from the first ``count``."""
    import json

    following = first_records(count + 200)[count:]
    if not following:
        return []
    day = json.loads(following[0]).get("date")
    return [line for line in following if json.loads(line).get("date") == day]


def first_records(count: int) -> list[str]:
    """The first ``count`` jsonl lines of the corpus, in month order."""
    lines: list[str] = []
    for month in sorted(CORPUS.glob("*.jsonl")):
        lines += month.read_text("utf-8").splitlines()
        if len(lines) >= count:
            break
    return lines[:count]


def make_site(work: Path, count: int, config: str) -> Path:
    """``work`` with raw/items.jsonl (``count`` records), the repo's templates and static
    files, and ``sitegen.yaml`` holding ``config``; returns the raw folder."""
    raw = work / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    records = first_records(count)
    for start in range(0, len(records), RECORDS_PER_FILE):  # ingest refuses raw files over 20 MB
        name = "items.jsonl" if len(records) <= RECORDS_PER_FILE else f"items-{start // RECORDS_PER_FILE:03d}.jsonl"
        (raw / name).write_text("\n".join(records[start : start + RECORDS_PER_FILE]) + "\n", "utf-8")
    for name in ("templates", "static"):
        shutil.copytree(REPO / name, work / name, dirs_exist_ok=True)
    (work / "sitegen.yaml").write_text(config, "utf-8")
    return raw
