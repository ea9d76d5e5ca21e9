"""Discover raw documents and read them: decode bytes (detecting the encoding) and parse each
input format into :class:`RawDocument` records. Nothing here cleans text."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sitegen.errors import ContentError
from sitegen.files import read_regular_file
from sitegen.text import CONTROL_CHARS

SUPPORTED_SUFFIXES = {".txt", ".text", ".html", ".htm", ".shtml", ".jsonl", ".md", ".markdown"}
MAX_BYTES = 20 * 1024 * 1024


@dataclass(frozen=True)
class RawDocument:
    """One document as read from disk, before cleaning."""

    path: Path
    name: str  # the document's name in ``origin`` (see :func:`discover`)
    text: str
    format: str  # txt | html | jsonl | md
    meta: dict[str, Any] = field(default_factory=dict)
    record: int | None = None  # 1-based record number inside a .jsonl file


@dataclass(frozen=True)
class RawFile:
    """A file to ingest and the name its documents' origins carry."""

    path: Path
    name: str


def _origin_name(path: Path, base: Path) -> str:
    """``folder/relative/path`` of a file under ``base`` (a folder given to ingest): the
    folder's own name first, so that ``siteA/index.html`` and ``siteB/index.html`` differ."""
    folder = base.resolve().name
    relative = path.relative_to(base).as_posix()
    return f"{folder}/{relative}" if folder else relative


def discover(paths: list[Path]) -> list[RawFile]:
    """Every supported file under ``paths`` (files or folders, recursively, hidden ones
    left out), sorted by path. A file is named by its path below the folder given, with that
    folder's name first; a file given by itself, by its folder's name and its own, so it has
    the same name either way. Links to folders are followed once (no loops). What is not a
    regular file is kept: reading it says what it is."""
    found: dict[Path, str] = {}
    for path in paths:
        if path.is_dir():
            seen: set[tuple[int, int]] = set()
            for folder, folders, files in os.walk(path, followlinks=True):
                info = os.stat(folder)
                if (info.st_dev, info.st_ino) in seen:
                    folders.clear()
                    continue
                seen.add((info.st_dev, info.st_ino))
                folders[:] = sorted(d for d in folders if not d.startswith("."))
                for name in files:
                    child = Path(folder) / name
                    if not name.startswith(".") and child.suffix.lower() in SUPPORTED_SUFFIXES:
                        found.setdefault(child, _origin_name(child, path))
        elif path.exists() or path.is_symlink():
            found.setdefault(path, _origin_name(path, path.parent))
        else:
            raise ContentError("no such file or folder", path)
    return [RawFile(path, name) for path, name in sorted(found.items())]


_DECLARED = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_\-]+)|encoding\s*=\s*["']([A-Za-z0-9_\-]+)""", re.I)
_SUPERSETS = {"gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030", "gb_2312-80": "gb18030", "big5": "big5hkscs",
              "utf8": "utf-8"}


def declared_encoding(data: bytes) -> str | None:
    """The encoding a page declares in its first bytes (``<meta charset>``, an XML
    declaration), widened to its superset (GB2312/GBK are read as GB18030)."""
    found = _DECLARED.search(data[:4096])
    if found is None:
        return None
    name = (found.group(1) or found.group(2)).decode("ascii").lower()
    return _SUPERSETS.get(name, name)


