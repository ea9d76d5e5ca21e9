"""Chinese word segmentation for Pagefind's indexer, in agreement with the browser.

Pagefind's browser code splits a Chinese query with ``Intl.Segmenter`` (ICU) when the page's
``<html lang>`` is ``zh``. Its indexer splits text on whitespace only. So the indexer is given
a *copy* of each searchable page in which every run of Chinese text is split into ICU words
separated by spaces; the published HTML is never touched. Query and index then agree word
for word. The copy holds only what Pagefind reads from our pages (the ``<html>`` tag and the
``data-pagefind-body`` element, without the elements it is told to ignore): a third of the
bytes to segment, write and parse, and the same index byte for byte. What Pagefind ignores
changing (an entity page's list of articles) leaves the copy as it was, so the page's shard
is not indexed again.

A query is segmented *alone*, and ICU splits a few characters alone differently from the same
characters in their sentence: 强富 alone is 强|富, but 强富美高 is 强|富美|高, so Pagefind (which
matches whole words in a phrase) found nothing. Where jieba, a second segmenter, sees a word
boundary inside an ICU word, the copy writes that word with ``:`` at the boundary (富:美).
Pagefind indexes such a word whole (富美) *and* each part (富, 美) at the same position (its
compound-word rule), so 强富 matches as a phrase too. jieba's boundaries, not every character,
so that 指美 does not match 指出美国 (a part of 指出 followed by a part of 美国). The search
page removes the ``:`` from excerpts; a real ASCII colon touching Chinese text gets spaces in
the copy, so it is never mistaken for one.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache
from itertools import accumulate
from typing import Any

from sitegen.text import HAN

_TAG_SPLIT = re.compile(r"(<[^>]*>)")
_CJK_RUN = re.compile(f"[{HAN}0-9A-Za-z]*[{HAN}][{HAN}0-9A-Za-z]*")
_RAW_TEXT_OPEN = re.compile(r"<(script|style|template)\b", re.I)
_HAN_WORD = re.compile(f"[{HAN}]+")
_CJK_PUNCT = re.compile("[\u3000-\u303f\uff01-\uff0f\uff1a-\uff20\uff3b-\uff40\uff5b-\uff65“”‘’…—·]+")
_COLON_BY_HAN = re.compile(f"(?<=[{HAN}]):|:(?=[{HAN}])")
_PART_JOINER = ":"
_BODY_OPEN = re.compile(r"<([A-Za-z][\w-]*)\b[^>]*\sdata-pagefind-body\b[^>]*>")
_HTML_OPEN = re.compile(r"<html\b[^>]*>", re.I)
_IGNORED_OPEN = re.compile(r"<([A-Za-z][\w-]*)\b[^>]*?\sdata-pagefind-ignore(?:=(?:\"[^\"]*\"|'[^']*'|[^\s>]*))?"
                           r"(?=[\s/>])[^>]*>")
_VOID = frozenset("area base br col embed hr img input link meta source track wbr".split())


@lru_cache(maxsize=1)
def _word_breaker() -> Any:
    """One ICU word breaker per process (``setText`` resets it for each run)."""
    import icu

    return icu.BreakIterator.createWordInstance(icu.Locale("zh_CN"))


def _jieba_boundaries(run: str) -> set[int]:
    """The offsets in ``run`` where jieba ends a word."""
    import rjieba

    return set(accumulate(map(len, rjieba.cut(run))))


@lru_cache(maxsize=200_000)
def _prefix_ends(word: str) -> frozenset[int]:
    """Where the words of jieba's dictionary that begin ``word`` end (安徽省: 2, after 安徽)."""
    import rjieba

    return frozenset(len(sub) for sub in rjieba.cut_for_search(word) if len(sub) < len(word) and word.startswith(sub))


