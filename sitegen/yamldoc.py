"""YAML as sitegen reads it: safe, bounded, and able to say on which line each key stands.

Every YAML text sitegen reads (front matter, ``sitegen.yaml``, entity data) goes through
:func:`load_mapping`. It composes the node graph first, so that before any Python value is
made it can refuse what would cost far more than its size: aliases that expand a few hundred
bytes into millions of values (a "billion laughs"), mappings with thousands of keys, keys
that are not text. Errors are :class:`~sitegen.errors.ContentError` naming the file and line.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from sitegen.errors import ContentError

try:  # the C loader is several times faster on big sites
    Loader: type = yaml.CSafeLoader
    Dumper: type = yaml.CSafeDumper
except AttributeError:  # pragma: no cover - PyYAML without libyaml
    Loader = yaml.SafeLoader
    Dumper = yaml.SafeDumper

MAX_VALUES = 50_000
"""Values a document may hold once its aliases are expanded."""
_STR_TAG = "tag:yaml.org,2002:str"


@dataclass(frozen=True)
class YamlMapping:
    """A loaded mapping and the node it came from (for line numbers)."""

    data: dict[str, Any]
    node: yaml.MappingNode | None
    first_line: int  # file line of the YAML text's first line

    def line_of(self, *keys: str) -> int | None:
        """The file line of the entry at ``keys`` (a path into nested mappings)."""
        node: yaml.Node | None = self.node
        found: int | None = None
        for key in keys:
            if not isinstance(node, yaml.MappingNode):
                return found
            for key_node, value_node in node.value:
                if isinstance(key_node, yaml.ScalarNode) and key_node.value == key:
                    found, node = key_node.start_mark.line + self.first_line, value_node
                    break
            else:
                return found
        return found


def _expanded_size(node: yaml.Node, budget: int) -> int:
    """How many values ``node`` holds with aliases expanded (stops counting past ``budget``)."""
    count = 0
    stack = [node]
    while stack:
        current = stack.pop()
        count += 1
        if count > budget:
            return count
        if isinstance(current, yaml.SequenceNode):
            stack.extend(current.value)
        elif isinstance(current, yaml.MappingNode):
            for key_node, value_node in current.value:
                stack.append(key_node)
                stack.append(value_node)
    return count


def _error_line(exc: yaml.YAMLError, first_line: int) -> int:
    mark = getattr(exc, "problem_mark", None)
    return mark.line + first_line if mark is not None else first_line


def load_mapping(text: str, path: Path | str, what: str, first_line: int = 1, max_keys: int | None = None,
                 required: bool = False) -> YamlMapping:
    """Load YAML ``text`` (read from ``path``, starting at file line ``first_line``) that must be
    a mapping with text keys; ``what`` names it in errors (``front matter``, ``setting``…).
    An empty text is an empty mapping unless ``required``."""
    if "\x00" in text:
        raise ContentError(f"NUL byte in {what}", path, first_line + text[: text.index("\x00")].count("\n"))
    loader = Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            if required:
                raise ContentError(f"{what} is empty", path, first_line)
            return YamlMapping({}, None, first_line)
        if not isinstance(node, yaml.MappingNode):
            raise ContentError(f"{what} must be a mapping of keys to values", path, first_line)
        if max_keys is not None and len(node.value) > max_keys:
            raise ContentError(f"{what} has {len(node.value):,} keys (at most {max_keys:,})", path, first_line)
        for key_node, _ in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag != _STR_TAG:
                shown = key_node.value if isinstance(key_node, yaml.ScalarNode) else "a list or mapping"
                raise ContentError(f"{what} keys must be text, not {shown!s:.40}", path,
                                   key_node.start_mark.line + first_line)
        if _expanded_size(node, MAX_VALUES) > MAX_VALUES:
            raise ContentError(f"{what} holds more than {MAX_VALUES:,} values once its YAML aliases (*name) are "
                               "expanded", path, first_line)
        data = loader.construct_document(node)
    except yaml.YAMLError as exc:
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ContentError(f"malformed YAML {what}: {problem}", path, _error_line(exc, first_line)) from None
    except (ValueError, OverflowError, TypeError) as exc:
        # a well-formed value YAML cannot turn into Python (date: 2025-13-45): find its line
        raise ContentError(f"invalid value in {what}: {exc}", path, _failing_line(text, first_line)) from None
    except RecursionError:
        raise ContentError(f"{what} is nested too deeply", path, first_line) from None
    finally:
        loader.dispose()
    return YamlMapping(data, node, first_line)


def _failing_line(text: str, first_line: int) -> int:
    """File line of the first line of ``text`` that does not load on its own."""
    for number, line in enumerate(text.splitlines(), start=first_line):
        try:
            yaml.load(line, Loader=Loader)  # noqa: S506 - safe loader
        except Exception:  # noqa: BLE001 - any failure marks the culprit
            return number
    return first_line


def entries(mapping: YamlMapping, *keys: str) -> Iterator[tuple[str, Any, int | None]]:
    """``(key, value, line)`` of the mapping found at ``keys`` inside ``mapping``."""
    value: Any = mapping.data
    for key in keys:
        value = value.get(key) if isinstance(value, dict) else None
    if not isinstance(value, dict):
        return
    for key, item in value.items():
        yield str(key), item, mapping.line_of(*keys, str(key))
