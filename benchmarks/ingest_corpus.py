"""Ingest every record of ../shared/corpora/cctv_xwlb/items_by_month/*.jsonl (24,102 records)
into a temporary content folder in one run; report time and peak memory.

    python benchmarks/ingest_corpus.py [--months 2024-01 ...]

Last line: bench: records=… items=… written=… duplicates=… seconds=… peak_mb=…
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from sitegen.errors import Diagnostics  # noqa: E402
from sitegen.ingest.pages import write_pages  # noqa: E402
from sitegen.ingest.pipeline import IngestReport, plan  # noqa: E402

CORPUS = REPO.parent / "shared" / "corpora" / "cctv_xwlb" / "items_by_month"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--months", nargs="*", help="only these months (YYYY-MM)")
    args = parser.parse_args()
    files = [CORPUS / f"{m}.jsonl" for m in args.months] if args.months else [CORPUS]
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        report = IngestReport()
        pages = plan(files, Diagnostics(echo=False), report)
        planned = time.perf_counter()
        write_pages(pages, Path(tmp) / "content", report)
        finished = time.perf_counter()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"plan {planned - started:.1f}s, write {finished - planned:.1f}s, failed files {len(report.failed_files)}")
    print(f"bench: records={report.documents} items={report.items} written={len(report.written)} "
          f"duplicates={len(report.duplicates)} uncertain={len(report.uncertain_dates)} "
          f"seconds={finished - started:.1f} peak_mb={peak_mb:.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
