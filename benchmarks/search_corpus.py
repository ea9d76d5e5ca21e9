"""Search quality and cost on a site built from real CCTV items.

Ingests the first N items of ../shared/corpora/cctv_xwlb/items_by_month/ (in month order;
past its 24,102 items the corpus again, dates shifted forward by its span: see
benchmarks/corpus_site.py), builds the site with the search index (timing it, with the peak
memory of its process tree, ``peak_tree_mb``), picks Q queries from article titles
(a distinctive 2–6 character word of each sampled title, chosen with jieba and kept only
when it occurs in at most 5 articles, so the expected set is known; when the word is an
entity's name, that entity's page is expected too) and runs the shared
evaluator pfeval.py against the real search page with --truth-substring --phrase-filter
(and --bytes for the cold transfer per query), printing the queries not found whole at the
top. pfeval calls Pagefind's API itself; what a
reader downloads is then measured on the search page as a reader uses it: /search/?q=QUERY
opened cold (a fresh browser context per query) until its results (up to 20) are shown,
counting every file fetched from /pagefind/ as a host serves them, pagefind.js and its
worker gzipped (page_query_kb: median and largest), and served as they are on disk
(page_query_raw_kb: median).

    python benchmarks/search_corpus.py [--items 5000] [--queries 40] [--keep DIR [--built]]
"""

from __future__ import annotations

import argparse
import itertools
import random
import re
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
sys.path.insert(0, str(REPO))


COMPRESSED_TYPES = {".html", ".css", ".js", ".json", ".svg", ".xml", ".txt"}
"""What a host compresses on the fly (Netlify, Cloudflare, Vercel and GitHub Pages serve these
gzip or Brotli to a browser that accepts it); Pagefind's own files are gzipped by Pagefind."""


