"""Entity extraction quality and speed on CLUENER dev (../shared/corpora/cluener/dev.json).

Gold: name → PER; organization, government, company → ORG; address → LOC. A prediction is a
``(kind, surface)`` pair per sentence, compared exactly with the gold pairs of that sentence
(as multisets). Speed is characters per second of ``sitegen.entities.extract_many`` over the
whole dev set on one core (after a warm-up; the median and the best of --repeat runs: this
shared VM's speed drifts by up to 1.5x from minute to minute, and noise only ever adds time),
and of one ``extract`` call per sentence.

    python benchmarks/ner_cluener.py [--model PATH] [--errors N]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

DEV = REPO.parent / "shared" / "corpora" / "cluener" / "dev.json"
GOLD_KINDS = {"name": "PER", "organization": "ORG", "government": "ORG", "company": "ORG", "address": "LOC"}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, help="a model file instead of the shipped one")
    parser.add_argument("--errors", type=int, default=0, help="print this many wrong sentences")
    parser.add_argument("--repeat", type=int, default=7, help="timing runs (the median is reported)")
    args = parser.parse_args()
    import sitegen.entities as entities

    if args.model:
        from sitegen.entities.model import TaggerModel

        entities.use_model(TaggerModel.load(args.model.read_bytes()))
    records = [json.loads(line) for line in DEV.open(encoding="utf-8")]
    texts = [r["text"] for r in records]
    entities.extract_many(texts[:50])  # warm-up (loads the model)
    timings = []
    for _ in range(args.repeat):  # the machine is shared: report the median of several runs
        started = time.perf_counter()
        predicted = entities.extract_many(texts)
        timings.append(time.perf_counter() - started)
    batch_seconds = statistics.median(timings)
    best_seconds = min(timings)
    started = time.perf_counter()
    for text in texts:
        entities.extract(text)
    single_seconds = time.perf_counter() - started
    chars = sum(len(t) for t in texts)
    tp: Counter[str] = Counter()
    fp: Counter[str] = Counter()
    fn: Counter[str] = Counter()
    shown = 0
    for record, pred in zip(records, predicted):
        gold = Counter((GOLD_KINDS[label], surface) for label, ents in record.get("label", {}).items()
                       if label in GOLD_KINDS for surface, spans in ents.items() for _ in spans)
        got = Counter(pair for pair in pred if pair[0] in {"PER", "ORG", "LOC"})
        for (kind, surface), _n in (gold | got).items():
            hit = min(gold[(kind, surface)], got[(kind, surface)])
            tp[kind] += hit
            fp[kind] += got[(kind, surface)] - hit
            fn[kind] += gold[(kind, surface)] - hit
        if gold != got and shown < args.errors:
            shown += 1
            print(f"{record['text']}\n  gold {sorted(gold.elements())}\n  got  {sorted(got.elements())}")
    rows = []
    for kind in ("PER", "ORG", "LOC", "all"):
        t = sum(tp.values()) if kind == "all" else tp[kind]
        p_ = sum(fp.values()) if kind == "all" else fp[kind]
        n_ = sum(fn.values()) if kind == "all" else fn[kind]
        precision = t / (t + p_) if t + p_ else 0.0
        recall = t / (t + n_) if t + n_ else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        rows.append((kind, precision, recall, f1))
        print(f"{kind:>4}: P={precision:.3f} R={recall:.3f} F1={f1:.3f}")
    overall = rows[-1]
    print(f"bench: sentences={len(texts)} chars={chars} P={overall[1]:.3f} R={overall[2]:.3f} F1={overall[3]:.3f} "
          f"chars_per_s_batch={chars / batch_seconds:.0f} chars_per_s_batch_best={chars / best_seconds:.0f} "
          f"chars_per_s_per_call={chars / single_seconds:.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
