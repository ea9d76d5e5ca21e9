"""Ingest on pages of sites it was not fitted to: ``../shared/corpora/web-zh`` (124 real pages,
72 sites), scored by the shared ``score_pages.py`` against the corpus labels.

    python benchmarks/ingest_web.py [--input txt|html|both] [--folds 6] [--keep DIR] [--peers]

For each input (the whole-page text dumps ``txt/``, the raw pages ``html/``) it prints the
scorer's summary twice:

- **leave-site-out**: the sites are cut into ``--folds`` groups; the layout model is trained
  (``sitegen.ingest.train``) without a group's sites, then ingests that group's pages; all
  groups' pages are scored together. No page is scored by a model that saw its site.
- **in-sample**: the model trained on every page (the shipped model), as a reference.

With ``--peers`` (HTML), title and date accuracy of sitegen (leave-site-out), GNE and
trafilatura side by side, and body character precision/recall/F1 against ``web-zh/body/``
(53 pages with a reference text). GNE and trafilatura come from ``pip install -e '.[bench]'``.
The last line: ``bench: …`` with every figure.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from sitegen.errors import Diagnostics  # noqa: E402
from sitegen.ingest.pages import write_pages  # noqa: E402
from sitegen.ingest.pipeline import IngestReport, plan  # noqa: E402
from sitegen.ingest.train import load_corpus, site_of, train, without_sites  # noqa: E402

CORPUS = REPO.parent / "shared" / "corpora" / "web-zh"
SCORER = REPO.parent / "shared" / "tools" / "ingest-eval" / "score_pages.py"
SUMMARY = re.compile(r"^score: (.*)$", re.M)


def folds_of(names: list[str], folds: int) -> list[set[str]]:
    """Sites cut into ``folds`` groups, deterministically (sorted sites dealt round-robin)."""
    sites = sorted({site_of(name) for name in names})
    return [set(sites[start::folds]) for start in range(folds)]


def ingest(files: list[Path], content: Path, model) -> IngestReport:
    """Plan and write ``files`` into ``content`` with ``model``."""
    report = IngestReport()
    pages = plan(files, Diagnostics(echo=False), report, model=model)
    write_pages(pages, content, report)
    return report


def score(content: Path, labels: Path, raw: Path) -> str:
    """The scorer's summary line (everything after ``score:``)."""
    result = subprocess.run([sys.executable, str(SCORER), str(content), str(labels), str(raw)],
                            capture_output=True, text=True, check=True)
    found = SUMMARY.findall(result.stdout)
    return found[-1] if found else result.stdout.strip().splitlines()[-1]


def html_labels(work: Path) -> Path:
    """The labels with page names ``<id>.html`` (the scorer matches origins by file name)."""
    text = (CORPUS / "labels.yaml").read_text("utf-8")
    path = work / "labels-html.yaml"
    path.write_text(re.sub(r"^(  [\w.-]+)\.txt:", r"\1.html:", text, flags=re.M), "utf-8")
    return path


def run_input(kind: str, folds: int, work: Path, corpus_pages) -> dict[str, str]:
    """Leave-site-out and in-sample summaries for one input kind."""
    folder = CORPUS / kind
    suffix = ".txt" if kind == "txt" else ".html"
    names = sorted(p.name for p in folder.glob(f"*{suffix}"))
    labels = CORPUS / "labels.yaml" if kind == "txt" else html_labels(work)
    raw = CORPUS / "txt"
    results = {}
    for old in (work / f"{kind}-loso", work / f"{kind}-in-sample"):
        shutil.rmtree(old, ignore_errors=True)
    loso = work / f"{kind}-loso" / "content"
    for group in folds_of(names, folds):
        model = train(without_sites(corpus_pages, group))
        files = [folder / name for name in names if site_of(name) in group]
        ingest(files, loso, model)
    results["leave-site-out"] = score(loso, labels, raw)
    inside = work / f"{kind}-in-sample" / "content"
    ingest([folder / name for name in names], inside, train(corpus_pages))
    results["in-sample"] = score(inside, labels, raw)
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--input", choices=["txt", "html", "both"], default="both")
    parser.add_argument("--folds", type=int, default=6, help="groups of sites for leave-site-out (default 6)")
    parser.add_argument("--keep", type=Path, help="keep the ingested folders here")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="ingest-web-")) if args.keep is None else args.keep
    work.mkdir(parents=True, exist_ok=True)
    corpus_pages = load_corpus(CORPUS)
    figures = []
    try:
        for kind in (["txt", "html"] if args.input == "both" else [args.input]):
            for mode, summary in run_input(kind, args.folds, work, corpus_pages).items():
                print(f"{kind} {mode}: {summary}")
                figures.append(f"{kind}_{mode.replace('-', '_')}=[{summary}]")
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)
    print("bench: " + " ".join(figures))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
