"""Restore full-width punctuation in Chinese text: an ASCII ``, ; : ? !`` or a bracket pair
next to a Han character becomes ``， ； ： ？ ！ （ ）``. Numbers (``1,000``, ``19:04``),
Latin text and URLs keep their ASCII punctuation."""

import re

from sitegen.ingest.clean import Cleaned
from sitegen.text import HAN

_CJK = f"[{HAN}“”‘’《》）（、。]"
_MAP = {",": "，", ";": "；", ":": "：", "?": "？", "!": "！"}
_BEFORE = re.compile(rf"(?<={_CJK})\s*([,;:?!])(?!//)\s*")
_AFTER = re.compile(rf"(?<![\d:/])\s*([,;:?!])\s*(?={_CJK})")
_PAREN = re.compile(r"\(([^()\n]{1,80})\)")
_HAN_RE = re.compile(f"[{HAN}]")


def _paren(match: re.Match[str]) -> str:
    inner = match.group(1)
    text, start, end = match.string, match.start(), match.end()
    before = text[start - 1] if start else ""
    after = text[end] if end < len(text) else ""
    if _HAN_RE.search(inner) or _HAN_RE.match(before or " ") or _HAN_RE.match(after or " "):
        return f"（{inner}）"
    return match.group(0)


def apply(doc: Cleaned) -> Cleaned:
    text = _BEFORE.sub(lambda m: _MAP[m.group(1)], doc.text)
    text = _AFTER.sub(lambda m: _MAP[m.group(1)], text)
    text = _PAREN.sub(_paren, text)
    return doc.with_text(text)
