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
(53 pages with a reference text), of the body alone and of headline + body (the references
often begin with the headline). GNE and trafilatura come from ``pip install -e '.[bench]'``.
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


def run_input(kind: str, folds: int, work: Path, corpus_pages, in_sample: bool = True) -> dict[str, str]:
    """Leave-site-out and (``in_sample``) in-sample summaries for one input kind, each with the
    number of files ingest skipped."""
    folder = CORPUS / kind
    suffix = ".txt" if kind == "txt" else ".html"
    names = sorted(p.name for p in folder.glob(f"*{suffix}"))
    labels = CORPUS / "labels.yaml" if kind == "txt" else html_labels(work)
    raw = CORPUS / "txt"
    results = {}
    for old in (work / f"{kind}-loso", work / f"{kind}-in-sample"):
        shutil.rmtree(old, ignore_errors=True)
    loso = work / f"{kind}-loso" / "content"
    skipped = 0
    for group in folds_of(names, folds):
        model = train(without_sites(corpus_pages, group))
        files = [folder / name for name in names if site_of(name) in group]
        skipped += len(ingest(files, loso, model).failed_files)
    results["leave-site-out"] = f"{score(loso, labels, raw)}, skipped {skipped}"
    if in_sample:
        inside = work / f"{kind}-in-sample" / "content"
        report = ingest([folder / name for name in names], inside, train(corpus_pages))
        results["in-sample"] = f"{score(inside, labels, raw)}, skipped {len(report.failed_files)}"
    return results


def score_seeds(work: Path) -> str:
    """The five seeds (../shared/seeds) with the shipped model, scored against expected.yaml."""
    seeds = REPO.parent / "shared" / "seeds"
    content = work / "seeds" / "content"
    shutil.rmtree(content.parent, ignore_errors=True)
    ingest(sorted(seeds.glob("*.txt")), content, None)
    return score(content, seeds / "expected.yaml", seeds)


def _squash(text: str) -> str:
    import unicodedata

    return "".join(unicodedata.normalize("NFKC", text).split())


def _simplified(text: str) -> str:
    import opencc

    return opencc.OpenCC("t2s").convert(text)


def _date_ok(spec: dict, value) -> bool:
    """The scorer's date rule for a single item: one of the accepted dates, or no certain date
    for a page that gives none."""
    from datetime import date, datetime

    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, str):
        found = re.match(r"\s*(\d{4})-(\d{1,2})-(\d{1,2})", value)
        value = date(int(found[1]), int(found[2]), int(found[3])) if found else None
    if "date" in spec:
        accepted = {str(d) for d in [spec["date"], spec.get("event_date"), spec.get("date_alt")] if d}
        return value is not None and value.isoformat() in accepted
    if "month_day" in spec:
        return value is not None and value.strftime("%m-%d") in {spec["month_day"], spec.get("month_day_alt")}
    return value is None if spec.get("date_unknown") else True


def _body_scores(got: str, reference: str) -> tuple[float, float, float]:
    """Character precision, recall and F1 of ``got`` against ``reference`` (bags of
    characters, whitespace, width and script differences ignored: sitegen writes simplified
    characters, some references keep the page's traditional ones)."""
    from collections import Counter

    mine, theirs = Counter(_simplified(_squash(got))), Counter(_simplified(_squash(reference)))
    common = sum((mine & theirs).values())
    precision = common / max(sum(mine.values()), 1)
    recall = common / max(sum(theirs.values()), 1)
    return precision, recall, (2 * precision * recall / (precision + recall) if common else 0.0)


