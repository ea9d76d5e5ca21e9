"""The record a cleaning rule takes and returns: a document's text and the metadata the
rules lifted out of it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any


@dataclass(frozen=True)
class Cleaned:
    """Text of a raw document during cleaning, with the metadata the rules pulled out of it."""

    text: str
    meta: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))

    def with_text(self, text: str) -> Cleaned:
        """A copy with new text."""
        return replace(self, text=text)

    def with_meta(self, **values: Any) -> Cleaned:
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
