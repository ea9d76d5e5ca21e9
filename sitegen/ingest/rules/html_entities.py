"""Decode HTML character references left in scraped text (``&#xA;`` for a line break,
``&nbsp;``, ``&amp;``…), including the Markdown-escaped form ``\\&#xA;`` the CCTV records
carry. Decoded text stays text: pages are rendered with raw HTML off."""

import html
import re

from sitegen.ingest.cleaned import Cleaned

_REFERENCE = re.compile(r"\\?&(#[xX][0-9A-Fa-f]{1,6}|#[0-9]{1,7}|[A-Za-z][A-Za-z0-9]{1,31});")


def _decode(match: re.Match[str]) -> str:
    decoded = html.unescape(f"&{match.group(1)};")
    if decoded == f"&{match.group(1)};":
        return match.group(0)  # not a reference HTML knows: leave it
    return decoded.replace("\r", "").replace("\xa0", " ")


def apply(doc: Cleaned) -> Cleaned:
    if "&" not in doc.text:
        return doc
    return doc.with_text(_REFERENCE.sub(_decode, doc.text))
