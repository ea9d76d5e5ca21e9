"""Convert traditional characters to simplified (OpenCC ``t2s``) when the document is written
in traditional script; the original script is kept as ``original_script: traditional``.

Simplified documents are left untouched: OpenCC's conversion is only applied when enough of
the text actually changes, so a stray variant character in simplified text is not "fixed"."""

from functools import lru_cache

from sitegen.ingest.cleaned import Cleaned
from sitegen.text import HAN_RE


@lru_cache(maxsize=1)
def _converter():
    import opencc

    return opencc.OpenCC("t2s")


def apply(doc: Cleaned) -> Cleaned:
    han = HAN_RE.findall(doc.text)
    if not han:
        return doc
    converted = _converter().convert(doc.text)
    changed = sum(1 for a, b in zip(doc.text, converted) if a != b)
    if changed >= 3 and changed / len(han) >= 0.02:
        return doc.with_text(converted).with_meta(original_script="traditional")
    return doc
