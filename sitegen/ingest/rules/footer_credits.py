"""Lift short credit lines (``编辑：何 宁``, ``监制：李永强``, ``责任编辑：…``, ``审核：…``,
``校对：…``) out of the body into meta."""

import re

from sitegen.ingest.cleaned import Cleaned

_CREDIT = re.compile(
    r"^[（(【\[]?\s*(?P<role>责任编辑|编辑|监制|审核|审校|校对|终审|初审|复审|摄影|记者|通讯员|作者|来源)\s*[:：]\s*(?P<name>[^。]{1,30}?)\s*[）)】\]]?$"
)
_KEYS = {
    "责任编辑": "editor", "编辑": "editor", "监制": "supervisor", "审核": "reviewer", "审校": "reviewer",
    "校对": "proofreader", "终审": "reviewer", "初审": "reviewer", "复审": "reviewer",
    "摄影": "photographer", "记者": "author", "通讯员": "author", "作者": "author", "来源": "source",
}


def apply(doc: Cleaned) -> Cleaned:
    kept: list[str] = []
    state = doc
    for line in doc.lines():
        match = _CREDIT.match(line)
        if match:
            name = " ".join(match["name"].split())
            if match["role"] not in {"来源", "作者", "记者"}:
                name = name.replace(" ", "")
            state = state.with_meta(**{_KEYS[match["role"]]: name})
            continue
        kept.append(line)
    return state.with_text("\n".join(kept))
