"""Drop breadcrumb trails (``首页 > 最新动态 > …``, ``当前位置：…``, ``您的位置：…``); their
segments are kept in meta so repeated section and page titles can be recognised later, and
the last segment is the document's own title."""

import re

from sitegen.ingest.cleaned import Cleaned

_LEAD = re.compile(r"^(当前位置|您的位置|您现在的位置|你的位置|所在位置|位置)\s*[:：]\s*")
_SEPARATORS = re.compile(r"\s*(?:>>|>|»|›|＞|→|/)\s*")


def _segments(line: str) -> list[str] | None:
    lead = _LEAD.match(line)
    body = line[lead.end():] if lead else line
    parts = [p.strip() for p in _SEPARATORS.split(body) if p.strip()]
    if lead and parts:
        return parts
    if len(parts) >= 2 and parts[0] in {"首页", "网站首页", "主页", "首 页", "Home", "home"}:
        return parts
    return None


def apply(doc: Cleaned) -> Cleaned:
    kept: list[str] = []
    found: list[str] = []
    for line in doc.lines():
        parts = _segments(line) if len(line) <= 120 else None
        if parts:
            found.extend(parts)
            continue
        kept.append(line)
    if not found:
        return doc
    title = found[-1] if len(found) >= 2 else None
    return doc.with_text("\n".join(kept)).with_meta(breadcrumb=found, document_title=title)