def page_query_kilobytes(site: Path, queries: list[str], compress: bool = True) -> list[float]:
    """Kilobytes fetched from /pagefind/ by the real search page for each query, cold; with
    ``compress`` served as a host serves them (:data:`COMPRESSED_TYPES` gzipped, level 6:
    Brotli, which hosts prefer, is smaller still), else every file as it is on disk."""
    import functools
    import gzip
    import http.server
    import threading
    from urllib.parse import quote, unquote, urlsplit

    from playwright.sync_api import sync_playwright

    sent: list[int] = []  # bytes of each /pagefind/ response body (counted here: Chromium
    # reports 0 for pagefind-worker.js, fetched by the worker it starts)

    class Handler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            request_path = unquote(urlsplit(self.path).path)
            path = Path(self.translate_path(request_path))
            if not path.is_file():
                super().do_GET()
                return
            body = path.read_bytes()
            gzipped = compress and path.suffix in COMPRESSED_TYPES and "gzip" in self.headers.get("Accept-Encoding", "")
            if gzipped:
                body = gzip.compress(body, compresslevel=6)
            self.send_response(200)
            self.send_header("Content-Type", self.guess_type(str(path)))
            if gzipped:
                self.send_header("Content-Encoding", "gzip")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            if request_path.startswith("/pagefind/"):
                sent.append(len(body))

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=str(site)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    sizes = []
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path="/usr/bin/chromium")
            for query in queries:
                context = browser.new_context()
                page = context.new_page()
                sent.clear()
                page.goto(f"{base}/search/?q={quote(query)}")
                page.wait_for_function("/条结果|没有找到/.test(document.getElementById('search-status').textContent)",
                                       timeout=60_000)
                page.wait_for_load_state("networkidle")
                sizes.append(sum(sent) / 1024)
                context.close()
            browser.close()
    finally:
        server.shutdown()
    return sizes


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=5000)
    parser.add_argument("--queries", type=int, default=40)
    parser.add_argument("--keep", type=Path, help="build the site here (and keep it)")
    parser.add_argument("--built", action="store_true",
                        help="evaluate the site a run with --keep built there (no ingest, no build)")
    args = parser.parse_args()
    from benchmarks.build_corpus import timed
    from benchmarks.corpus_site import make_site
    from sitegen.frontmatter import parse_page

    work = args.keep or Path(tempfile.mkdtemp(prefix="sitegen-search-bench-"))
    build_seconds, tree_mb = float("nan"), float("nan")
    if not args.built:
        raw = make_site(work, args.items, "title: 新闻联播要闻\nentity_min_articles: 2\n")
        sitegen = [sys.executable, "-m", "sitegen"]
        subprocess.run([*sitegen, "ingest", str(raw), "--content", str(work / "content")], check=True,
                       capture_output=True)
        build_seconds, _, build_output, tree_mb = timed([*sitegen, "build", "--root", str(work),
                                                         "--out", str(work / "public")])
        print(build_output.strip(), flush=True)
    bundle = work / "public" / "pagefind"
    index_bytes = sum(p.stat().st_size for p in bundle.rglob("*") if p.is_file())
    pages = []
    for path in sorted((work / "content").rglob("*.md")):
        page = parse_page(path.read_text("utf-8"), path)
        pages.append((page.front["slug"], page.front["title"], page.front["title"] + page.body))
    import jieba

    rng = random.Random(7)
    queries = []
    for _slug, title, _ in rng.sample(pages, len(pages)):
        words = [w for w in jieba.cut(title) if 2 <= len(w) <= 6 and re.fullmatch(r"[\u4e00-\u9fff]+", w)]
        for word in sorted(words, key=len, reverse=True):
            hits = list(itertools.islice((s for s, _, text in pages if word in text), 6))  # 6: too many
            if 1 <= len(hits) <= 5 and word not in {q for q, _ in queries}:
                queries.append((word, hits))
                break
        if len(queries) >= args.queries:
            break
    # a query that is exactly an entity's name also expects that entity's page (which lists every
    # article naming it): it is a right answer, usually the first one
    entity_pages = {}
    for page in sorted((work / "public" / "entities").glob("*/*/index.html")):
        if found := re.search(r'data-pagefind-meta="title:([^"（]+)（', page.read_text("utf-8")):
            entity_pages.setdefault(found.group(1), f"/{page.parent.relative_to(work / 'public').as_posix()}/")
    query_file = work / "queries.tsv"
    query_file.write_text("".join(
        f"{q}\t{' '.join([f'/articles/{s}/' for s in hits] + ([entity_pages[q]] if q in entity_pages else []))}\n"
        for q, hits in queries), "utf-8")
    evaluation = subprocess.run(
        [sys.executable, str(SHARED / "tools" / "search-eval" / "pfeval.py"), str(work / "public"), str(query_file),
         "--host-page", "/search/", "--truth-substring", "--phrase-filter", "--bytes", "--chromium", "/usr/bin/chromium"],
        capture_output=True, text=True,
    )
    lines = evaluation.stdout.strip().splitlines()
    header = next((line for line in lines if line.startswith("query ")), "")
    missed = [line for line in lines  # the queries not found whole at the top: recall@5 or RR under 1
              if len(fields := line.split()) >= 9 and re.fullmatch(r"[\d.]+", fields[3]) and fields[3:5] != ["1.00", "1.00"]]
    print("\n".join([header, *missed, *lines[-4:]]))
    page_kb = sorted(page_query_kilobytes(work / "public", [q for q, _ in queries[:10]]))
    raw_kb = sorted(page_query_kilobytes(work / "public", [q for q, _ in queries[:10]], compress=False))
    summary = re.search(r"mean recall@5=([\d.]+)\s+MRR@\d+=([\d.]+)", evaluation.stdout)
    truth = re.search(r"mean set recall=([\d.]+).*mean set precision=([\d.]+)", evaluation.stdout)
    print(f"bench: items={args.items} pages={len(pages)} queries={len(queries)} build_s={build_seconds:.1f} "
          f"peak_tree_mb={tree_mb:.0f} "
          f"index_mb={index_bytes / 1e6:.1f} recall5={summary.group(1) if summary else '?'} "
          f"mrr={summary.group(2) if summary else '?'} set_precision={truth.group(2) if truth else '?'} "
          f"page_query_kb={page_kb[len(page_kb) // 2]:.0f} page_query_kb_max={page_kb[-1]:.0f} "
          f"page_query_raw_kb={raw_kb[len(raw_kb) // 2]:.0f}")
    print(f"site kept in {work}" if args.keep else "")
    return evaluation.returncode


if __name__ == "__main__":
    sys.exit(main())
