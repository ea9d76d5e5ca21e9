"""The Pagefind full-text index, with Chinese word segmentation that agrees with the browser.

Pagefind's browser code splits a Chinese query with ``Intl.Segmenter`` (ICU) when the page's
``<html lang>`` is ``zh``. Its indexer splits text on whitespace only. So the indexer is given
a *temporary copy* of each searchable page in which every run of Chinese text is split into
ICU words separated by spaces; the published HTML is never touched. Query and index then
agree word for word. The copy holds only what Pagefind reads from our pages (the ``<html>``
tag and the ``data-pagefind-body`` element): a third of the bytes to segment, write and parse,
and the same index byte for byte.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import multiprocessing
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

from sitegen.errors import SitegenError
from sitegen.parallel import fork_workers
from sitegen.text import HAN

_TAG_SPLIT = re.compile(r"(<[^>]*>)")
_CJK_RUN = re.compile(f"[{HAN}0-9A-Za-z]*[{HAN}][{HAN}0-9A-Za-z]*")
_RAW_TEXT_OPEN = re.compile(r"<(script|style|template)\b", re.I)
_CJK_PUNCT = re.compile("[\u3000-\u303f\uff01-\uff0f\uff1a-\uff20\uff3b-\uff40\uff5b-\uff65“”‘’…—·]+")
_SIGNATURE = b"pagefind_dcd"
_BODY_OPEN = re.compile(r"<([A-Za-z][\w-]*)\b[^>]*\sdata-pagefind-body\b[^>]*>")
_HTML_OPEN = re.compile(r"<html\b[^>]*>", re.I)


class SearchIndexError(SitegenError):
    """Pagefind failed."""


@lru_cache(maxsize=1)
def _word_breaker():
    """One ICU word breaker per process (``setText`` resets it for each run)."""
    import icu

    return icu.BreakIterator.createWordInstance(icu.Locale("zh_CN"))


def segment(text: str) -> str:
    """Insert spaces between the ICU words of each Chinese run in ``text``."""

    def split_run(match: re.Match[str]) -> str:
        run = match.group(0)
        breaker = _word_breaker()
        breaker.setText(run)
        words = []
        start = 0
        for end in breaker:
            words.append(run[start:end])
            start = end
        return " ".join(w for w in words if w.strip())

    return _CJK_PUNCT.sub(lambda m: f" {m.group(0)} ", _CJK_RUN.sub(split_run, text))


def segment_html(html: str) -> str:
    """Segment the text nodes of an HTML document (not tags, attributes, scripts, styles)."""
    parts = _TAG_SPLIT.split(html)
    raw_until: str | None = None
    out = []
    for part in parts:
        if part.startswith("<"):
            if raw_until and part.lower().startswith(f"</{raw_until}"):
                raw_until = None
            elif raw_until is None and (m := _RAW_TEXT_OPEN.match(part)) and not part.endswith("/>"):
                raw_until = m.group(1).lower()
            out.append(part)
        elif raw_until is None:
            out.append(segment(part))
        else:
            out.append(part)
    return "".join(out)


def index_copy(html: str) -> str:
    """The part of a page Pagefind reads: its ``<html>`` start tag (the language) and its
    ``data-pagefind-body`` element. A page with Pagefind attributes outside that element
    (or with no single closed body element) is kept whole."""
    body = _BODY_OPEN.search(html)
    html_tag = _HTML_OPEN.search(html)
    if body is None or html_tag is None:
        return html
    name = body.group(1)
    depth = 0
    for tag in re.finditer(rf"<(/?){name}(?=[\s/>])[^>]*>", html[body.start():], re.I):
        depth += -1 if tag.group(1) else 1
        if depth == 0:
            element = html[body.start():body.start() + tag.end()]
            if element.count("data-pagefind-") != html.count("data-pagefind-"):
                return html
            return f"<!doctype html>\n{html_tag.group(0)}<body>{element}</body></html>\n"
    return html


def pagefind_executable() -> Path:
    """The Pagefind binary shipped by the ``pagefind[bin]`` package."""
    try:
        from pagefind_bin import get_executable
    except ImportError as exc:  # pragma: no cover - dependency missing
        raise SearchIndexError("the pagefind binary is not installed (pip install 'pagefind[bin]')") from exc
    return Path(get_executable())


_FORK_PAGES: list[tuple[str, bytes]] = []


def _write_share(index: int, workers: int, work: str) -> None:
    _write_segmented(_FORK_PAGES[index::workers], work)


def _write_segmented(pages: list[tuple[str, bytes]], work: str) -> None:
    """Write the ICU-segmented copy of each page under ``work``."""
    for relpath, data in pages:
        target = Path(work) / relpath
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(segment_html(index_copy(data.decode("utf-8"))), "utf-8")


def build_index(pages: Iterable[tuple[str, bytes]], bundle_dir: Path, scratch: Path | None = None) -> str:
    """Index ``(relpath, html)`` pages into ``bundle_dir`` (the site's ``pagefind/``).
    The segmented copy is written in a temporary folder inside ``scratch`` (default: the
    system's), removed at the end. Returns Pagefind's summary line."""
    with tempfile.TemporaryDirectory(prefix="sitegen-pagefind-", dir=scratch) as tmp:
        work = Path(tmp) / "site"
        pages = list(pages)
        count = len(pages)
        workers = fork_workers(count // 1000)
        if workers > 1:
            # many pages: segment them in forked workers, each writing its share of the copy
            global _FORK_PAGES
            _FORK_PAGES = pages  # inherited by the forked workers, not sent to them
            try:
                with multiprocessing.get_context("fork").Pool(workers) as pool:
                    pool.starmap(_write_share, [(i, workers, str(work)) for i in range(workers)])
            finally:
                _FORK_PAGES = []
        else:
            _write_segmented(pages, str(work))
        if count == 0:
            return "no searchable pages"
        out = Path(tmp) / "bundle"
        command = [str(pagefind_executable()), "--site", str(work), "--output-path", str(out), "--quiet"]
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            detail = (result.stderr or result.stdout).strip().splitlines()[-5:]
            raise SearchIndexError("pagefind failed: " + " / ".join(detail))
        normalise_bundle(out)
        if bundle_dir.exists():
            shutil.rmtree(bundle_dir)
        shutil.copytree(out, bundle_dir)
    return f"search index: {count} pages"


def _read_pf(path: Path):
    import cbor2

    raw = gzip.decompress(path.read_bytes())
    if not raw.startswith(_SIGNATURE):
        raise SearchIndexError(f"unexpected Pagefind file format: {path.name}")
    return cbor2.loads(raw[len(_SIGNATURE):])


def _write_pf(data, prefix: str, hash_length: int) -> tuple[str, bytes]:
    import cbor2

    raw = _SIGNATURE + cbor2.dumps(data, canonical=True)
    digest = hashlib.sha256(raw).hexdigest()[:hash_length]
    return f"{prefix}_{digest}", gzip.compress(raw, compresslevel=9, mtime=0)


def normalise_bundle(bundle: Path) -> None:
    """Make Pagefind's output byte-identical for identical input.

    Pagefind writes filter values in hash-map order, so its filter files, the metadata file
    naming them and the entry file naming that change from run to run (its maintainers call
    this known). The values are sorted here and the affected files re-hashed and renamed;
    ``pagefind.js`` only uses the hashes as file names."""
    entry_path = bundle / "pagefind-entry.json"
    entry = json.loads(entry_path.read_text("utf-8"))
    for language, info in sorted(entry["languages"].items()):
        old_meta_hash = info["hash"]
        meta_path = bundle / f"pagefind.{old_meta_hash}.pf_meta"
        meta = _read_pf(meta_path)
        renamed: dict[str, str] = {}
        for pair in meta[3]:
            name, old_hash = pair
            filter_path = bundle / "filter" / f"{old_hash}.pf_filter"
            data = _read_pf(filter_path)
            data[1] = sorted(([value, sorted(pages)] for value, pages in data[1]), key=lambda v: v[0])
            prefix, _, digest = old_hash.rpartition("_")
            new_hash, blob = _write_pf(data, prefix, len(digest))
            filter_path.unlink()
            (bundle / "filter" / f"{new_hash}.pf_filter").write_bytes(blob)
            renamed[old_hash] = new_hash
            pair[1] = new_hash
        meta[3] = sorted(meta[3], key=lambda pair: pair[0])
        prefix, _, digest = old_meta_hash.rpartition("_")
        new_meta_hash, blob = _write_pf(meta, prefix, len(digest))
        meta_path.unlink()
        (bundle / f"pagefind.{new_meta_hash}.pf_meta").write_bytes(blob)
        info["hash"] = new_meta_hash
    entry_path.write_text(json.dumps(entry, ensure_ascii=False, separators=(",", ":")), "utf-8")


def searchable_pages(site: Path) -> list[tuple[str, bytes]]:
    """``(relpath, html)`` of the pages of a built site that Pagefind should index."""
    pages = []
    for path in sorted(site.rglob("*.html")):
        relpath = path.relative_to(site).as_posix()
        if relpath.startswith("pagefind/"):
            continue
        data = path.read_bytes()
        if b"data-pagefind-body" in data:
            pages.append((relpath, data))
    return pages


def main(argv: list[str] | None = None) -> int:
    """``python -m sitegen.search SITE BUNDLE``: index a built site into BUNDLE (used by
    ``serve`` to index in a separate, low-priority process that may be killed at any moment:
    its scratch files go beside BUNDLE, in the folder serve removes)."""
    import sys

    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print("usage: python -m sitegen.search SITE_DIR BUNDLE_DIR", file=sys.stderr)
        return 2
    if hasattr(os, "nice"):
        os.nice(10)
    bundle = Path(args[1])
    print(build_index(searchable_pages(Path(args[0])), bundle, scratch=bundle.parent))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
