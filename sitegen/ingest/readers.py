"""Discover raw documents and read them: decode bytes (detecting the encoding) and parse each
input format into :class:`RawDocument` records. Nothing here cleans text."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sitegen.errors import ContentError

SUPPORTED_SUFFIXES = {".txt", ".text", ".html", ".htm", ".shtml", ".jsonl", ".md", ".markdown"}
MAX_BYTES = 20 * 1024 * 1024


@dataclass(frozen=True)
class RawDocument:
    """One document as read from disk, before cleaning."""

    path: Path
    name: str  # the file name used in ``origin``
    text: str
    format: str  # txt | html | jsonl | md
    meta: dict[str, Any] = field(default_factory=dict)
    record: int | None = None  # 1-based record number inside a .jsonl file


def discover(paths: list[Path]) -> list[Path]:
    """Every supported file under ``paths`` (files or folders, recursively), sorted."""
    found: set[Path] = set()
    for path in paths:
        if path.is_dir():
            for child in path.rglob("*"):
                if child.is_file() and child.suffix.lower() in SUPPORTED_SUFFIXES and not any(
                    part.startswith(".") for part in child.relative_to(path).parts
                ):
                    found.add(child)
        elif path.is_file():
            found.add(path)
        else:
            raise ContentError("no such file or folder", path)
    return sorted(found)


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


def _read_jsonl(path: Path, text: str) -> Iterator[RawDocument]:
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
        yield RawDocument(path, path.name, record["text"], "jsonl", meta, record=number)


def _read_html(path: Path, text: str) -> RawDocument:
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
    return RawDocument(path, path.name, body, "html", meta)


def read_documents(path: Path) -> list[RawDocument]:
    """Read one file into documents (a .jsonl file holds many)."""
    size = path.stat().st_size
    if size > MAX_BYTES:
        raise ContentError(f"file too large ({size // 1024 // 1024} MB > {MAX_BYTES // 1024 // 1024} MB)", path)
    text = decode(path.read_bytes(), path)
    suffix = path.suffix.lower()
    if suffix == ".jsonl":
        return list(_read_jsonl(path, text))
    if suffix in {".html", ".htm", ".shtml"}:
        return [_read_html(path, text)]
    if suffix in {".md", ".markdown"}:
        return [RawDocument(path, path.name, text, "md")]
    return [RawDocument(path, path.name, text, "txt")]
