"""Edit-to-screen latency of ``sitegen serve`` on a site of N real CCTV items.

Ingests the first N records of ../shared/corpora/cctv_xwlb/items_by_month/, starts
``sitegen serve`` on it, opens one article in headless Chromium, then E times appends a
sentence to that article's Markdown file and measures the time from the write until the new
sentence is in the open page's DOM (live reload): the DOMContentLoaded time of the reloaded
document, by the page's clock, and when Playwright sees it (it re-attaches to a reloaded
page ~100 ms late). Then T title edits (the title is in lists: digest, entity pages, home,
feeds re-render too) and one template edit (the article template gains a marker).

    python benchmarks/serve_edit.py [--items 10000] [--edits 20]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=10000)
    parser.add_argument("--edits", type=int, default=20, help="body edits (a sentence appended)")
    parser.add_argument("--title-edits", type=int, default=5, help="title edits (lists showing the article change too)")
    parser.add_argument("--reuse", type=Path, help="copy this already ingested site (content/, .sitegen-cache/) "
                        "instead of ingesting --items records again")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    from benchmarks.corpus_site import make_site
    from sitegen.frontmatter import parse_page

    work = Path(tempfile.mkdtemp(prefix="sitegen-serve-bench-"))
    make_site(work, args.items, "entity_min_articles: 2\n")
    sitegen = [sys.executable, "-m", "sitegen"]
    if args.reuse:
        shutil.copytree(args.reuse / "content", work / "content")
        if (args.reuse / ".sitegen-cache").is_dir():
            shutil.copytree(args.reuse / ".sitegen-cache", work / ".sitegen-cache")
    else:
        subprocess.run([*sitegen, "ingest", str(work / "raw"), "--content", str(work / "content")], check=True,
                       capture_output=True)
    started = time.perf_counter()
    log = open(work / "serve.log", "w")
    server = subprocess.Popen([*sitegen, "serve", "--root", str(work), "--port", "0"], stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    base = None
    while base is None:
        line = server.stdout.readline()
        if not line:
            raise SystemExit("serve did not start")
        if match := re.search(r"at (http://127\.0\.0\.1:\d+)/", line):
            base = match.group(1)
    print(f"first build and serve: {time.perf_counter() - started:.1f}s", flush=True)

    def drain() -> None:  # keep the server's output flowing (a full pipe would block it)
        for line in server.stdout:
            log.write(line)
            log.flush()

    import threading

    threading.Thread(target=drain, daemon=True).start()
    articles = sorted((work / "content" / "articles").rglob("*.md"))
    page_file = articles[len(articles) // 2]
    slug = parse_page(page_file.read_text("utf-8"), page_file).front["slug"]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page()
        # when the reloaded document holding the new text was parsed, by the page's own clock
        # (Playwright notices a bit later: it re-attaches to the new document after a reload)
        page.add_init_script("document.addEventListener('DOMContentLoaded', () => "
                             "{ window.__parsedAt = performance.timeOrigin + performance.now(); });")
        page.goto(f"{base}/articles/{slug}/")
        page.wait_for_timeout(1000)

        def measure(change, condition: str) -> tuple[float, float]:
            written_at, started = time.time(), time.perf_counter()
            change()
            page.wait_for_function(condition, timeout=600000)
            observed = time.perf_counter() - started
            parsed_at = page.evaluate("window.__parsedAt") / 1000
            page.wait_for_timeout(300)
            return parsed_at - written_at, observed

        def append(marker: str) -> None:
            page_file.write_text(page_file.read_text("utf-8").rstrip("\n") + f"\n\n{marker}。\n", "utf-8")

        def retitle(marker: str) -> None:
            text = page_file.read_text("utf-8")
            page_file.write_text(re.sub(r"^title: (.*)$", lambda m: f"title: {marker}{m.group(1)}", text, count=1,
                                        flags=re.M), "utf-8")

        body, title = [], []
        for n in range(args.edits):
            marker = f"第{n}次编辑验证句"
            body.append(measure(partial(append, marker), f"document.body && document.body.innerText.includes('{marker}')"))
            print(f"body edit {n}: dom {body[-1][0] * 1000:.0f} ms, "
                  f"seen by Playwright {body[-1][1] * 1000:.0f} ms", flush=True)
        for n in range(args.title_edits):
            marker = f"改{n}"
            heading = "document.querySelector('h1')"
            title.append(measure(partial(retitle, marker), f"{heading} && {heading}.innerText.startsWith('{marker}')"))
            print(f"title edit {n}: dom {title[-1][0] * 1000:.0f} ms, "
                  f"seen by Playwright {title[-1][1] * 1000:.0f} ms", flush=True)
        template = work / "templates" / "article.html"
        template_ms = measure(lambda: template.write_text(template.read_text("utf-8").replace(
            "<article class=\"article\"", "<article data-bench=\"1\" class=\"article\"", 1), "utf-8"),
            "document.querySelector('[data-bench]') !== null")
        browser.close()
    server.terminate()
    server.wait(timeout=30)

    def stats(pairs: list[tuple[float, float]], which: int) -> tuple[float, float]:
        ms = sorted(p[which] * 1000 for p in pairs)
        return statistics.median(ms), ms[min(len(ms) - 1, int(round(0.95 * (len(ms) - 1))))]

    dom, seen = stats(body, 0), stats(body, 1)
    title_dom = stats(title, 0) if title else (float("nan"), float("nan"))
    print(f"bench: items={args.items} edits={len(body)} median_ms={dom[0]:.0f} p95_ms={dom[1]:.0f} "
          f"playwright_median_ms={seen[0]:.0f} playwright_p95_ms={seen[1]:.0f} "
          f"title_median_ms={title_dom[0]:.0f} title_p95_ms={title_dom[1]:.0f} "
          f"template_ms={template_ms[0] * 1000:.0f}")
    print("server log (last lines):", *log_tail(work / "serve.log"), sep="\n  ")
    shutil.rmtree(work, ignore_errors=True)
    return 0


def log_tail(path: Path, lines: int = 8) -> list[str]:
    """The last lines of the server's log."""
    return path.read_text("utf-8", errors="replace").splitlines()[-lines:]


if __name__ == "__main__":
    sys.exit(main())
