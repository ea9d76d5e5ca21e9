"""Remove HTML comments and their broken halves left in scraped text
(``<!--repaste.body.begin-->``, a dangling ``<!--`` or ``-->``)."""

import re

from sitegen.ingest.cleaned import Cleaned

_COMMENT = re.compile(r"<!--.*?-->", re.S)
_DANGLING = re.compile(r"<!--[^\n]*$|^[^\n]*?-->", re.M)


def apply(doc: Cleaned) -> Cleaned:
    text = _COMMENT.sub("", doc.text)
    if "<!--" in text or "-->" in text:
        text = _DANGLING.sub("", text)
    return doc.with_text(text)
