"""Remove pinyin readings scraped after characters: ``國(guó)`` → ``國``.

A reading is a parenthesised lower-case pinyin syllable with a tone mark (or a neutral-tone
syllable) directly after a Han character; Latin words in brackets such as ``(China)`` or
``(6G)`` are left alone."""

import re

from sitegen.ingest.clean import Cleaned
from sitegen.text import HAN

_TONED = "āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜ"
_SYLLABLE = f"[a-zü{_TONED}]{{1,6}}"
_NEUTRAL = {"de", "le", "me", "ne", "ma", "ba", "zi", "men", "zhe", "guo", "la", "ya", "a", "ge", "li", "tou", "shang", "xia", "ke"}
_ANNOTATION = re.compile(rf"(?<=[{HAN}])[(（]\s?({_SYLLABLE})\s?[)）]")


def _is_reading(syllable: str) -> bool:
    return any(ch in _TONED for ch in syllable) or syllable in _NEUTRAL


def apply(doc: Cleaned) -> Cleaned:
    def drop(match: re.Match[str]) -> str:
        return "" if _is_reading(match.group(1)) else match.group(0)

    return doc.with_text(_ANNOTATION.sub(drop, doc.text))
