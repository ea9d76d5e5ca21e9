"""The cleaning pipeline: an ordered list of small named rules (after markdown-it-py's Ruler).

Each rule is a pure function ``Cleaned -> Cleaned``: it may rewrite the text and may move
what it removes into ``meta`` (publication date, author, tags, …) so nothing an editor
would want is lost. Rules live one per module in :mod:`sitegen.ingest.rules` and are tested
one by one with fixture files under ``tests/fixtures/clean/<rule>/``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any


@dataclass(frozen=True)
class Cleaned:
    """Text of a raw document during cleaning, with the metadata the rules pulled out of it."""

    text: str
    meta: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))

    def with_text(self, text: str) -> "Cleaned":
        """A copy with new text."""
        return replace(self, text=text)

    def with_meta(self, **values: Any) -> "Cleaned":
        """A copy with ``values`` merged into meta (first value of a key wins; lists extend)."""
        merged = dict(self.meta)
        for key, value in values.items():
            if value in (None, "", [], ()):
                continue
            if isinstance(value, list):
                merged[key] = list(merged.get(key, [])) + [v for v in value if v not in merged.get(key, [])]
            else:
                merged.setdefault(key, value)
        return replace(self, meta=MappingProxyType(merged))

    def lines(self) -> list[str]:
        """The text's lines."""
        return self.text.split("\n")


RuleFunc = Callable[[Cleaned], Cleaned]


@dataclass(frozen=True)
class Rule:
    """One named cleaning step."""

    name: str
    func: RuleFunc
    doc: str


class Ruler:
    """An ordered, named list of rules; rules can be disabled or run alone."""

    def __init__(self, rules: Iterable[Rule]) -> None:
        self._rules = list(rules)
        names = [r.name for r in self._rules]
        if len(names) != len(set(names)):
            raise ValueError(f"duplicate rule names in {names}")
        self._disabled: set[str] = set()

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

    def disable(self, *names: str) -> "Ruler":
        """Skip the named rules from now on."""
        for name in names:
            self.get(name)
        self._disabled.update(names)
        return self

    def run(self, text: str, meta: Mapping[str, Any] | None = None) -> Cleaned:
        """Apply every enabled rule in order."""
        state = Cleaned(text, MappingProxyType(dict(meta or {})))
        for rule in self._rules:
            if rule.name not in self._disabled:
                state = rule.func(state)
        return state


def default_ruler() -> Ruler:
    """The cleaning rules ingest uses, in the order they must run."""
    from sitegen.ingest.rules import RULES

    return Ruler(RULES)


def clean_text(text: str, meta: Mapping[str, Any] | None = None) -> Cleaned:
    """Clean ``text`` with the default rules."""
    return default_ruler().run(text, meta)
