"""Remove pinyin readings scraped after characters: ``國(guó)`` → ``國``.

A reading is a parenthesised lower-case pinyin syllable with a tone mark (or a neutral-tone
syllable) directly after a Han character; Latin words in brackets such as ``(China)`` or
``(6G)`` are left alone.

Some scrapes lost the character itself and left a Latin letter before its reading
(``發F(xiàn)``). The character is restored from its reading: among the characters read that
way (pypinyin's table), the one forming the most frequent words with its neighbours
(jieba's dictionary) wins — ``發F(xiàn)`` → ``發现``."""

import re
from functools import lru_cache

from sitegen.ingest.cleaned import Cleaned
from sitegen.text import HAN

_TONED = "āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜ"
_SYLLABLE = f"[a-zü{_TONED}]{{1,6}}"
_NEUTRAL = {"de", "le", "me", "ne", "ma", "ba", "zi", "men", "zhe", "guo", "la", "ya", "a", "ge", "li", "tou", "shang",
            "xia", "ke"}
_ANNOTATION = re.compile(rf"(?<=[{HAN}])[(（]\s?({_SYLLABLE})\s?[)）]")
_LOST_CHARACTER = re.compile(rf"(?<=[{HAN}])[A-Za-z][(（]\s?({_SYLLABLE})\s?[)）]")


@lru_cache(maxsize=1)
def _readings() -> dict[str, list[str]]:
    from pypinyin.pinyin_dict import pinyin_dict

    table: dict[str, list[str]] = {}
    for code, readings in pinyin_dict.items():
        for reading in readings.split(","):
            table.setdefault(reading, []).append(chr(code))
    return table


@lru_cache(maxsize=1)
def _word_frequencies() -> dict[str, int]:
    import logging

    import jieba

    jieba.setLogLevel(logging.WARNING)
    jieba.dt.check_initialized()
    frequencies: dict[str, int] = jieba.dt.FREQ
    return frequencies


def _restore(reading: str, before: str, after: str) -> str:
    import opencc

    to_simplified = opencc.OpenCC("t2s").convert
    before, after = to_simplified(before), to_simplified(after)
    freq = _word_frequencies()
    candidates = [c for c in _readings().get(reading, []) if "\u4e00" <= c <= "\u9fff"]
    if not candidates:
        return ""

    def score(char: str) -> tuple[int, int]:
        return (freq.get(before + char, 0) + freq.get(char + after, 0), freq.get(char, 0))

    return max(sorted(candidates), key=score)


def _is_reading(syllable: str) -> bool:
    return any(ch in _TONED for ch in syllable) or syllable in _NEUTRAL


def apply(doc: Cleaned) -> Cleaned:
    def drop(match: re.Match[str]) -> str:
        return "" if _is_reading(match.group(1)) else match.group(0)

    def restore(match: re.Match[str]) -> str:
        if not _is_reading(match.group(1)):
            return match.group(0)
        text, start, end = match.string, match.start(), match.end()
        after = _ANNOTATION.sub("", text[end : end + 8])[:1]
        return _restore(match.group(1), text[start - 1], after) or match.group(0)

    text = doc.text
    if _LOST_CHARACTER.search(text):
        text = _LOST_CHARACTER.sub(restore, text)
    return doc.with_text(_ANNOTATION.sub(drop, text))
