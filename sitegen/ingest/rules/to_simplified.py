"""Convert traditional characters to simplified (OpenCC ``t2s``). A document written in
traditional script (enough of its text changes) is converted whole and keeps a note of it
as ``original_script: traditional``. A simplified page that quotes traditional text has those
sentences converted (a sentence where a tenth of the characters change); elsewhere the
characters simplified Chinese does not use (not in GB2312: 歷, 膩) are converted, and the few
variants GB2312 also holds (於, 後, 菸) only where they stand alone as a word: inside a word of
jieba's dictionary they are a name or a set phrase (乾县, 於梨华, 袷袢) that t2s would get wrong."""

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
    changed = _traditional_only(doc.text, converted)
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
    changed = _traditional_only(sentence, converted)
    han = len(HAN_RE.findall(sentence))
    if changed >= 2 and changed >= 0.1 * han:
        return converted
    if len(converted) != len(sentence):
        return sentence
    alone = _standing_alone(sentence)
    return "".join(
        b if a != b and (not _simplified_uses(a) or i in alone) else a
        for i, (a, b) in enumerate(zip(sentence, converted))
    )


# Variants simplified text writes standing alone for a reading of their own (乾 qián of 乾卦,
# 徵 zhǐ of 宫商角徵羽), never as a leftover of 干 or 征.
_OWN_READING = frozenset("乾徵")


def _standing_alone(sentence: str) -> set[int]:
    """Positions of the characters that jieba's dictionary leaves as a word of one character."""
    alone: set[int] = set()
    position = 0
    for word in _dictionary_words(sentence):
        if len(word) == 1 and word not in _OWN_READING:
            alone.add(position)
        position += len(word)
    return alone


def _dictionary_words(sentence: str) -> list[str]:
    import logging

    import jieba

    jieba.setLogLevel(logging.WARNING)
    return list(jieba.cut(sentence, HMM=False))


def _traditional_only(text: str, converted: str) -> int:
    """How many characters of ``text`` t2s changes that simplified Chinese never writes."""
    return sum(1 for a, b in zip(text, converted) if a != b and not _simplified_uses(a))


def _simplified_uses(char: str) -> bool:
    """Whether simplified Chinese writes ``char`` (it is in GB2312)."""
    try:
        char.encode("gb2312")
    except UnicodeEncodeError:
        return False
    return True
