"""The article's element on a raw HTML page: the rest of its text joins the body found.

The layout model (:mod:`sitegen.ingest.layout`) reads a page as lines and finds the stretch
of body text; on a page laid out in tables, or an agenda or a list the model is unsure of,
that stretch can be a part of the article. A raw HTML page also says where its article is:
the largest element that holds (nearly) all of the body found and is not mostly links —
Readability's idea of the article's container. Its other lines, in page order under the
headline and up to a heading of related links or comments, join the body, except links,
repeats of the headline and lines the line model is sure are furniture.

Furniture is not written by the article's author, and an author writes in paragraphs: a line
the model is sure of is kept after all when it is part of the article's own units of text — a
paragraph (``<p>``), or a table cell or list item holding no block of its own. A unit broken
into lines by ``<br>`` (an agenda's times and speakers, a table's list of subjects) is kept
whole when one of its lines is; a unit that is a sentence by itself is kept when it stands
between lines the model finds likely body (short lines of dialogue in a story).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sitegen.ingest.lines import Line, is_prose
from sitegen.ingest.rules.related_tail import is_tail_heading

_CONTAINERS = ("div", "td", "article", "section", "main", "table", "tbody", "body", "center")
COVER = 0.9
"""The container holds at least this share of the body found (by characters)."""
LINK_DENSITY = 0.15
"""At most this share of the article element's text is link text (boilerpipe's and
Readability's link density): the page around an article is mostly menus and link lists."""
FURNITURE = 0.2
"""A line of the element that the line model gives less than this chance of being body text,
and that is no sentence, stays out (a print button, a share bar inside the article's element)."""
LIKELY = 0.5
"""A line of the element at least this likely body text bounds the stretch in which a paragraph
of its own is kept whatever the model's chance for it."""
_UNITS = ("p", "td", "li", "dd")
_BLOCKS = ("p", "td", "li", "dd", "div", "table", "ul", "ol")
_SENTENCE_END = re.compile(r"[。！？!?…”」』]$")
_BREAK = "\ue000"
"""Marks a ``<br>`` in an element's text (a private-use character: no page's text holds it)."""
_SPACE = re.compile(r"\s+")


def _squash(text: str) -> str:
    return _SPACE.sub("", text)


def _letters(text: str) -> str:
    """Only the letters, digits and Han characters of ``text``."""
    return "".join(ch for ch in text if ch.isalnum())


@dataclass(frozen=True)
class Container:
    """The article's element: its text and the texts of its links (squashed)."""

    text: str
    links: frozenset[str]
    units: frozenset[str] = frozenset()
    """The texts of its own units (paragraphs, cells and list items holding no block)."""
    broken_units: tuple[frozenset[str], ...] = ()
    """Those of them broken into lines by ``<br>``: the texts of their lines."""


def find_container(html: str, body: Sequence[Line]) -> Container | None:
    """The article's element on ``html``: of the elements that hold the body found, the
    largest that is not mostly links (menus, link lists and the page around the article are);
    None when there is none."""
    import lxml.html

    keys = [key for key in (_squash(line.text) for line in body) if len(key) >= 4]
    total = sum(len(key) for key in keys)
    if not keys:
        return None
    try:
        tree = lxml.html.fromstring(html)
    except Exception:  # noqa: BLE001 - unparsable markup has no container
        return None
    for bad in tree.xpath("//script|//style|//noscript"):
        bad.drop_tree()
    best: tuple[int, Any] | None = None
    for element in tree.iter(*_CONTAINERS):
        text = _squash(element.text_content())
        if len(text) < total * COVER or (best is not None and len(text) <= best[0]):
            continue
        if sum(len(key) for key in keys if key in text) < COVER * total:
            continue
        linked = sum(len(_squash(a.text_content())) for a in element.iter("a"))
        if linked <= LINK_DENSITY * len(text):
            best = (len(text), element)
    if best is None:
        return None
    element = best[1]
    links = frozenset(t for a in element.iter("a") if len(t := _squash(a.text_content())) >= 2)
    text = _squash(element.text_content())
    for br in element.iter("br"):
        br.tail = _BREAK + (br.tail or "")
    units = [unit for unit in element.iter(*_UNITS)
             if unit.tag == "p" or all(inner is unit for inner in unit.iter(*_BLOCKS))]
    return Container(text, links, frozenset(_squash(unit.text_content().replace(_BREAK, "")) for unit in units),
                     tuple(frozenset(key for key in map(_squash, unit.text_content().split(_BREAK)) if key)
                           for unit in units if next(unit.iter("br"), None) is not None))


def widen(lines: Sequence[Line], body: Sequence[Line], title: Line | None, probabilities: Sequence[float],
          container: Container) -> tuple[Line, ...]:
    """The body found, with the other lines of the article's element around it (see the module
    docs): not a line that is a link, nor the headline and what stands above it, nor anything
    from a heading of related links or comments on."""
    if not body:
        return tuple(body)
    start = title.number + 1 if title is not None else 0
    headline = _letters(title.text) if title is not None else ""
    found = {line.number for line in body}
    kept: list[Line] = []
    unsure: list[Line] = []
    for line in lines[start:]:
        key = _squash(line.text)
        if line.number in found:
            kept.append(line)
            continue
        if len(key) < 2 or key not in container.text:
            continue
        if is_tail_heading(line.text):
            if line.number > body[-1].number:
                break
            continue  # a box of related links above the article: its heading is no text of it
        if key in container.links or any(key in link for link in container.links):
            continue
        letters = _letters(line.text)
        if headline and len(letters) >= 4 and (headline in letters or letters in headline):
            continue  # the headline again (a summary box, a caption)
        if probabilities[line.number] < FURNITURE and not is_prose(line.text):
            unsure.append(line)
            continue
        kept.append(line)
    if unsure and kept:
        kept = sorted(kept + _of_kept_units(unsure, kept, probabilities, container), key=lambda line: line.number)
    return tuple(kept)


def _of_kept_units(unsure: Sequence[Line], kept: Sequence[Line], probabilities: Sequence[float],
                   container: Container) -> list[Line]:
    """The ``unsure`` lines that are the author's text after all (see the module docs): lines of
    a unit broken by ``<br>`` that holds a ``kept`` line, and sentences that are a unit by
    themselves between the kept lines the model finds likely body."""
    keys = [key for key in (_squash(line.text) for line in kept) if len(key) >= 4]
    holding = [unit for unit in container.broken_units if any(key in unit for key in keys)]
    likely = [line.number for line in kept if probabilities[line.number] >= LIKELY]
    taken = []
    for line in unsure:
        key = _squash(line.text)
        alone = (bool(likely) and likely[0] < line.number < likely[-1] and key in container.units
                 and _SENTENCE_END.search(line.text) is not None)
        if alone or any(key in unit for unit in holding):
            taken.append(line)
    return taken
