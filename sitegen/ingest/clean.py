"""The cleaning pipeline: an ordered list of small named rules (after markdown-it-py's Ruler).

Each rule is a pure function ``Cleaned -> Cleaned``: it may rewrite the text and may move
what it removes into ``meta`` (publication date, author, tags, …) so nothing an editor
would want is lost. Rules live one per module in :mod:`sitegen.ingest.rules` and are tested
one by one with fixture files under ``tests/fixtures/clean/<rule>/``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Any

from sitegen.ingest.cleaned import Cleaned
from sitegen.ingest.rules import REPAIR_RULES, TIDY_RULES, Rule

__all__ = ["Cleaned", "Rule", "Ruler", "clean_text", "default_ruler", "repair_ruler", "tidy_ruler"]


class Ruler:
    """An ordered, named list of rules (each can be run alone: :meth:`get`)."""

    def __init__(self, rules: Iterable[Rule]) -> None:
        self._rules = list(rules)
        names = [r.name for r in self._rules]
        if len(names) != len(set(names)):
            raise ValueError(f"duplicate rule names in {names}")

    @property
    def names(self) -> list[str]:
        """Rule names in order."""
        return [r.name for r in self._rules]

    def get(self, name: str) -> Rule:
        """The rule called ``name``."""
        for rule in self._rules:
            if rule.name == name:
                return rule
        raise KeyError(name)

    def run(self, text: str, meta: Mapping[str, Any] | None = None) -> Cleaned:
        """Apply every rule in order."""
        state = Cleaned(text, MappingProxyType(dict(meta or {})))
        for rule in self._rules:
            state = rule.func(state)
        return state


def default_ruler() -> Ruler:
    """Every cleaning rule, in the order they run: the repairs, then the tidying (ingest
    finds the article between the two; see :func:`repair_ruler` and :func:`tidy_ruler`)."""
    return Ruler(REPAIR_RULES + TIDY_RULES)


def repair_ruler() -> Ruler:
    """The rules that repair a document's text before its article is looked for: markup
    left in it, whitespace, pinyin annotations, traditional characters, wrapped lines."""
    return Ruler(REPAIR_RULES)


def tidy_ruler() -> Ruler:
    """The rules that tidy an article's text once it is found: metadata lines, credits,
    widgets, link markers, punctuation."""
    return Ruler(TIDY_RULES)


def clean_text(text: str, meta: Mapping[str, Any] | None = None) -> Cleaned:
    """Clean ``text`` with the default rules."""
    return default_ruler().run(text, meta)
