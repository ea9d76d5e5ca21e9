"""Normalise line ends and stray whitespace: CRLF, NBSP, ideographic and zero-width spaces,
indentation, trailing blanks, and spaces wedged into dates such as ``6 月6 日``."""

import re

from sitegen.ingest.cleaned import Cleaned

_INVISIBLE = re.compile("[\u200b\u200c\u200d\u2060\ufeff]")
_SPACES = re.compile("[ \t\u00a0\u3000\u2002\u2003\u2009]+")
_DATE_GAP = re.compile(r"(\d)\s+(?=[年月日号])|(?<=[年月])\s+(?=\d)")


def apply(doc: Cleaned) -> Cleaned:
    text = doc.text.replace("\r\n", "\n").replace("\r", "\n")
    text = _INVISIBLE.sub("", text)
    lines = []
    for line in text.split("\n"):
        line = _SPACES.sub(" ", line).strip()
        line = _DATE_GAP.sub(r"\1", line)
        lines.append(line)
    return doc.with_text("\n".join(lines))
