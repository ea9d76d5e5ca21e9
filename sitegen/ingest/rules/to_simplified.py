"""Convert traditional characters to simplified (OpenCC ``t2s``, phrase by phrase). A document
written in traditional script (enough of its text changes) keeps a note of it as
``original_script: traditional``; a simplified page that quotes some traditional text, or
spells a name with a traditional character, has those converted too (a reader of the site
reads simplified) but is not noted as traditional."""

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
    if converted == doc.text:
        return doc
    changed = sum(1 for a, b in zip(doc.text, converted) if a != b)
    if changed >= 3 and changed / len(han) >= 0.02:
        return doc.with_text(converted).with_meta(original_script="traditional")
    return doc.with_text(converted)
