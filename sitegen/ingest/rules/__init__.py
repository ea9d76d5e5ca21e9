"""Cleaning rules, one per module, in the order they run.

Order matters: repairs of the script (pinyin, traditional characters) come first so that the
boilerplate detectors see normal simplified text; the tail cut comes before anything reads
dates; punctuation is restored last so detectors can match ASCII and full-width forms alike.
"""

from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType

from sitegen.ingest.cleaned import Cleaned
from sitegen.ingest.rules import (
    breadcrumb,
    collapse_blank_lines,
    dangling_intro,
    dated_links,
    footer_credits,
    fullwidth_punctuation,
    html_comments,
    html_entities,
    image_placeholders,
    keywords_line,
    link_markers,
    metadata_line,
    nav_menus,
    normalize_whitespace,
    pinyin_annotations,
    related_tail,
    repeated_header,
    scraped_markup,
    site_footer,
    text_columns,
    to_simplified,
    widgets,
)


@dataclass(frozen=True)
class Rule:
    """One named cleaning step."""

    name: str
    func: Callable[[Cleaned], Cleaned]
    doc: str


def _rules(modules: list[ModuleType]) -> list[Rule]:
    return [Rule(m.__name__.rsplit(".", 1)[-1], m.apply, (m.__doc__ or "").strip()) for m in modules]


REPAIR_RULES: list[Rule] = _rules([
    text_columns,
    html_comments,
    scraped_markup,
    html_entities,
    normalize_whitespace,
    pinyin_annotations,
    to_simplified,
])
"""Before the article is looked for: the text's script and markup repaired."""

TIDY_RULES: list[Rule] = _rules([
    related_tail,
    dated_links,
    breadcrumb,
    metadata_line,
    repeated_header,
    image_placeholders,
    widgets,
    site_footer,
    nav_menus,
    link_markers,
    keywords_line,
    footer_credits,
    dangling_intro,
    fullwidth_punctuation,
    collapse_blank_lines,
])
"""After: what is left of page furniture inside the article, and punctuation."""
