"""Split one cleaned document into news items.

Recognised shapes:

* **digest**: a ■ headline list followed by numbered items ①②③ (the 要闻回顾 form);
* **newsletter**: short section headings (行业要闻 / 企协动态 / 各地行) each followed by titled
  items or by untitled notes; the heading becomes the items' ``category``;
* **titled article(s)**: a short title line followed by its paragraphs;
* **compilation**: untitled paragraphs, each opening with its own date: one item each;
* **roundup**: a record (e.g. CCTV's 国内联播快讯) whose stories each start with a whole-line
  ``**bold**`` sub-headline.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from sitegen.ingest.dates import first_mention, has_date_expression
from sitegen.text import lead_sentence

CIRCLED = "①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳"
_CIRCLED_LINE = re.compile(rf"^([{CIRCLED}])\s*(.*)$")
_BULLET_LINE = re.compile(r"^[■□◆◇●▲▶►]\s*(.+)$")
_BOLD_LINE = re.compile(r"^\*\*(?P<title>[^*]{2,60})\*\*$")
_DATELINE = re.compile(r"^\*\*[^*]{2,20}\*\*\s*[（(][^）)]{1,20}[）)]\s*[：:]$|^\*\*[^*]{2,20}消息\*\*[：:]?$")
TITLE_MAX = 60
SECTION_MAX = 8


@dataclass(frozen=True)
class RawItem:
    """One news item cut out of a document, before titling and dating."""

    position: int
    title: str | None
    paragraphs: tuple[str, ...]
    category: str | None = None
    headline: str | None = None  # the ■ headline this item was matched to, in a digest

    @property
    def body(self) -> str:
        """Paragraphs joined as Markdown."""
        return "\n\n".join(self.paragraphs)


@dataclass(frozen=True)
class SplitResult:
    """The items of one document and the shape they were found in."""

    shape: str  # digest | newsletter | article | compilation
    items: tuple[RawItem, ...]
    intro: tuple[str, ...] = ()


def is_heading(line: str) -> bool:
    """A short line that is not a sentence: a candidate title or section heading."""
    stripped = line.strip()
    if not stripped or len(stripped) > TITLE_MAX:
        return False
    if stripped[-1] in "。！？；：:;.!?…，," or "。" in stripped:
        return False
    return True


def is_digest(text: str) -> bool:
    """Whether ``text`` is laid out as a digest: a ■ headline list and numbered items ①②…
    (a page built this way is split as a digest, whatever surrounds it; ①② alone are as
    often footnote marks)."""
    lines = [line.strip() for line in text.split("\n")]
    return (sum(1 for line in lines if _CIRCLED_LINE.match(line)) >= 2
            and sum(1 for line in lines if _BULLET_LINE.match(line)) >= 2)


def _split_digest(lines: list[str]) -> SplitResult | None:
    numbered = [i for i, line in enumerate(lines) if _CIRCLED_LINE.match(line)]
    if len(numbered) < 2:
        return None
    headlines = [m.group(1).strip() for line in lines if (m := _BULLET_LINE.match(line))]
    first_structure = min([numbered[0]] + [i for i, line in enumerate(lines) if _BULLET_LINE.match(line)])
    intro = tuple(line for line in lines[:first_structure] if line)
    items: list[RawItem] = []
    for n, start in enumerate(numbered):
        end = numbered[n + 1] if n + 1 < len(numbered) else len(lines)
        match = _CIRCLED_LINE.match(lines[start])
        assert match
        title = match.group(2).strip() or None
        body = [line for line in lines[start + 1 : end] if line and not _BULLET_LINE.match(line)]
        headline = headlines[n] if n < len(headlines) else None
        if title is None and headline:
            title = headline
        if title and not body:
            continue
        items.append(RawItem(len(items) + 1, title, tuple(body), headline=headline))
    return SplitResult("digest", tuple(items), intro)


def _flush_untitled(paragraphs: list[str], category: str | None, out: list[RawItem]) -> None:
    if not paragraphs:
        return
    separate = len(paragraphs) >= 2 and all(has_date_expression(lead_sentence(p)) for p in paragraphs)
    if separate:
        for paragraph in paragraphs:
            out.append(RawItem(len(out) + 1, None, (paragraph,), category))
    else:
        out.append(RawItem(len(out) + 1, None, tuple(paragraphs), category))
    paragraphs.clear()


def _split_blocks(lines: list[str]) -> SplitResult:
    blocks = [line for line in lines if line.strip()]
    newsletter = any(
        is_heading(a) and len(a) <= SECTION_MAX and is_heading(b) for a, b in zip(blocks, blocks[1:])
    )
    items: list[RawItem] = []
    category: str | None = None
    title: str | None = None
    body: list[str] = []
    untitled: list[str] = []

    def close_titled() -> None:
        nonlocal title, body
        if title is not None and body:
            items.append(RawItem(len(items) + 1, title, tuple(body), category))
        title, body = None, []

    for index, block in enumerate(blocks):
        following = blocks[index + 1] if index + 1 < len(blocks) else None
        if is_heading(block):
            if newsletter and len(block) <= SECTION_MAX and following is not None:
                close_titled()
                _flush_untitled(untitled, category, items)
                category = block
                continue
            if following is None or is_heading(following):
                # a dangling short line: keep it as text rather than lose it
                (body if title is not None else untitled).append(block)
                continue
            close_titled()
            _flush_untitled(untitled, category, items)
            title = block
            continue
        if title is not None:
            body.append(block)
        else:
            untitled.append(block)
    close_titled()
    _flush_untitled(untitled, category, items)
    if newsletter:
        shape = "newsletter"
    elif all(item.title is None for item in items) and len(items) > 1:
        shape = "compilation"
    else:
        shape = "article"
    return SplitResult(shape, tuple(items))


def split_roundup(text: str) -> SplitResult | None:
    """Items of a roundup: each whole-line ``**bold**`` sub-headline starts a story."""
    lines = [line.strip() for line in text.split("\n") if line.strip()]
    heads = [i for i, line in enumerate(lines) if _BOLD_LINE.match(line) and not _DATELINE.match(line)]
    if len(heads) < 2:
        return None
    items: list[RawItem] = []
    intro = tuple(line for line in lines[: heads[0]] if not _DATELINE.match(line))
    for n, start in enumerate(heads):
        end = heads[n + 1] if n + 1 < len(heads) else len(lines)
        body = tuple(lines[start + 1 : end])
        match = _BOLD_LINE.match(lines[start])
        assert match
        if body:
            items.append(RawItem(len(items) + 1, match["title"].strip(), body))
    return SplitResult("roundup", tuple(items), intro) if items else None


def _is_news_list(split: SplitResult) -> bool:
    """Whether titled items are separate news (a newsletter: three or more short items, most
    opening with a date or 近日/日前) rather than the sections of one article under its
    subheadings."""
    titled = [item for item in split.items if item.title]
    if len(titled) < 3:
        return False
    dated = sum(1 for item in titled if item.paragraphs and first_mention(lead_sentence(item.paragraphs[0])))
    paragraphs = sum(len(item.paragraphs) for item in titled) / len(titled)
    return dated >= 2 * len(titled) / 3 and paragraphs <= 3


def split_document(text: str, headline: str | None = None) -> SplitResult:
    """Cut cleaned ``text`` into items (see the module docstring for the shapes). A page
    with a ``headline`` (found above its body) is one article unless it is a digest or a
    newsletter of separate news; then the headline names the items' column (``category``)
    where no section heading does, or is the first item's title when that item has none."""
    lines = [line.strip() for line in text.split("\n")]
    digest = _split_digest(lines) if is_digest(text) else None
    if digest is not None:
        return digest
    blocks = _split_blocks(lines)
    if headline is None:
        if len(blocks.items) > 1 and blocks.shape in {"newsletter", "article"} and not _is_news_list(blocks):
            return _one_article(lines, None)
        return blocks
    if blocks.shape == "newsletter" and _is_news_list(blocks):
        first = blocks.items[0] if blocks.items else None
        if first is not None and first.title is None and first.category is None:
            # the line taken for the page's headline was its first item's title
            return replace(blocks, items=(replace(first, title=headline), *blocks.items[1:]))
        return replace(blocks, items=tuple(item if item.category else replace(item, category=headline)
                                           for item in blocks.items))
    return _one_article(lines, headline)


def _one_article(lines: list[str], headline: str | None) -> SplitResult:
    paragraphs = tuple(line for line in lines if line)
    if headline is None and paragraphs and is_heading(paragraphs[0]) and len(paragraphs) > 1:
        headline, paragraphs = paragraphs[0], paragraphs[1:]
    return SplitResult("article", (RawItem(1, headline, paragraphs),) if paragraphs else ())
