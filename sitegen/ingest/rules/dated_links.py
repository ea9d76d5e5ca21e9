"""Drop lists of dated links: three or more lines in a row that each give a headline and end
on a date (``普京销毁违禁食物 咱网友聊起肯德基剩饭去哪儿… 2015-08-08``) are a related-news or
archive list the page printed beside or under the article, not its text."""

import re

from sitegen.ingest.cleaned import Cleaned

_ENDS_ON_DATE = re.compile(r"^(?P<text>.{4,60}?)\s*[(（\[]?(?:(?:19|20)\d{2}\s*[-/.年]\s*)?\d{1,2}\s*[-/.月]\s*\d{1,2}\s*日?"
                           r"(?:\s+\d{1,2}:\d{2}(?::\d{2})?)?[)）\]]?$")
MIN_RUN = 3


def _is_dated_link(line: str) -> bool:
    found = _ENDS_ON_DATE.match(line.strip())
    return found is not None and "。" not in found["text"]


def apply(doc: Cleaned) -> Cleaned:
    lines = doc.lines()
    drop: set[int] = set()
    run: list[int] = []
    for index, line in enumerate([*lines, "\x00"]):  # a sentinel ends the last run
        if not line.strip():
            continue
        if _is_dated_link(line):
            run.append(index)
            continue
        if len(run) >= MIN_RUN:
            drop.update(run)
        run = []
    return doc.with_text("\n".join(line for index, line in enumerate(lines) if index not in drop)) if drop else doc
