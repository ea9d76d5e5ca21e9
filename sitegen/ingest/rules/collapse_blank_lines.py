"""Collapse runs of blank lines into one and trim blank lines at both ends."""

import re

from sitegen.ingest.cleaned import Cleaned


def apply(doc: Cleaned) -> Cleaned:
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(line.rstrip() for line in doc.lines()))
    return doc.with_text(text.strip("\n") + "\n" if text.strip() else "")
