"""Lift page metadata lines into meta: ``2022-01-30 19:04:10 秘书处 1`` (date, time, author,
view counter), a date glued to a counter (``2025-06-301``), labelled lines such as
``发布时间：… 来源：… 作者：… 浏览次数：…``, and page summaries (``视频简介：…``)."""

import re
from datetime import date

from sitegen.ingest.cleaned import Cleaned

_DATE = r"(?P<y>(?:19|20)\d{2})[-/.年](?P<m>\d{1,2})[-/.月](?P<d>\d{1,2})日?"
_BARE = re.compile(
    rf"^{_DATE}(?P<counter>\d*)(?:\s+(?P<time>\d{{1,2}}:\d{{2}}(?::\d{{2}})?))?"
    r"(?:\s+(?P<author>[^\s\d][^\s]{0,15}))?(?:\s+(?P<views>\d+))?$"
)
_LABEL = re.compile(
    r"(?P<label>发布时间|发布日期|更新时间|时间|日期|来源|作者|浏览次数|阅读次数|点击数|点击量|浏览量|阅读量|编辑|责任编辑|发布人)\s*[:：]\s*"
)
_LABEL_KEYS = {
    "发布时间": "published", "发布日期": "published", "更新时间": "published", "时间": "published", "日期": "published",
    "来源": "source", "作者": "author", "发布人": "author", "编辑": "editor", "责任编辑": "editor",
    "浏览次数": "views", "阅读次数": "views", "点击数": "views", "点击量": "views",
    "浏览量": "views", "阅读量": "views",
}


def _date(match: re.Match[str]) -> date | None:
    try:
        return date(int(match["y"]), int(match["m"]), int(match["d"]))
    except ValueError:
        return None


def _labelled(line: str) -> dict[str, object] | None:
    labels = list(_LABEL.finditer(line))
    if not labels or labels[0].start() > 0 or len(line) > 160:
        return None
    metadata = {"发布时间", "发布日期", "更新时间", "时间", "日期", "来源", "浏览次数", "阅读次数", "点击数"}
    if not any(m["label"] in metadata for m in labels):
        return None
    meta: dict[str, object] = {}
    for index, label in enumerate(labels):
        end = labels[index + 1].start() if index + 1 < len(labels) else len(line)
        value = line[label.end():end].strip(" |丨")
        key = _LABEL_KEYS[label["label"]]
        if not value:
            continue
        if key == "published":
            found = re.search(_DATE, value)
            if not found or not (day := _date(found)):
                return None
            meta[key] = day
        elif key == "views":
            meta[key] = value
        else:
            meta[key] = value
    return meta


_SUMMARY = re.compile(r"^(视频简介|内容简介|内容提要|文章摘要)\s*[:：]\s*(?P<value>.+)$")


def apply(doc: Cleaned) -> Cleaned:
    kept: list[str] = []
    state = doc
    for line in doc.lines():
        summary = _SUMMARY.match(line)
        if summary:
            state = state.with_meta(description=summary["value"].strip())
            continue
        bare = _BARE.match(line) if len(line) <= 60 else None
        if bare and (day := _date(bare)):
            state = state.with_meta(published=day, author=bare["author"])
            continue
        labelled = _labelled(line)
        if labelled:
            state = state.with_meta(**labelled)
            continue
        kept.append(line)
    return state.with_text("\n".join(kept))
