"""Lift short credit lines (``编辑：何 宁``, ``监制：李永强``, ``责任编辑：…``, ``审核：…``,
``校对：…``, ``本文来源：… 责任编辑：…``; several on one line too) out of the body into meta."""

import re

from sitegen.ingest.cleaned import Cleaned

_ROLES = "责任编辑|责编|编辑|监制|审核|审校|校对|终审|初审|复审|摄影|记者|通讯员|作者|来源"
_CREDIT = re.compile(
    rf"(?:本文)?(?P<role>{_ROLES})\s*[:：]\s*(?P<name>[^。:：]{{0,30}}?)\s*(?=(?:本文)?(?:{_ROLES})\s*[:：]|$)"
)
_STAFF_CODE = re.compile(r"_[A-Za-z]*\d+$")  # a portal's staff number after the name (杨倩_NF4425)
_BRACKETS = re.compile(r"^[（(【\[]\s*(?P<inner>.*?)\s*[）)】\]]$")
_KEYS = {
    "责任编辑": "editor", "责编": "editor", "编辑": "editor", "监制": "supervisor", "审核": "reviewer",
    "审校": "reviewer", "校对": "proofreader", "终审": "reviewer", "初审": "reviewer", "复审": "reviewer",
    "摄影": "photographer", "记者": "author", "通讯员": "author", "作者": "author", "来源": "source",
}


def _credits(line: str) -> list[tuple[str, str]] | None:
    """The (role, name) credits ``line`` consists of, or None when it holds anything else."""
    text = line.strip()
    if bracketed := _BRACKETS.match(text):
        text = bracketed["inner"]
    found: list[tuple[str, str]] = []
    position = 0
    for match in _CREDIT.finditer(text):
        if text[position: match.start()].strip():
            return None
        found.append((match["role"], match["name"]))
        position = match.end()
    return found if found and not text[position:].strip() else None


def apply(doc: Cleaned) -> Cleaned:
    kept: list[str] = []
    state = doc
    for line in doc.lines():
        credits = _credits(line)
        if credits is None:
            kept.append(line)
            continue
        for role, raw in credits:
            name = " ".join(raw.split())
            if role not in {"来源", "作者", "记者"}:
                name = _STAFF_CODE.sub("", name.replace(" ", ""))
            if name:
                state = state.with_meta(**{_KEYS[role]: name})
    return state.with_text("\n".join(kept))
