"""Drop page chrome repeated above the first paragraph: lines that repeat a breadcrumb segment
(the section name, the page title, a part of it such as ``2025年第(6)期``) and short lines that
repeat an earlier line verbatim (a title printed twice)."""

from sitegen.ingest.clean import Cleaned

_PARAGRAPH_MIN = 60


def _norm(text: str) -> str:
    return "".join(text.split()).replace("（", "(").replace("）", ")").replace("｜", "|")


def apply(doc: Cleaned) -> Cleaned:
    crumbs = [_norm(c) for c in doc.meta.get("breadcrumb", [])]
    kept: list[str] = []
    seen_short: set[str] = set()
    in_header = True
    for line in doc.lines():
        norm = _norm(line)
        if len(line) >= _PARAGRAPH_MIN:
            in_header = False
        if norm and len(line) < _PARAGRAPH_MIN:
            if in_header and any(norm in crumb for crumb in crumbs):
                continue
            if in_header and norm in seen_short:
                continue
            seen_short.add(norm)
        kept.append(line)
    return doc.with_text("\n".join(kept))
