"""Drop link markers that only made sense as buttons on the source page: ``链接»»``,
``点我访问原文链接``, ``阅读原文``, ``原文链接`` and the like."""

import re

from sitegen.ingest.cleaned import Cleaned

_MARKER_LINE = re.compile(
    r"^[【\[]?\s*(链接|详情|详细|全文|更多|点我访问原文链接|点击访问原文链接|访问原文链接|阅读原文|原文链接|查看原文|点击查看原文|点击阅读全文|阅读全文)\s*[】\]]?\s*(»|>|＞|›|》)*\s*$"
)
_TRAILING = re.compile(r"\s*(链接|详情|阅读原文)\s*(»|>|＞|›){2,}\s*$")


def apply(doc: Cleaned) -> Cleaned:
    kept = []
    for line in doc.lines():
        if _MARKER_LINE.match(line):
            continue
        kept.append(_TRAILING.sub("", line))
    return doc.with_text("\n".join(kept))
