"""Small text helpers shared by ingest, entities and rendering (no I/O)."""

from __future__ import annotations

import hashlib
import re
import unicodedata

HAN = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
"""Character class body matching Han ideographs (CJK unified + ext. A + compatibility)."""

HAN_RE = re.compile(f"[{HAN}]")
CONTROL_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff]")
"""Characters no page, feed or front matter should hold: C0 and C1 controls but tab and line
ends, and the non-characters XML forbids."""


def nfkc(text: str) -> str:
    """Unicode NFKC normalisation (full-width ASCII becomes ASCII)."""
    return unicodedata.normalize("NFKC", text)


def sentences(text: str) -> list[str]:
    """Split Chinese text into sentences, keeping the end punctuation with each sentence."""
    parts = re.split(r"(?<=[。！？!?])(?![”’」』])", text)
    return [p.strip() for p in parts if p.strip()]


def lead_sentence(text: str) -> str:
    """The first sentence of ``text`` (up to and including 。！？)."""
    found = sentences(text)
    return found[0] if found else ""


def short_hash(text: str, length: int = 8) -> str:
    """A stable lowercase hex digest prefix of ``text``."""
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:length]


def content_hash(data: bytes | str) -> str:
    """Full SHA-256 hex digest of bytes or text (UTF-8)."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    return hashlib.sha256(data).hexdigest()


def summarise(text: str, max_chars: int = 110) -> str:
    """One or two lead sentences of plain text, at most ``max_chars`` characters."""
    plain = re.sub(r"\s+", " ", text).strip()
    out = ""
    for sentence in sentences(plain):
        if not out:
            out = sentence
        elif len(out) + len(sentence) <= max_chars:
            out += sentence
        else:
            break
    if len(out) > max_chars:
        cut = out[: max_chars - 1]
        comma = max(cut.rfind("，"), cut.rfind("；"), cut.rfind("、"))
        out = (cut[:comma] if comma > max_chars // 2 else cut) + "…"
    return out
