"""Named entities (people, organisations, places) in Chinese news text.

:func:`extract` returns ``(kind, surface)`` pairs, kind in ``PER``/``ORG``/``LOC`` and the
surface exactly as written; :func:`extract_many` does the same for many texts at once (much
faster per character). Both use the character tagger of :mod:`sitegen.entities.model`,
trained on CLUENER. :class:`Extractor` adds what a site knows (names from its entity data
file, roles such as 省长 before a name) and :class:`EntityCatalog` turns surfaces into
canonical names with the alias table (工信部 → 工业和信息化部).
"""

from __future__ import annotations

from sitegen.entities.catalog import KIND_LABELS, KINDS, EntityCatalog, EntityData, load_entity_data
from sitegen.entities.extract import Extractor
from sitegen.entities.model import TaggerModel, default_model

__all__ = ["KINDS", "KIND_LABELS", "EntityCatalog", "EntityData", "Extractor", "extract", "extract_many",
           "load_entity_data", "use_model"]

_model: TaggerModel | None = None
PUBLIC_KINDS = ("PER", "ORG", "LOC")


def use_model(model: TaggerModel) -> None:
    """Make :func:`extract` use ``model`` instead of the shipped one (benchmarks)."""
    global _model
    _model = model


def extract_many(texts: list[str]) -> list[list[tuple[str, str]]]:
    """``(kind, surface)`` pairs of each text, in text order: the tagger's people,
    organisations and places, plus further occurrences of a name it found in the same text.
    (The site's :class:`Extractor` adds the site's known names, roles and junk rules.)"""
    from sitegen.entities.model import chunk_text

    model = _model or default_model()
    chunks: list[tuple[int, int, str]] = []
    for index, text in enumerate(texts):
        chunks.extend((index, offset, chunk) for offset, chunk in chunk_text(text))
    spans: list[list[tuple[int, int, str]]] = [[] for _ in texts]
    for (index, offset, _), found in zip(chunks, model.tag([c for _, _, c in chunks])):
        spans[index].extend((offset + s, offset + e, k) for s, e, k in found if k in PUBLIC_KINDS)
    out = []
    for text, found in zip(texts, spans):
        taken = [False] * len(text)
        for s, e, _ in found:
            taken[s:e] = [True] * (e - s)
        extra = []
        for kind, surface in sorted({(k, text[s:e]) for s, e, k in found if e - s >= 2}):
            position = text.find(surface)
            while position != -1:
                end = position + len(surface)
                if not any(taken[position:end]):
                    extra.append((position, end, kind))
                    taken[position:end] = [True] * len(surface)
                position = text.find(surface, end)
        out.append([(k, text[s:e]) for s, e, k in sorted(found + extra)])
    return out


def extract(text: str) -> list[tuple[str, str]]:
    """``(kind, surface)`` pairs found in ``text`` (PER/ORG/LOC), in order."""
    return extract_many([text])[0]
