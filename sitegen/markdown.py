"""Markdown → HTML with markdown-it-py. Raw HTML in pages is never passed through: scraped
text is untrusted, so ``<script>`` in a body comes out as text."""

from __future__ import annotations

from functools import lru_cache

from markdown_it import MarkdownIt
from markdown_it.token import Token


@lru_cache(maxsize=1)
def markdown_parser() -> MarkdownIt:
    """The one configured parser: CommonMark + tables + strikethrough, HTML disabled."""
    return MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable(
        ["table", "strikethrough"]
    )


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


def render_markdown(source: str) -> tuple[str, str]:
    """``(html, plain_text)`` of a Markdown body."""
    parser = markdown_parser()
    tokens = parser.parse(source)
    return parser.renderer.render(tokens, parser.options, {}), _plain(tokens)
