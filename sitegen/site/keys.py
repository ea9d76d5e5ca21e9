"""The dependency keys of the site's pages: the one vocabulary of what a page can depend on.

Every output page records the keys of the inputs its bytes depend on (Lektor's dependency
recording, made explicit in :mod:`sitegen.site.plan`); after a change the keys whose value
changed say which pages to render again. Keys are made only here, interned (thousands of
pages depend on the same card or entity link: one string each, not one per page; 80 MB at
24,000 items):

- :func:`content` — a content file whose body a page shows in full;
- :func:`card` — what lists show of an article: every field but the body;
- :func:`related` — an article's list of related articles;
- :func:`entity` — an entity page's record (articles, roles, related entities…);
- :func:`entity_link` — whether an entity has a page, and its URL;
- :func:`entity_year` — what an entity's page of one year lists;
- site-wide values: :data:`WEEKS` (the list of digests), :data:`ENTITY_INDEX`,
  :data:`NEWEST` (the newest articles), :data:`LATEST_WEEK`, :data:`UNDATED` (the articles
  with no date), :data:`ALL_CONTENT` (any article appeared, vanished or changed its card).
"""

from __future__ import annotations

import sys
from typing import NewType

Key = NewType("Key", str)
EntityKey = tuple[str, str]
"""An entity: (kind, canonical name)."""

ALL_CONTENT = Key("all-content")
WEEKS = Key("weeks")
ENTITY_INDEX = Key("entity-index")
NEWEST = Key("newest")
LATEST_WEEK = Key("latest-week")
UNDATED = Key("undated")

_CARD = "card:"
_CONTENT = "content:"


def content(path: str) -> Key:
    """The key of a content file (by its source path)."""
    return Key(sys.intern(_CONTENT + path))


def content_path(key: Key) -> str | None:
    """The source path of a :func:`content` key; None for any other key."""
    return key[len(_CONTENT):] if key.startswith(_CONTENT) else None


def card(path: str) -> Key:
    """The key of what lists show of the article in a content file."""
    found = _CARDS.get(path)
    if found is None:
        found = _CARDS[path] = Key(sys.intern(f"{_CARD}{path}"))
    return found


_CARDS: dict[str, Key] = {}  # every page lists cards: 410,000 asked for at 24,000 items


def is_card(key: Key) -> bool:
    """Whether ``key`` is an article's card."""
    return key.startswith(_CARD)


def related(slug: str) -> Key:
    """The key of the related articles of the article with ``slug``."""
    return Key(sys.intern(f"related:{slug}"))


def entity(key: EntityKey) -> Key:
    """The key of an entity page's record."""
    return Key(sys.intern(f"entity:{key[0]}:{key[1]}"))


def entity_link(key: EntityKey) -> Key:
    """The key of an entity's link target (does it have a page, at which URL)."""
    found = _ENTITY_LINKS.get(key)
    if found is None:
        found = _ENTITY_LINKS[key] = Key(sys.intern(f"elink:{key[0]}:{key[1]}"))
    return found


_ENTITY_LINKS: dict[EntityKey, Key] = {}  # each article links its entities: 310,000 at 24,000 items

_ENTITY_YEAR = "eyear:"


def entity_year(key: EntityKey, year: int | None) -> Key:
    """The key of what an entity's page of ``year`` (None: its undated articles) lists."""
    return Key(sys.intern(f"{_ENTITY_YEAR}{year if year is not None else ''}:{key[0]}:{key[1]}"))


def entity_of_year(key: Key) -> EntityKey | None:
    """The entity of an :func:`entity_year` key; None for any other key."""
    if not key.startswith(_ENTITY_YEAR):
        return None
    _, kind, name = key[len(_ENTITY_YEAR):].split(":", 2)
    return kind, name
