"""Read and write Markdown pages with YAML front matter (``---`` fenced)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from sitegen.errors import ContentError

try:  # the C loader is several times faster on big sites
    _Loader: type = yaml.CSafeLoader
    _Dumper: type = yaml.CSafeDumper
except AttributeError:  # pragma: no cover - PyYAML without libyaml
    _Loader = yaml.SafeLoader
    _Dumper = yaml.SafeDumper

FENCE = "---"


@dataclass(frozen=True)
class PageFile:
    """A page's front matter and Markdown body as found in a file."""

    front: dict[str, Any]
    body: str
    body_line: int  # 1-based line number where the body starts


def parse_page(text: str, path: Path | str) -> PageFile:
    """Split ``text`` into front matter and body; malformed YAML raises :class:`ContentError`
    naming the file and line."""
    if text.startswith("\ufeff"):
        text = text[1:]
    if not text.startswith(FENCE + "\n") and not text.startswith(FENCE + "\r\n"):
        raise ContentError("missing front matter (the page must start with a '---' line)", path, 1)
    lines = text.splitlines(keepends=True)
    end = next((i for i in range(1, len(lines)) if lines[i].rstrip("\r\n") == FENCE), None)
    if end is None:
        raise ContentError("front matter is not closed by a '---' line", path, 1)
    raw = "".join(lines[1:end])
    if "\x00" in raw:
        raise ContentError("NUL byte in front matter", path, 1)
    try:
        front = yaml.load(raw, Loader=_Loader)  # noqa: S506 - safe loader
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 2 if mark is not None else 1
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ContentError(f"malformed YAML front matter: {problem}", path, line) from None
    except (ValueError, OverflowError, TypeError) as exc:
        # a well-formed value YAML cannot turn into Python (date: 2025-13-45): find its line
        raise ContentError(f"invalid value in front matter: {exc}", path, _failing_line(lines[1:end])) from None
    if front is None:
        front = {}
    if not isinstance(front, dict):
        raise ContentError("front matter must be a mapping of keys to values", path, 2)
    return PageFile(front, "".join(lines[end + 1 :]), end + 2)


def _failing_line(lines: list[str]) -> int:
    """1-based file line of the first front matter line that does not load on its own."""
    for number, line in enumerate(lines, start=2):
        try:
            yaml.load(line, Loader=_Loader)  # noqa: S506 - safe loader
        except Exception:  # noqa: BLE001 - any failure marks the culprit
            return number
    return 1


def dump_page(front: dict[str, Any], body: str) -> str:
    """Serialise a page: keys in the given order, Unicode kept, lists in flow style."""
    parts = [FENCE]
    for key, value in front.items():
        if value is None and key not in {"source"}:
            continue
        expected = {key: list(value) if isinstance(value, tuple) else value}
        for style in (None, '"'):  # plain style when it reads back the same, else double quotes
            dumped = yaml.dump(list(value) if isinstance(value, tuple) else value, Dumper=_Dumper,
                               allow_unicode=True, default_flow_style=True, width=10**6, default_style=style)
            dumped = dumped.rstrip("\n").removesuffix("\n...").rstrip("\n")
            line = f"{key}: {dumped}"
            if "\n" not in line and yaml.load(line, Loader=_Loader) == expected:  # noqa: S506 - safe loader
                break
        parts.append(line)
    parts.append(FENCE)
    return "\n".join(parts) + "\n" + body.rstrip("\n") + "\n"
