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
    """The first ``count`` jsonl lines of the corpus, in month order. Past the corpus's end
    it starts again, its dates shifted forward by the corpus's whole span (so the copies
    follow the originals in time, too far apart to be merged as duplicates) and each copy's
    id and URL marked with the round, so every copy is an item of its own."""
    lines: list[str] = []
    for month in sorted(CORPUS.glob("*.jsonl")):
        lines += month.read_text("utf-8").splitlines()
        if len(lines) >= count:
            return lines[:count]
    return lines + _later_rounds(lines, count - len(lines))


def _later_rounds(corpus: list[str], count: int) -> list[str]:
    """``count`` records of the corpus repeated (see :func:`first_records`)."""
    import datetime as dt
    import json

    records = [json.loads(line) for line in corpus]
    days = [dt.date.fromisoformat(record["date"]) for record in records]
    span = max(days) - min(days) + dt.timedelta(days=1)
    copies: list[str] = []
    round_number = 1
    while len(copies) < count:
        for record, day in zip(records, days):
            if len(copies) == count:
                break
            copy = {**record, "id": f"{record['id']}-r{round_number}", "url": f"{record['url']}?round={round_number}",
                    "date": (day + span * round_number).isoformat()}
            copies.append(json.dumps(copy, ensure_ascii=False))
        round_number += 1
    return copies


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
