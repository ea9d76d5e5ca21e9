"""Entity data (aliases, names to add or ignore, descriptions) and canonical names."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from sitegen.errors import ContentError
from sitegen.files import read_text_file
from sitegen.text import CONTROL_CHARS, content_hash
from sitegen.yamldoc import YamlMapping, entries, load_mapping

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


def _text(value: Any, path: str, line: int | None, what: str) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int, float)) or not str(value).strip():
        raise ContentError(f"{what} must be a name (text), not {value!r:.40}", path, line)
    if CONTROL_CHARS.search(str(value)):
        raise ContentError(f"{what} holds a control character", path, line)
    return str(value).strip()


def _names(loaded: YamlMapping, path: str, *keys: str) -> list[str]:
    value: Any = loaded.data
    for key in keys:
        value = value.get(key) if isinstance(value, dict) else None
    line = loaded.line_of(*keys)
    if value is None:
        return []
    if not isinstance(value, list):
        raise ContentError(f"'{'.'.join(keys)}' must be a list of names", path, line)
    return [_text(v, path, line, f"an entry of '{'.'.join(keys)}'") for v in value]


def _mapping(loaded: YamlMapping, path: str, key: str, message: str) -> list[tuple[str, Any, int | None]]:
    value = loaded.data.get(key)
    if value is None:
        return []
    if not isinstance(value, dict):
        raise ContentError(message, path, loaded.line_of(key))
    return list(entries(loaded, key))


def load_entity_data(site_file: Path | None) -> EntityData:
    """Built-in data merged with ``site_file`` (the site's entries win); a wrong entry is a
    content error naming the file and line."""
    builtin = resources.files("sitegen").joinpath("data/entities.yaml").read_text("utf-8")
    sources = [(builtin, "sitegen/data/entities.yaml")]
    if site_file is not None and (site_file.exists() or site_file.is_symlink()):
        sources.append((read_text_file(site_file), str(site_file)))
    aliases: dict[str, str] = {}
    add: dict[str, set[str]] = {"PER": set(), "ORG": set(), "LOC": set()}
    ignore: set[str] = set()
    descriptions: dict[str, str] = {}
    for text, path in sources:
        loaded = load_mapping(text, path, "entity data")
        for key, _, line in entries(loaded):
            if key not in {"aliases", "add", "ignore", "descriptions"}:
                raise ContentError(f"unknown key '{key}' (use aliases, add, ignore, descriptions)", path, line)
        for name, target, line in _mapping(loaded, path, "aliases", "'aliases' must map a name to its canonical name"):
            aliases[_text(name, path, line, "an alias")] = _text(target, path, line, f"the canonical name of '{name}'")
        for kind, _, line in _mapping(loaded, path, "add", "'add' must map person/org/place to lists of names"):
            if kind not in _DATA_KINDS:
                raise ContentError(f"unknown entity kind '{kind}' (use person, org or place)", path, line)
            add[_DATA_KINDS[kind]].update(_names(loaded, path, "add", kind))
        ignore.update(_names(loaded, path, "ignore"))
        for name, sentence, line in _mapping(loaded, path, "descriptions", "'descriptions' must map a name to a sentence"):
            described = _text(name, path, line, "a described name")
            descriptions[described] = _text(sentence, path, line, f"the description of '{name}'")
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
