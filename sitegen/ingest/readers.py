"""Discover raw documents and read them: decode bytes (detecting the encoding) and parse each
input format into :class:`RawDocument` records. Nothing here cleans text."""

from __future__ import annotations

import json
import os
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


def decode(data: bytes, path: Path) -> str:
    """Decode raw bytes: UTF-8 (with or without BOM), else the detected legacy encoding
    (GB18030/GBK, Big5, …). Binary or undecodable data raises :class:`ContentError`."""
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
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        utf8_error = exc
    from charset_normalizer import from_bytes

    best = from_bytes(data, cp_isolation=["gb18030", "big5", "utf_8", "cp1252"]).best()
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


def _read_html(path: Path, name: str, text: str) -> RawDocument:
    import trafilatura

    extracted = trafilatura.bare_extraction(
        text, include_comments=False, include_tables=True, favor_precision=True, with_metadata=True
    )
    if extracted is None:
        raise ContentError("no main text found in HTML page", path)
    data = extracted if isinstance(extracted, dict) else extracted.as_dict()
    body = data.get("text") or ""
    if not body.strip():
        raise ContentError("no main text found in HTML page", path)
    meta: dict[str, Any] = {}
    if data.get("title"):
        meta["title"] = data["title"]
    if (published := _parse_date(data.get("date"))) is not None:
        meta["published"] = published
    if data.get("url"):
        meta["source_url"] = data["url"]
    if data.get("sitename"):
        meta["source"] = data["sitename"]
    return RawDocument(path, name, body, "html", meta)


def _without_controls(doc: RawDocument) -> RawDocument:
    """The document with control characters (ESC, form feed…) removed from its text and
    metadata: no page, feed or title should hold them."""
    meta = {k: CONTROL_CHARS.sub("", v) if isinstance(v, str) else v for k, v in doc.meta.items()}
    return replace(doc, text=CONTROL_CHARS.sub("", doc.text), meta=meta)


def read_documents(raw: RawFile) -> list[RawDocument]:
    """Read one file into documents (a .jsonl file holds many)."""
    path = raw.path
    data = read_regular_file(path, MAX_BYTES)
    try:
        text = decode(data, path)
    except UnicodeDecodeError as exc:  # a UTF-16 mark over bytes that are not
        raise ContentError(f"invalid UTF-16: {exc.reason}", path) from None
    suffix = path.suffix.lower()
    if suffix == ".jsonl":
        documents = list(_read_jsonl(path, raw.name, text))
    elif suffix in {".html", ".htm", ".shtml"}:
        documents = [_read_html(path, raw.name, text)]
    elif suffix in {".md", ".markdown"}:
        documents = [RawDocument(path, raw.name, text, "md")]
    else:
        documents = [RawDocument(path, raw.name, text, "txt")]
    return [_without_controls(doc) for doc in documents]
