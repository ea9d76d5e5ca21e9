"""Entity data (aliases, names to add or ignore, descriptions) and canonical names."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from sitegen.errors import ContentError
from sitegen.text import content_hash

KINDS = {"PER": "person", "ORG": "org", "LOC": "place"}
"""Extractor kinds → URL kind segment."""
KIND_LABELS = {"person": "人物", "org": "机构", "place": "地点"}
_DATA_KINDS = {"person": "PER", "org": "ORG", "place": "LOC"}
_COMPANY_SUFFIX = re.compile(r"(股份有限公司|有限责任公司|有限公司|集团有限公司|集团公司|公司)$")


@dataclass(frozen=True)
class EntityData:
    """Merged built-in and site entity data."""

    aliases: dict[str, str] = field(default_factory=dict)
    add: dict[str, frozenset[str]] = field(default_factory=dict)  # PER/ORG/LOC -> names
    ignore: frozenset[str] = frozenset()
    descriptions: dict[str, str] = field(default_factory=dict)
    fingerprint: str = ""

    def kind_of_known(self, name: str) -> str | None:
        """The kind of a name listed under ``add`` (or the target of an alias)."""
        for kind, names in self.add.items():
            if name in names:
                return kind
        return None


def _read_yaml(text: str, path: str) -> dict[str, Any]:
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise ContentError(f"malformed entity data: {getattr(exc, 'problem', exc)}", path,
                           mark.line + 1 if mark else None) from None
    if not isinstance(data, dict):
        raise ContentError("entity data must be a mapping (aliases/add/ignore/descriptions)", path, 1)
    return data


def _names(value: Any, path: str, key: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ContentError(f"'{key}' must be a list of names", path)
    return [v.strip() for v in value if v.strip()]


def load_entity_data(site_file: Path | None) -> EntityData:
    """Built-in data merged with ``site_file`` (the site's entries win)."""
    builtin = resources.files("sitegen").joinpath("data/entities.yaml").read_text("utf-8")
    sources = [(builtin, "sitegen/data/entities.yaml")]
    if site_file is not None and site_file.exists():
        sources.append((site_file.read_text("utf-8"), str(site_file)))
    aliases: dict[str, str] = {}
    add: dict[str, set[str]] = {"PER": set(), "ORG": set(), "LOC": set()}
    ignore: set[str] = set()
    descriptions: dict[str, str] = {}
    for text, path in sources:
        data = _read_yaml(text, path)
        raw_aliases = data.get("aliases") or {}
        if not isinstance(raw_aliases, dict):
            raise ContentError("'aliases' must map a name to its canonical name", path)
        aliases.update({str(k).strip(): str(v).strip() for k, v in raw_aliases.items()})
        raw_add = data.get("add") or {}
        if not isinstance(raw_add, dict):
            raise ContentError("'add' must map person/org/place to lists of names", path)
        for kind, names in raw_add.items():
            if kind not in _DATA_KINDS:
                raise ContentError(f"unknown entity kind '{kind}' (use person, org or place)", path)
            add[_DATA_KINDS[kind]].update(_names(names, path, f"add.{kind}"))
        ignore.update(_names(data.get("ignore"), path, "ignore"))
        raw_desc = data.get("descriptions") or {}
        if not isinstance(raw_desc, dict):
            raise ContentError("'descriptions' must map a name to a sentence", path)
        descriptions.update({str(k): str(v) for k, v in raw_desc.items()})
    fingerprint = content_hash("\n".join(t for t, _ in sources))[:16]
    return EntityData(aliases, {k: frozenset(v) for k, v in add.items()}, frozenset(ignore), descriptions, fingerprint)


class EntityCatalog:
    """Maps surfaces to canonical names and answers what each canonical name is called."""

    def __init__(self, data: EntityData) -> None:
        self.data = data

    def canonical(self, kind: str, surface: str) -> str | None:
        """The canonical name for ``surface`` or None when it is to be ignored."""
        name = "".join(surface.split())
        name = self.data.aliases.get(name, name)
        if kind == "ORG":
            short = _COMPANY_SUFFIX.sub("", name)
            if short != name and (short in self.data.add.get("ORG", ()) or self.data.aliases.get(short)):
                name = self.data.aliases.get(short, short)
        if name in self.data.ignore or len(name) < 2:
            return None
        return name

    def aliases_of(self, name: str) -> list[str]:
        """Surface forms configured as aliases of canonical ``name``."""
        return sorted(k for k, v in self.data.aliases.items() if v == name and k != name)