def segment_run(run: str) -> list[str]:
    """The ICU words of one run of Chinese text, each Chinese word of several characters
    with ``:`` where jieba ends a word inside it, in the sentence or in its dictionary
    (``["强", "富:美", "高"]``, ``["安徽:省"]``)."""
    breaker = _word_breaker()
    breaker.setText(run)
    boundaries = _jieba_boundaries(run)
    words = []
    start = 0
    for end in breaker:
        word = run[start:end]
        if end - start > 1 and _HAN_WORD.fullmatch(word):
            in_dictionary = _prefix_ends(word) if end - start > 2 else frozenset()
            cuts = [at - start for at in range(start + 1, end) if at in boundaries or at - start in in_dictionary]
            if cuts:
                word = _PART_JOINER.join(word[a:b] for a, b in zip([0, *cuts], [*cuts, len(word)]))
            words.append(word)
        elif word.strip():
            words.append(word)
        start = end
    return words


def segment(text: str) -> str:
    """Put spaces between the words of each Chinese run in ``text`` (see :func:`segment_run`)
    and around Chinese punctuation and an ASCII colon touching Chinese text."""
    spaced = _CJK_RUN.sub(lambda m: " ".join(segment_run(m.group(0))), _COLON_BY_HAN.sub(" : ", text))
    return _CJK_PUNCT.sub(lambda m: f" {m.group(0)} ", spaced)


def segment_html(html: str, expand: Callable[[str], str] | None = None) -> str:
    """Segment the text nodes of an HTML document (not tags, attributes, scripts, styles),
    each first passed through ``expand`` when given (see :mod:`sitegen.search.aliases`)."""
    parts = _TAG_SPLIT.split(html)
    raw_until: str | None = None
    out = []
    for part in parts:
        if part.startswith("<"):
            if raw_until and part.lower().startswith(f"</{raw_until}"):
                raw_until = None
            elif raw_until is None and (m := _RAW_TEXT_OPEN.match(part)) and not part.endswith("/>"):
                raw_until = m.group(1).lower()
            out.append(part)
        elif raw_until is None:
            out.append(segment(expand(part) if expand is not None else part))
        else:
            out.append(part)
    return "".join(out)


def index_copy(html: str) -> str:
    """The part of a page Pagefind reads: its ``<html>`` start tag (the language) and its
    ``data-pagefind-body`` element. A page with Pagefind attributes outside that element
    (or with no single closed body element) is kept whole."""
    body = _BODY_OPEN.search(html)
    html_tag = _HTML_OPEN.search(html)
    if body is None or html_tag is None:
        return html
    end = _element_end(html, body.group(1), body.start())
    if end is None:
        return html
    element = html[body.start():end]
    if element.count("data-pagefind-") != html.count("data-pagefind-"):
        return html
    return f"<!doctype html>\n{html_tag.group(0)}<body>{_without_ignored(element)}</body></html>\n"


def _without_ignored(html: str) -> str:
    """``html`` without the elements marked ``data-pagefind-ignore`` that hold no other Pagefind
    attribute (a filter, a sort or metadata inside an ignored element is still read)."""
    out: list[str] = []
    position = 0
    for start in _IGNORED_OPEN.finditer(html):
        if start.start() < position:
            continue  # inside an element already left out
        name = start.group(1).lower()
        end = start.end() if name in _VOID or start.group(0).endswith("/>") else _element_end(html, name, start.start())
        if end is None or html.count("data-pagefind-", start.start(), end) != 1:
            continue
        out.append(html[position:start.start()])
        position = end
    out.append(html[position:])
    return "".join(out)


def _element_end(html: str, name: str, start: int) -> int | None:
    """Where the element ``name`` that opens at ``start`` ends (after its end tag); None when
    it is not closed."""
    depth = 0
    for tag in re.compile(rf"<(/?){re.escape(name)}(?=[\s/>])[^>]*>", re.I).finditer(html, start):
        depth += -1 if tag.group(1) else 1
        if depth == 0:
            return tag.end()
    return None


