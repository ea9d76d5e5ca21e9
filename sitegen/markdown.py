"""Markdown → HTML with markdown-it-py. Raw HTML in pages is never passed through: scraped
text is untrusted, so ``<script>`` in a body comes out as text.

The work is bounded, not only the bytes: a few megabytes of ``- x`` lines, table rows or
``*a*`` make millions of tokens (minutes and gigabytes), so a page with more markup than
:data:`MAX_TABLE_LINES` table lines, :data:`MAX_BLOCK_TOKENS` blocks or
:data:`MAX_INLINE_MARKS` inline marks is refused as soon as that is known. Nothing is
dropped silently: content nested deeper than markdown-it follows is reported with its
line. ``data:`` links and images are refused; a remote image is loaded lazily without a
referrer, and reported (the reader's browser fetches it from another site).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache

from markdown_it import MarkdownIt
from markdown_it.rules_block import StateBlock
from markdown_it.rules_core import StateCore
from markdown_it.token import Token

MAX_NESTING = 64
"""Levels of blocks markdown-it follows (a list level takes two): 60 quotes, 30 lists."""
MAX_BLOCK_TOKENS = 200_000
MAX_INLINE_MARKS = 300_000
MAX_TABLE_LINES = 20_000
"""Lines holding a ``|`` (a table is parsed in one step, so it is bounded before parsing)."""
_INLINE_MARKS = re.compile(r"[*_\[\]!`<&\\~]")
_UNSAFE_LINK = re.compile(r"^\s*(javascript|vbscript|file|data):", re.I)
_REMOTE = re.compile(r"^\s*(https?:)?//", re.I)

Warn = Callable[[str, int], None]
"""``warn(message, body_line)``: ``body_line`` counts from 0 at the body's first line."""


class MarkupLimitError(ValueError):
    """A body holds more markup than a page may (see the module docs)."""

    def __init__(self, message: str, body_line: int) -> None:
        super().__init__(message)
        self.body_line = body_line


def _check_source(source: str) -> None:
    """Refuse, before parsing, a body whose tables alone would make millions of tokens."""
    if source.count("|") > MAX_TABLE_LINES:
        table_lines = sum(1 for line in source.splitlines() if "|" in line)
        if table_lines > MAX_TABLE_LINES:
            raise MarkupLimitError(f"too much markup to render ({table_lines:,} table lines, at most "
                                   f"{MAX_TABLE_LINES:,}): split the page", 0)


def _guard_blocks(state: StateBlock, start_line: int, end_line: int, silent: bool) -> bool:
    """A block rule that runs before the others and stops the parse once a body has made too
    many blocks (instead of after making millions)."""
    if len(state.tokens) > MAX_BLOCK_TOKENS:
        raise MarkupLimitError(f"too much markup to render (more than {MAX_BLOCK_TOKENS:,} blocks): split the page",
                               start_line)
    return False


def _check_limits(state: StateCore) -> None:
    """A core rule between block and inline parsing: refuse a body whose inline parse would
    make millions of tokens (the block tokens are counted as they stand)."""
    tokens = state.tokens
    if len(tokens) > MAX_BLOCK_TOKENS:
        where = tokens[MAX_BLOCK_TOKENS].map
        line = where[0] if where else 0
        raise MarkupLimitError(f"too much markup to render ({len(tokens):,} blocks, at most {MAX_BLOCK_TOKENS:,}): "
                               "split the page", line)
    marks = 0
    for token in tokens:
        if token.type == "inline":
            marks += len(_INLINE_MARKS.findall(token.content))
            if marks > MAX_INLINE_MARKS:
                raise MarkupLimitError(f"too much markup to render (more than {MAX_INLINE_MARKS:,} inline marks such as "
                                       "* _ [ ]): split the page", token.map[0] if token.map else 0)


@lru_cache(maxsize=1)
def markdown_parser() -> MarkdownIt:
    """The one configured parser: CommonMark + tables + strikethrough, HTML disabled."""
    parser = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False,
                                       "maxNesting": MAX_NESTING}).enable(["table", "strikethrough"])
    parser.validateLink = lambda url: not _UNSAFE_LINK.match(url)  # type: ignore[method-assign]
    parser.block.ruler.before("table", "sitegen_guard", _guard_blocks)
    parser.core.ruler.after("block", "sitegen_limits", _check_limits)
    return parser


def _plain(tokens: list[Token]) -> str:
    blocks: list[str] = []
    current: list[str] = []
    for token in tokens:
        if token.type == "inline" and token.children is not None:
            for child in token.children:
                if child.type in {"text", "code_inline"}:
                    current.append(child.content)
                elif child.type in {"softbreak", "hardbreak"}:
                    current.append("\n")
        elif token.type in {"paragraph_close", "heading_close", "list_item_close", "td_close", "th_close"}:
            if current:
                blocks.append("".join(current))
                current = []
        elif token.type in {"code_block", "fence"}:
            blocks.append(token.content)
    if current:
        blocks.append("".join(current))
    return "\n".join(block.strip() for block in blocks if block.strip())


def _review(tokens: list[Token], warn: Warn) -> None:
    """Report content nested too deeply to be shown, and remote images (made lazy and
    referrer-free)."""
    deepest = max(tokens, key=lambda t: t.level, default=None)
    if deepest is not None and deepest.level >= MAX_NESTING - 1:
        warn(f"blocks nested more than {MAX_NESTING} levels deep: the deeper part is not shown",
             deepest.map[0] if deepest.map else 0)
    for token in tokens:
        if token.type != "inline" or not token.children:
            continue
        for child in token.children:
            if child.type == "image" and _REMOTE.match(str(child.attrGet("src") or "")):
                child.attrSet("loading", "lazy")
                child.attrSet("referrerpolicy", "no-referrer")
                warn(f"remote image {str(child.attrGet('src'))[:80]}: readers' browsers load it from that site",
                     token.map[0] if token.map else 0)


def render_markdown(source: str, warn: Warn | None = None) -> tuple[str, str]:
    """``(html, plain_text)`` of a Markdown body; ``warn`` hears of what a reader will not see
    as written (see the module docs). Too much markup raises :class:`MarkupLimitError`."""
    _check_source(source)
    parser = markdown_parser()
    tokens = parser.parse(source)
    _review(tokens, warn or (lambda message, line: None))
    return parser.renderer.render(tokens, parser.options, {}), _plain(tokens)
