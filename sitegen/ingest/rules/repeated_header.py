"""Drop page chrome that repeats the page's title or sections: lines above the first paragraph
that repeat a breadcrumb segment (the section name, the page title, a part of it such as
``2025年第(6)期``), short lines that repeat an earlier line verbatim (a title printed twice),
and anywhere a line that is the known title again, bare or as ``视频简介：<title>``."""

import re

from sitegen.ingest.cleaned import Cleaned

_SUMMARY_LABEL = re.compile(r"^(视频简介|内容简介|内容提要|简介|摘要|标题)\s*[:：]\s*")

_PARAGRAPH_MIN = 60


def _norm(text: str) -> str:
    return "".join(text.split()).replace("（", "(").replace("）", ")").replace("｜", "|")


def apply(doc: Cleaned) -> Cleaned:
    crumbs = [_norm(c) for c in doc.meta.get("breadcrumb", [])]
    title = _norm(str(doc.meta.get("title", "")))
    kept: list[str] = []
    seen_short: set[str] = set()
    in_header = True
    for line in doc.lines():
        norm = _norm(line)
        if title:
            bare = _norm(_SUMMARY_LABEL.sub("", line)).rstrip("。")
            if bare and (bare == title or (bare != norm and title.startswith(bare))):
                continue
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
