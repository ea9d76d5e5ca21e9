"""Turn ``关键词: …`` / ``标签: …`` / ``Tags: …`` lines into ``tags`` metadata."""

import re

from sitegen.ingest.cleaned import Cleaned

_KEYWORDS = re.compile(r"^(关键词|关键字|标签|tags?)\s*[:：]\s*(?P<values>.*)$", re.I)
_SPLIT = re.compile(r"[\s,，、;；|/]+")


def apply(doc: Cleaned) -> Cleaned:
    kept: list[str] = []
    tags: list[str] = []
    for line in doc.lines():
        match = _KEYWORDS.match(line) if len(line) <= 120 else None
        if match:
            tags.extend(t for t in _SPLIT.split(match["values"]) if t and t not in tags)
            continue
        kept.append(line)
    return doc.with_text("\n".join(kept)).with_meta(tags=tags)
