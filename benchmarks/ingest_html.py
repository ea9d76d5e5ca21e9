"""Ingest the 286 raw CCTV pages (../shared/corpora/cctv_xwlb/html_sample/) and compare each
with the item of the same URL in items_by_month/*.jsonl: title exact-match rate and body
sentence recall / precision (sentences compared after NFKC and whitespace removal). A
roundup page split into its stories is compared by their category (the page's title) and
their bodies together.

The reference texts carry a few scraper artefacts that are not body text: HTML comments,
``**`` bold markers, ``---`` separators and ``更新时间:…`` stamps; they are removed from the
reference before comparing.

    python benchmarks/ingest_html.py [--show N]

Prints per-page failures (with --show) and a last line:
    bench: pages=… matched=… title_exact=… sentence_recall=… sentence_precision=… errors=…
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from sitegen.errors import Diagnostics  # noqa: E402
from sitegen.ingest.pipeline import IngestReport, plan  # noqa: E402
from sitegen.text import nfkc, sentences  # noqa: E402

CORPUS = REPO.parent / "shared" / "corpora" / "cctv_xwlb"


def norm_sentences(text: str) -> list[str]:
    plain = re.sub(r"\*\*|<!--.*?-->", "", nfkc(text))
    plain = re.sub(r"(?m)^(-{3,}|更新时间:.*)$", "", plain)
    return ["".join(s.split()) for s in sentences(plain.replace("\n", "。")) if len("".join(s.split())) > 1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--show", type=int, default=0, help="print this many mismatching pages")
    args = parser.parse_args()
    expected = {}
    for path in sorted((CORPUS / "items_by_month").glob("*.jsonl")):
        for line in path.open(encoding="utf-8"):
            record = json.loads(line)
            expected[record["url"].rsplit("/", 1)[-1]] = record
    pages = sorted((CORPUS / "html_sample").glob("*.shtml"))
    started = time.perf_counter()
    report = IngestReport()
    planned = plan(pages, Diagnostics(echo=False), report)
    seconds = time.perf_counter() - started
    by_file: dict[str, list] = {}
    for page in planned:
        by_file.setdefault(page.origin.split("#")[0].rsplit("/", 1)[-1], []).append(page)
    for page in planned:
        for other in page.front.also:
            by_file.setdefault(other.split("#")[0].rsplit("/", 1)[-1], []).append(page)
    matched = titles_ok = 0
    recall_sum = precision_sum = 0.0
    shown = 0
    for path in pages:
        record = expected.get(path.name)
        if record is None:
            continue
        matched += 1
        got = by_file.get(path.name, [])
        # a roundup page (国际联播快讯) becomes one page per story, its title their category (as in .jsonl)
        got_title = got[0].front.title if len(got) == 1 else (got[0].front.category or "") if got else ""
        got_body = "\n".join(p.body for p in got)
        want = norm_sentences(record["text"])
        have = norm_sentences(got_body)
        recall = sum(1 for s in want if s in have) / len(want) if want else 1.0
        precision = sum(1 for s in have if s in want) / len(have) if have else 0.0
        recall_sum += recall
        precision_sum += precision
        title_ok = nfkc(got_title) == nfkc(record["title"])
        titles_ok += title_ok
        if (not title_ok or recall < 1 or precision < 1) and shown < args.show:
            shown += 1
            print(f"--- {path.name} items={len(got)} recall={recall:.2f} precision={precision:.2f}")
            if not title_ok:
                print(f"  title want: {record['title']}\n  title got:  {got_title}")
            for s in want:
                if s not in have:
                    print(f"  missing: {s[:80]}")
            for s in have:
                if s not in want:
                    print(f"  extra:   {s[:80]}")
    print(f"bench: pages={len(pages)} matched={matched} title_exact={titles_ok / matched:.3f} "
          f"sentence_recall={recall_sum / matched:.3f} sentence_precision={precision_sum / matched:.3f} "
          f"errors={len(report.failed_files)} seconds={seconds:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
