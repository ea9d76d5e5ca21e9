"""Restore full-width punctuation in Chinese text: an ASCII ``, ; : ? !`` or a bracket pair
next to a Han character becomes ``， ； ： ？ ！ （ ）``. Numbers (``1,000``, ``19:04``),
Latin text and URLs keep their ASCII punctuation."""

import re

from sitegen.ingest.cleaned import Cleaned
from sitegen.text import HAN

_CJK = f"[{HAN}“”‘’《》）（、。]"
_MAP = {",": "，", ";": "；", ":": "：", "?": "？", "!": "！"}
_BEFORE = re.compile(rf"(?<={_CJK})[ \t]*([,;:?!])(?!//)[ \t]*")
_AFTER = re.compile(rf"(?<![\d:/])[ \t]*([,;:?!])[ \t]*(?={_CJK})")
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


def _once(text: str) -> str:
    text = _PAREN.sub(_paren, text)
    text = _BEFORE.sub(lambda m: _MAP[m.group(1)], text)
    return _AFTER.sub(lambda m: _MAP[m.group(1)], text)


def apply(doc: Cleaned) -> Cleaned:
    # one conversion can put a full-width mark next to an ASCII one ("(:)" → "（:）"), so
    # repeat until nothing changes: the rule must be idempotent
    text = doc.text
    for _ in range(4):
        converted = _once(text)
        if converted == text:
            break
        text = converted
    return doc.with_text(text)