def decode(data: bytes, path: Path, declared: str | None = None) -> str:
    """Decode raw bytes: a BOM, else the encoding the document declares (when the bytes
    decode with it), else UTF-8, else a Chinese legacy encoding (GB18030, Big5) that decodes
    every byte; when both do, the one charset detection finds likelier. Binary or
    undecodable data raises :class:`ContentError`."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if not data.strip():
        raise ContentError("empty file", path)
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise ContentError(f"invalid UTF-16: {exc.reason}", path) from None
    if b"\x00" in data[:8192]:
        raise ContentError("binary file (NUL bytes), not a text document", path)
    if declared:
        try:
            return data.decode(declared)
        except (UnicodeDecodeError, LookupError):
            pass  # declared wrongly: look for what fits
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        utf8_error = exc
    fitting = []
    for encoding in ("gb18030", "big5hkscs"):
        try:
            fitting.append((encoding, data.decode(encoding)))
        except UnicodeDecodeError:
            continue
    if len(fitting) == 1:
        return fitting[0][1]
    from charset_normalizer import from_bytes

    best = from_bytes(data, cp_isolation=["gb18030", "big5", "utf_8", "cp1252"]).best()
    if fitting:
        chosen = "big5hkscs" if best is not None and best.encoding in {"big5", "big5hkscs"} else "gb18030"
        return dict(fitting)[chosen]
    if best is None or best.encoding not in {"gb18030", "big5", "gbk", "gb2312"}:
        line = data[: utf8_error.start].count(b"\n") + 1
        raise ContentError(
            f"not UTF-8 and no Chinese legacy encoding fits (invalid byte at offset {utf8_error.start})",
            path,
            line,
        )
    return str(best)


def _parse_date(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str) and value.strip():
        text = value.strip().replace("/", "-").replace(".", "-")
        for fmt in ("%Y-%m-%d", "%Y%m%d", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"):
            try:
                return datetime.strptime(text[: len(datetime.now().strftime(fmt))], fmt).date()
            except ValueError:
                continue
    return None


def _read_jsonl(path: Path, name: str, text: str) -> Iterator[RawDocument]:
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ContentError(f"invalid JSON: {exc.msg}", path, number) from None
        if not isinstance(record, dict) or not isinstance(record.get("text"), str):
            raise ContentError('a record needs a "text" string', path, number)
        meta: dict[str, Any] = {}
        if isinstance(record.get("title"), str) and record["title"].strip():
            meta["title"] = record["title"].strip()
        if (published := _parse_date(record.get("date"))) is not None:
            meta["published"] = published
        for key, target in (("url", "source_url"), ("source", "source")):
            if isinstance(record.get(key), str) and record[key].strip():
                meta[target] = record[key].strip()
        yield RawDocument(path, name, record["text"], "jsonl", meta, record=number)


def html_text(html: str) -> str:
    """The visible text of a page, laid out as lines (inscriptis: blocks on lines of their
    own, table cells side by side), as a scraper that keeps every visible string saves it."""
    import inscriptis

    text = inscriptis.get_text(html)
    lines = [line.rstrip() for line in text.split("\n")]
    return re.sub(r"\n{4,}", "\n\n\n", "\n".join(lines)).strip("\n") + "\n"


def _read_html(path: Path, name: str, text: str) -> RawDocument:
    """A raw page: its visible text (read like a scraped text page: the layout model finds the
    article in it), with what its markup says outright in meta: the ``<title>``/``<h1>``/
    ``og:title`` headlines (``page_titles``), its canonical URL and site name, and a date from
    its metadata (``meta_published``: ``article:published_time``, JSON-LD…; the page's own
    stamp by its headline is preferred to it)."""
    import trafilatura
    from htmldate import find_date

    visible = html_text(text)
    if not visible.strip():
        raise ContentError("no text in HTML page", path)
    meta: dict[str, Any] = {}
    try:
        found = trafilatura.extract_metadata(text)
    except Exception:  # noqa: BLE001 - metadata is a bonus; the text is what counts
        found = None
    data = found.as_dict() if found is not None else {}
    titles = [t for t in (data.get("title"), *_headings(text)) if isinstance(t, str) and t.strip()]
    if titles:
        meta["page_titles"] = tuple(dict.fromkeys(" ".join(t.split()) for t in titles))
    if data.get("url"):
        meta["source_url"] = data["url"]
    if data.get("sitename"):
        meta["source"] = data["sitename"]
    try:
        stated = find_date(text, original_date=True, extensive_search=False, outputformat="%Y-%m-%d")
    except Exception:  # noqa: BLE001 - as above
        stated = None
    if (published := _parse_date(stated)) is not None:
        meta["meta_published"] = published
    meta["html"] = text  # where the article's element is (sitegen.ingest.container)
    return RawDocument(path, name, visible, "html", meta)


def _headings(html: str) -> list[str]:
    """The texts of a page's ``<h1>`` elements and its ``og:title``."""
    import lxml.html

    try:
        tree = lxml.html.fromstring(html)
    except Exception:  # noqa: BLE001 - unparsable markup has no headings
        return []
    found = [" ".join(h.text_content().split()) for h in tree.iter("h1")]
    found += [m.get("content", "") for m in tree.iter("meta") if m.get("property") == "og:title"]
    return [text for text in found if text]


def _without_controls(doc: RawDocument) -> RawDocument:
    """The document with control characters (ESC, form feed…) removed from its text and
    metadata: no page, feed or title should hold them."""
    meta = {k: CONTROL_CHARS.sub("", v) if isinstance(v, str) else v for k, v in doc.meta.items()}
    return replace(doc, text=CONTROL_CHARS.sub("", doc.text), meta=meta)


def read_documents(raw: RawFile) -> list[RawDocument]:
    """Read one file into documents (a .jsonl file holds many)."""
    path = raw.path
    data = read_regular_file(path, MAX_BYTES)
    suffix = path.suffix.lower()
    try:
        text = decode(data, path, declared_encoding(data) if suffix in {".html", ".htm", ".shtml"} else None)
    except UnicodeDecodeError as exc:  # a UTF-16 mark over bytes that are not
        raise ContentError(f"invalid UTF-16: {exc.reason}", path) from None
    if suffix == ".jsonl":
        documents = list(_read_jsonl(path, raw.name, text))
    elif suffix in {".html", ".htm", ".shtml"}:
        documents = [_read_html(path, raw.name, text)]
    elif suffix in {".md", ".markdown"}:
        documents = [RawDocument(path, raw.name, text, "md")]
    else:
        documents = [RawDocument(path, raw.name, text, "txt")]
    return [_without_controls(doc) for doc in documents]
