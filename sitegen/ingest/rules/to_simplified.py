"""Convert traditional characters to simplified (OpenCC ``t2s``). A document written in
traditional script (enough of its text changes) is converted whole and keeps a note of it
as ``original_script: traditional``. A simplified page that quotes traditional text has those
sentences converted (a sentence where a tenth of the characters change); elsewhere only the
characters simplified Chinese does not use (not in GB2312: 歷, 膩) are converted: a variant a
simplified text does use is usually a name (乾县, 日昇昌) that t2s would get wrong."""

import re
from functools import lru_cache
from typing import Any

from sitegen.ingest.cleaned import Cleaned
from sitegen.text import HAN_RE


@lru_cache(maxsize=1)
def _converter() -> Any:
    import opencc

    return opencc.OpenCC("t2s")


def apply(doc: Cleaned) -> Cleaned:
    han = HAN_RE.findall(doc.text)
    if not han:
        return doc
    converted = _converter().convert(doc.text)
    if converted == doc.text:
        return doc
    changed = sum(1 for a, b in zip(doc.text, converted) if a != b)
    if changed >= 3 and changed / len(han) >= 0.02:
        return doc.with_text(converted).with_meta(original_script="traditional")
    return doc.with_text("".join(_quoted(part) for part in _SENTENCE.split(doc.text)))


_SENTENCE = re.compile(r"(?<=[。！？!?\n])")


def _quoted(sentence: str) -> str:
    """``sentence`` converted when it is written in traditional script; else only its
    characters that simplified Chinese does not use."""
    converted: str = _converter().convert(sentence)
    if converted == sentence:
        return sentence
    changed = sum(1 for a, b in zip(sentence, converted) if a != b)
    han = len(HAN_RE.findall(sentence))
    if changed >= 2 and changed >= 0.1 * han:
        return converted
    if len(converted) != len(sentence):
        return sentence
    return "".join(b if a != b and not _simplified_uses(a) else a for a, b in zip(sentence, converted))


def _simplified_uses(char: str) -> bool:
    """Whether simplified Chinese writes ``char`` (it is in GB2312)."""
    try:
        char.encode("gb2312")
    except UnicodeEncodeError:
        return False
    return True
