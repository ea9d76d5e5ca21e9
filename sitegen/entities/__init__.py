"""Named entities (people, organisations, places) in Chinese news text.

:func:`extract` returns ``(kind, surface)`` pairs, kind in ``PER``/``ORG``/``LOC`` and the
surface exactly as written. :class:`EntityCatalog` turns surfaces into canonical names using
the alias table (工信部 → 工业和信息化部) from the built-in data file and the site's own
``content/_data/entities.yaml``.

This first version runs jieba's part-of-speech tagger with a user dictionary of known names,
plus rules for the shapes news text uses: a role word before a name (副部长张云明), a name
before a role (冉承其主任), and organisation names built from a place or proper noun and an
organisation suffix (…办公室, …管理局, …有限公司).
"""

from __future__ import annotations

from sitegen.entities.catalog import KIND_LABELS, KINDS, EntityCatalog, EntityData, load_entity_data
from sitegen.entities.extract import Extractor

__all__ = ["KINDS", "KIND_LABELS", "EntityCatalog", "EntityData", "Extractor", "extract", "load_entity_data"]

_default: Extractor | None = None


def extract(text: str) -> list[tuple[str, str]]:
    """``(kind, surface)`` pairs found in ``text`` with the built-in data (PER/ORG/LOC)."""
    global _default
    if _default is None:
        _default = Extractor(load_entity_data(None))
    return _default.extract(text)
