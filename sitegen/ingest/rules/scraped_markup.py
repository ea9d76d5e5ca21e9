"""Remove markup a scraper left in the text, keeping what a reader saw: ``<script>`` and
``<style>`` elements go whole, other tags (``<img …>``, ``<a href=…>``, ``<br>``) go and their
text stays, and a Markdown link keeps its words (``[点我](javascript:…)`` → ``点我``; the
target of a link is not the article's text)."""

import re

from sitegen.ingest.cleaned import Cleaned

_INVISIBLE = re.compile(r"<(script|style|noscript|template)\b[^>]*>.*?</\1\s*>", re.I | re.S)
_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9]*(?:\s+[^<>]*?)?\s*/?>")
_LINK = re.compile(r"!?\[([^\[\]\n]*)\]\(\s*[^()\s]*(?:\([^()\s]*\)[^()\s]*)*\s*(?:\"[^\"\n]*\")?\s*\)")


def apply(doc: Cleaned) -> Cleaned:
    if "<" not in doc.text and "](" not in doc.text:
        return doc
    text = _INVISIBLE.sub("", doc.text)
    text = _TAG.sub("", text)
    text = _LINK.sub(lambda m: m.group(1), text)
    return doc.with_text(text)
