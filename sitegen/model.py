"""The content model the build works on: typed, frozen records, built once, never mutated."""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Callable
from dataclasses import dataclass, fields
from datetime import date, timedelta
from functools import cache

from sitegen import urls


@dataclass(frozen=True, slots=True)
class EntityRef:
    """A canonical entity an article names. Made by :meth:`of`, one object for each value:
    articles name the same entities the same number of times (at 100,000 items 846,487
    references have 41,747 values; as objects of their own they took 88 MB, and those
    read back from a kept model 130 MB, each with its attribute dict)."""

    kind: str  # person | org | place
    name: str
    mentions: int = 1

    @classmethod
    def of(cls, kind: str, name: str, mentions: int = 1) -> EntityRef:
        """The reference with these values (the same object each time)."""
        value = (kind, name, mentions)
        found = _ENTITY_REFS.get(value)
        if found is None:
            # the strings interned: a reference read back from a pickle brings copies of its own
            found = _ENTITY_REFS[value] = cls(sys.intern(kind), sys.intern(name), mentions)
        return found

    def __reduce__(self) -> tuple[Callable[..., EntityRef], tuple[str, str, int]]:
        return EntityRef.of, (self.kind, self.name, self.mentions)

    @property
    def key(self) -> tuple[str, str]:
        """``(kind, name)``: one tuple for every reference to the same entity (the grouping
        keeps counts by key for every pair of entities named together)."""
        key = (self.kind, self.name)
        return _ENTITY_KEYS.setdefault(key, key)


_ENTITY_KEYS: dict[tuple[str, str], tuple[str, str]] = {}
_ENTITY_REFS: dict[tuple[str, str, int], EntityRef] = {}
_ENTITY_LINKS: dict[tuple[str, str, str], EntityLink] = {}


@dataclass(frozen=True, slots=True)
class Article:
    """One news item page, read from ``content/`` and validated."""

    # the content file, from the site's root (content/…); a str (as pathlib Paths, each with a
    # list of its parts: 42 MB more at 100,000 items)
    source_path: str
    slug: str
    title: str
    date: dt.date | None  # None: the page gives no date (then date_uncertain); such an article is in no digest
    date_uncertain: bool
    event_date: dt.date | None
    source: str | None
    source_url: str | None
    origin: str | None
    also: tuple[str, ...]
    category: str | None
    tags: tuple[str, ...]
    weight: int
    draft: bool
    body_html: str
    text: str  # plain text of the body (for summaries, entities, search)
    summary: str
    entities: tuple[EntityRef, ...]
    roles: tuple[tuple[str, str], ...] = ()  # (person, role) as written, e.g. (王凯, 河南省省长)

    @property
    def url(self) -> str:
        """Its page."""
        return urls.article_url(self.slug)

    def card(self) -> tuple[object, ...]:
        """Everything about the article but its body: what lists, digests, entity pages and
        feeds show of it, and all that grouping looks at."""
        return tuple(getattr(self, name) for name in _CARD_FIELDS)

    @property
    def week(self) -> WeekId | None:
        """The ISO week of its digest (None for an undated article)."""
        return WeekId.of(self.date) if self.date is not None else None

    @property
    def source_count(self) -> int:
        """How many sources reported this item (itself plus merged duplicates)."""
        return 1 + len(self.also)


_CARD_FIELDS = tuple(f.name for f in fields(Article) if f.name not in {"body_html", "text", "source_path"})


@dataclass(frozen=True, order=True, slots=True)
class WeekId:
    """An ISO week (Monday–Sunday)."""

    year: int
    week: int

    @classmethod
    def of(cls, day: date) -> WeekId:
        """The week of ``day`` (the same object for every day of a week)."""
        iso = day.isocalendar()
        return _week_id(iso.year, iso.week)

    @property
    def slug(self) -> str:
        return f"{self.year}-W{self.week:02d}"

    @property
    def monday(self) -> date:
        return date.fromisocalendar(self.year, self.week, 1)

    @property
    def sunday(self) -> date:
        return self.monday + timedelta(days=6)

    @property
    def url(self) -> str:
        """Its digest's page."""
        return urls.week_url(self.slug)


@cache
def _week_id(year: int, week: int) -> WeekId:
    return WeekId(year, week)


@dataclass(frozen=True, slots=True)
class Week:
    """A weekly digest: the week's top items (numbered) and the rest."""

    id: WeekId
    top: tuple[Article, ...]
    others: tuple[Article, ...]
    previous: WeekId | None
    next: WeekId | None
    top_entities: tuple[tuple[EntityLink, int], ...]

    @property
    def articles(self) -> tuple[Article, ...]:
        return self.top + self.others


@dataclass(frozen=True, order=True, slots=True)
class EntityLink:
    """What a link to an entity page needs (chips on articles, digests, related entities).
    Made by :meth:`of`, one object for each value: every entity page lists a dozen related
    entities, every digest its top ones (at 10,000 items 52,533 links, 3,808 values).
    """

    kind: str
    name: str
    slug: str

    @classmethod
    def of(cls, kind: str, name: str, slug: str) -> EntityLink:
        """The link with these values (the same object each time)."""
        value = (kind, name, slug)
        found = _ENTITY_LINKS.get(value)
        if found is None:
            found = _ENTITY_LINKS[value] = cls(kind, name, slug)
        return found

    def __reduce__(self) -> tuple[Callable[..., EntityLink], tuple[str, str, str]]:
        return EntityLink.of, (self.kind, self.name, self.slug)

    @property
    def url(self) -> str:
        """The entity's page."""
        return urls.entity_url(self.kind, self.slug)


@dataclass(frozen=True, slots=True)
class Entity:
    """A canonical entity with every article naming it."""

    kind: str
    name: str
    slug: str
    aliases: tuple[str, ...]
    description: str | None
    articles: tuple[Article, ...]  # newest first
    mentions: int
    related: tuple[tuple[EntityLink, int], ...] = ()
    roles: tuple[tuple[str, date, date], ...] = ()  # (role, first seen, last seen)

    @property
    def url(self) -> str:
        """The entity's page."""
        return urls.entity_url(self.kind, self.slug)

    @property
    def link(self) -> EntityLink:
        return EntityLink.of(self.kind, self.name, self.slug)

    @property
    def first_seen(self) -> date | None:
        """The date of its oldest dated article (None when none is dated)."""
        return min((a.date for a in self.articles if a.date is not None), default=None)

    @property
    def last_seen(self) -> date | None:
        """The date of its newest dated article (None when none is dated)."""
        return max((a.date for a in self.articles if a.date is not None), default=None)

    def years(self) -> tuple[tuple[int | None, tuple[Article, ...]], ...]:
        """Its articles by year, newest year first and the undated (None) last; each year's
        newest first."""
        years: list[tuple[int | None, list[Article]]] = []
        for article in self.articles:  # newest first, the undated last
            year = article.date.year if article.date is not None else None
            if not years or years[-1][0] != year:
                years.append((year, []))
            years[-1][1].append(article)
        return tuple((year, tuple(articles)) for year, articles in years)

    def page_since(self, least: int) -> date | None:
        """The day it got its page, when a page needs ``least`` articles: the date of its
        ``least``-th oldest dated article (of its newest when fewer are dated; None when none
        is). The search index numbers pages by such a day (:data:`sitegen.search.SINCE_ATTRIBUTE`)."""
        dates = sorted(a.date for a in self.articles if a.date is not None)
        return dates[min(least, len(dates)) - 1] if dates else None
