"""What one ``sitegen build`` leaves for the next build into the same folder.

``serve`` keeps its :class:`~sitegen.site.session.SiteSession` in memory between updates; a
build is a new process each time. So a build records, beside its output, a digest of every
dependency key's value, of every page's template and dependency set, of every template and
static file, and of every searchable page's search-index request, with its sort values
(:class:`BuiltState`). The
next build plans the whole site again (cheap: the parsed pages are cached), and renders only
the pages whose template, dependency set or a dependency's value differs from what the
recorded build saw; the others are the previous output's files (Lektor's build state, kept
as digests rather than values).

The state is only trusted by the build that wrote it: its ``code`` is the digest of sitegen
itself, and the caller checks that the output folder is exactly as that build left it.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from pathlib import Path

from sitegen.files import atomic_write
from sitegen.search import IndexedPage
from sitegen.site import keys
from sitegen.site.group import Grouping
from sitegen.site.keys import ALL_CONTENT, Key

__all__ = ["BuiltState", "digest", "key_digests", "page_digest"]

_FORMAT = 3


def digest(value: object) -> str:
    """A short digest of a value made of tuples, strings, numbers and dates (its ``repr``)."""
    return hashlib.blake2b(repr(value).encode("utf-8"), digest_size=12).hexdigest()


def key_digests(grouping: Grouping, derived: Mapping[Key, object]) -> dict[str, str]:
    """The digest of every dependency key's value: the derived values, each content file's
    article (its body and every field) and :data:`~sitegen.site.keys.ALL_CONTENT` (which
    articles exist, with their cards)."""
    found = {str(key): digest(value) for key, value in derived.items()}
    for path, article in grouping.articles.items():
        found[keys.content(path)] = digest(article)
    found[ALL_CONTENT] = digest(sorted((path, found[keys.card(path)]) for path in grouping.articles))
    return found


def page_digest(template: str | None, deps: Iterable[Key]) -> str:
    """The digest of what a page is made from, beyond the values of its dependencies."""
    return digest((template, sorted(deps)))


@dataclass(frozen=True)
class BuiltState:
    """The digests a build made its output from (see the module docs)."""

    code: str  # sitegen itself
    inputs: str  # the settings, the entity data and the build options
    static: dict[str, str]  # static output path -> digest of its bytes
    templates: dict[str, str]  # template name -> digest of its text
    values: dict[str, str]  # dependency key -> digest of its value
    pages: dict[str, str]  # output path -> digest of the page's template and dependency set
    searched: dict[str, IndexedPage]  # output path of each searchable page -> what its index entry is made of

    def save(self, path: Path) -> None:
        """Write the state to ``path`` (atomically)."""
        # not dataclasses.asdict: it copies every value recursively (2 s for 20,000 pages)
        plain = {field.name: getattr(self, field.name) for field in fields(self) if field.name != "searched"}
        searched = {relpath: [page.digest, page.language, page.sort_values] for relpath, page in self.searched.items()}
        atomic_write(path, json.dumps({"format": _FORMAT, **plain, "searched": searched}, sort_keys=True).encode("utf-8"))

    @classmethod
    def load(cls, path: Path) -> BuiltState | None:
        """The state saved at ``path``; None when there is none or it cannot be read."""
        try:
            data = json.loads(path.read_text("utf-8"))
            if data.pop("format") != _FORMAT:
                return None
            data["searched"] = {relpath: IndexedPage(digest, language, tuple((name, value) for name, value in sorts))
                                for relpath, (digest, language, sorts) in data["searched"].items()}
            return cls(**data)
        except (OSError, ValueError, TypeError, KeyError, AttributeError):
            return None

    @staticmethod
    def remove(path: Path) -> None:
        """Forget the state at ``path`` (before the output it describes is replaced)."""
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