def compare_peers(content: Path) -> list[str]:
    """sitegen (its leave-site-out output in ``content``), GNE and trafilatura on web-zh/html:
    title and date accuracy on the single-article pages, body character P/R/F1 against
    web-zh/body/. Lines for the console."""
    import trafilatura
    import yaml
    from gne import GeneralNewsExtractor

    from sitegen.frontmatter import parse_page
    from sitegen.ingest.readers import declared_encoding, decode
    from sitegen.ingest.train import title_matches

    labels = yaml.safe_load((CORPUS / "labels.yaml").read_text("utf-8"))["pages"]
    ours: dict[str, list[tuple[dict, str]]] = {}
    for path in sorted(content.rglob("*.md")):
        page = parse_page(path.read_text("utf-8"), path)
        name = str(page.front["origin"]).rsplit("/", 1)[-1].split("#")[0]
        ours.setdefault(name, []).append((page.front, page.body))
    tools: dict[str, dict[str, tuple[str, object, str]]] = {"sitegen": {}, "gne": {}, "trafilatura": {}}
    gne = GeneralNewsExtractor()
    for name, label in sorted(labels.items()):
        if label.get("kind") != "single" and not (CORPUS / "body" / name).exists():
            continue
        html_name = name.replace(".txt", ".html")
        data = (CORPUS / "html" / html_name).read_bytes()
        html = decode(data, CORPUS / "html" / html_name, declared_encoding(data))
        mine = ours.get(html_name, [])
        tools["sitegen"][name] = (mine[0][0]["title"] if mine else "", mine[0][0].get("date") if mine else None,
                                  "\n".join(body for _, body in mine))
        try:
            found = gne.extract(html)
            tools["gne"][name] = (found.get("title") or "", found.get("publish_time") or None, found.get("content") or "")
        except Exception:  # noqa: BLE001 - a peer that fails on a page scores nothing there
            tools["gne"][name] = ("", None, "")
        extracted = trafilatura.bare_extraction(html, with_metadata=True)
        data = (extracted if isinstance(extracted, dict) else extracted.as_dict()) if extracted is not None else {}
        tools["trafilatura"][name] = (data.get("title") or "", data.get("date"), data.get("text") or "")
    rows = []
    for tool, every in tools.items():
        # body text on every page with a reference (the pages of several items and the spam page
        # too: all of a tool's text for the page); titles and dates on the single-article pages
        whole_page = [_body_scores(every[name][2], (CORPUS / "body" / name).read_text("utf-8"))
                      for name in sorted(every) if (CORPUS / "body" / name).exists()]
        every_mean = [sum(s[i] for s in whole_page) / len(whole_page) for i in range(3)]
        results = {name: found for name, found in every.items() if labels[name].get("kind") == "single"}
        titles = dates = 0
        for name, (title, day, _) in results.items():
            spec = (labels[name].get("item_list") or [{}])[0]
            titles += title_matches(spec, title) if title else 0
            dates += _date_ok(spec, day)
        references = {name: (CORPUS / "body" / name).read_text("utf-8") for name in sorted(results)
                      if (CORPUS / "body" / name).exists()}
        scored = [_body_scores(results[name][2], text) for name, text in references.items()]
        mean = [sum(s[i] for s in scored) / len(scored) for i in range(3)]
        good = sum(1 for s in scored if s[2] >= 0.9)
        # the reference texts often begin with the headline: the article as a reader sees it
        # (headline, then body) is measured too, for every tool alike
        read = [_body_scores(results[name][0] + "\n" + results[name][2], text) for name, text in references.items()]
        whole = [sum(s[i] for s in read) / len(read) for i in range(3)]
        rows.append(f"{tool}: titles {titles}/{len(results)}, dates {dates}/{len(results)}, body P {mean[0]:.3f} "
                    f"R {mean[1]:.3f} F1 {mean[2]:.3f} ({good}/{len(scored)} pages F1 >= 0.9), headline+body "
                    f"P {whole[0]:.3f} R {whole[1]:.3f} F1 {whole[2]:.3f}; all {len(whole_page)} pages with a "
                    f"reference: body P {every_mean[0]:.3f} R {every_mean[1]:.3f} F1 {every_mean[2]:.3f}")
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--input", choices=["txt", "html", "both"], default="both")
    parser.add_argument("--folds", type=int, default=6, help="groups of sites for leave-site-out (default 6)")
    parser.add_argument("--keep", type=Path, help="keep the ingested folders here")
    parser.add_argument("--peers", action="store_true", help="compare with GNE and trafilatura on html/")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="ingest-web-")) if args.keep is None else args.keep
    work.mkdir(parents=True, exist_ok=True)
    corpus_pages = load_corpus(CORPUS)
    figures = []
    try:
        seeds = score_seeds(work)
        print(f"seeds (shipped model): {seeds}")
        figures.append(f"seeds=[{seeds}]")
        for kind in (["txt", "html"] if args.input == "both" else [args.input]):
            for mode, summary in run_input(kind, args.folds, work, corpus_pages).items():
                print(f"{kind} {mode}: {summary}")
                figures.append(f"{kind}_{mode.replace('-', '_')}=[{summary}]")
            if kind == "html" and args.peers:
                for row in compare_peers(work / "html-loso" / "content"):
                    print(f"html {row}")
                    figures.append(row.replace(": ", "=[", 1) + "]")
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)
    print("bench: " + " ".join(figures))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
