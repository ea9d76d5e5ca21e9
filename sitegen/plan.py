"""The page plan: every output page of the site, with what it is rendered from.

Each :class:`PagePlan` names its output path, its template and a *dependency set*: the keys
of the inputs its bytes depend on (Lektor's dependency recording, made explicit). Keys are

- ``content:<path>`` for a content file whose fields the page shows (title, date, summary…);
- derived keys for values computed across files, e.g. ``related:<slug>`` (the related
  articles of an article), ``entity:<kind>:<name>`` (an entity page's record),
  ``elink:<kind>:<name>`` (whether an entity has a page, and its URL), ``weeks`` (the list
  of digests), ``entity-index``, ``newest``;
- the page's template (and every template it extends, imports or includes) is tracked by
  name, and the site configuration, entity data and hashed asset URLs affect every page.

:func:`derived_values` gives each derived key's value for a site; a rebuild compares them
with the previous build's values, and re-renders exactly the pages whose dependency set
meets a changed key (see :mod:`sitegen.build`).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, fields
from typing import Any

from sitegen.entities import KIND_LABELS
from sitegen.group import Grouping, newest_first
from sitegen.model import Article, Entity, EntityLink, Week

ALL_CONTENT = "all-content"
"""Changes whenever any content file changes (the sitemap and the digest archive list every article)."""


@dataclass(frozen=True)
class PagePlan:
    """One output file: where it goes, how it is made and what it depends on."""

    relpath: str
    template: str | None  # None: not rendered from a template (robots.txt)
    source: str  # names the input in error messages and collision reports
    deps: frozenset[str]
    context: Callable[[], dict[str, Any]]  # the template's variables, computed when rendered


def content_key(article: Article) -> str:
    """The dependency key of an article's content file."""
    return f"content:{article.source_path}"


def card_key(article: Article) -> str:
    """The key of what lists show of an article: every field but the body."""
    return f"card:{article.source_path}"


_BODY_FIELDS = {"body_markdown", "body_html", "text", "source_path"}
_CARD_FIELDS = tuple(f.name for f in fields(Article) if f.name not in _BODY_FIELDS)


def card_value(article: Article) -> tuple[object, ...]:
    """The value of an article's card key."""
    return tuple(getattr(article, name) for name in _CARD_FIELDS)


def elink_key(key: tuple[str, str]) -> str:
    """The key of an entity's link target (does it have a page, at which URL)."""
    return f"elink:{key[0]}:{key[1]}"


def entity_key(key: tuple[str, str]) -> str:
    """The key of an entity page's record (articles, roles, related entities…)."""
    return f"entity:{key[0]}:{key[1]}"


def newest_order(articles: Iterable[Article]) -> list[Article]:
    """Newest first, stable (home page, feed, sitemap)."""
    return sorted(articles, key=newest_first)


def latest_week(weeks: list[Week]) -> Week | None:
    """The newest digest whose dates are known: a week holding only items whose year had to
    be guessed (``date_uncertain``) should not lead the home page."""
    for week in reversed(weeks):
        if any(not a.date_uncertain for a in week.articles):
            return week
    return weeks[-1] if weeks else None


class DerivedValues:
    """The value of every derived dependency key, recomputed only for groups that were
    rebuilt (compared by identity); :meth:`update` returns the keys whose value changed."""

    def __init__(self) -> None:
        self.values: dict[str, Hashable] = {}
        self._seen: dict[str, object] = {}  # key -> the object its value was computed from

    def _set(self, key: str, source: object, compute: Callable[[], Hashable], changed: set[str]) -> None:
        value = compute()
        self._seen[key] = source
        if self.values.get(key, _MISSING) != value:
            self.values[key] = value
            changed.add(key)

    def update(self, grouping: Grouping, newest: list[Article]) -> set[str]:
        """Bring every value up to date with ``grouping``; the changed keys."""
        changed: set[str] = set()
        live: set[str] = set()
        seen = self._seen
        related = grouping.related
        for article in grouping.articles.values():
            card = card_key(article)
            live.add(card)
            if seen.get(card) is not article:
                self._set(card, article, lambda a=article: card_value(a), changed)
            others = related.get(article.slug, ())
            key = f"related:{article.slug}"
            live.add(key)
            if seen.get(key) is not others:
                self._set(key, others, lambda o=others: tuple(a.slug for a in o), changed)
        for ekey, entity in grouping.entities.items():
            record, link = entity_key(ekey), elink_key(ekey)
            live.add(link)
            live.add(record)
            if seen.get(record) is not entity:
                self._set(link, entity, lambda e=entity: e.url, changed)
                self._set(record, entity, lambda e=entity: (
                    e.slug, e.aliases, e.description, e.roles, e.mentions,
                    tuple(a.slug for a in e.articles), e.related), changed)
        config = grouping.config
        weeks = grouping.week_list()
        latest = latest_week(weeks)
        entity_index = tuple(sorted((e.kind, e.name, e.slug, len(e.articles), e.mentions)
                                    for e in grouping.entities.values()))
        globals_ = {
            "weeks": tuple(grouping.weeks),
            "entity-index": entity_index,
            "newest": tuple(a.slug for a in newest[: max(config.home_recent, config.feed_size)]),
            "latest-week": latest.id if latest else None,
        }
        for key, value in globals_.items():
            live.add(key)
            if self.values.get(key, _MISSING) != value:
                self.values[key] = value
                changed.add(key)
        for key in [k for k in self.values if k not in live]:  # removed articles and entities
            del self.values[key]
            self._seen.pop(key, None)
            changed.add(key)
        return changed


_MISSING = object()


def _article_deps(articles: Iterable[Article]) -> set[str]:
    """A list of articles depends on their cards (not on their bodies)."""
    return {card_key(a) for a in articles}


def _week_deps(week: Week) -> set[str]:
    deps = _article_deps(week.articles) | {"weeks"}
    deps.update(elink_key((link.kind, link.name)) for link, _ in week.top_entities)
    return deps


class Planner:
    """Makes the page plan of a :class:`~sitegen.group.Grouping`, reusing the plan entries of
    groups that were not rebuilt (their dependency sets cannot have changed). Contexts read
    the grouping when a page is rendered, so a reused entry renders current data."""

    def __init__(self, grouping: Grouping, absolute: Callable[[str], str]) -> None:
        self.grouping = grouping
        self.absolute = absolute
        self._cache: dict[str, tuple[tuple[object, ...], list[PagePlan]]] = {}

    def _cached(self, name: str, inputs: tuple[object, ...], make: Callable[[], list[PagePlan]]) -> list[PagePlan]:
        hit = self._cache.get(name)
        if hit is not None and hit[0][0] is inputs[0] and (len(inputs) == 1 or hit[0][1] is inputs[1]):
            return hit[1]
        plans = make()
        self._cache[name] = (inputs, plans)
        return plans

    def plan(self, newest: list[Article]) -> list[PagePlan]:
        """Every page of the site, in a fixed order, with its dependencies."""
        g = self.grouping
        config = g.config
        plans: list[PagePlan] = []
        live: set[str] = set()

        def links(refs: Iterable[tuple[str, str]]) -> list[EntityLink]:
            return [EntityLink(k[0], k[1], g.slugs[k]) for k in refs if k in g.slugs]

        for path in sorted(g.articles):
            article = g.articles[path]
            others = g.related.get(article.slug, ())
            name = f"article:{path}"
            live.add(name)

            def make_article(article: Article = article, others: tuple[Article, ...] = others) -> list[PagePlan]:
                deps = {content_key(article), f"related:{article.slug}"} | _article_deps(others)
                deps.update(elink_key(ref.key) for ref in article.entities)
                slug = article.slug

                def context() -> dict[str, Any]:
                    current = g.articles[str(article.source_path)]
                    return dict(article=current, entities=links(r.key for r in current.entities),
                                week=g.weeks[current.week], related=g.related.get(slug, ()), page_url=current.url)

                return [PagePlan(f"articles/{slug}/index.html", "article.html", str(article.source_path),
                                 frozenset(deps), context)]

            plans += self._cached(name, (article, others), make_article)
        weeks = g.week_list()
        for week in weeks:
            name = f"week:{week.id.slug}"
            live.add(name)
            plans += self._cached(name, (week,), lambda w=week: [PagePlan(
                f"weeks/{w.id.slug}/index.html", "week.html", f"digest {w.id.slug}", frozenset(_week_deps(w)),
                lambda wid=w.id: dict(week=g.weeks[wid], page_url=wid.url))])
        archive = list(reversed(weeks))
        plans.append(PagePlan("weeks/index.html", "weeks.html", "digest archive", frozenset({"weeks", ALL_CONTENT}),
                              lambda: dict(weeks=archive, page_url="/weeks/")))
        for key in sorted(g.entities):
            entity = g.entities[key]
            name = f"entity:{key[0]}:{key[1]}"
            live.add(name)

            def make_entity(entity: Entity = entity, key: tuple[str, str] = key) -> list[PagePlan]:
                record = entity_key(key)
                deps = {record} | _article_deps(entity.articles)
                deps.update(elink_key((link.kind, link.name)) for link, _ in entity.related)
                entries = entity.articles[: config.feed_size]

                def page_context() -> dict[str, Any]:
                    current = g.entities[key]
                    weeks_of = sorted({a.week for a in current.articles}, reverse=True)
                    grouped = [(w, [a for a in current.articles if a.week == w]) for w in weeks_of]
                    return dict(entity=current, grouped=grouped, page_url=current.url)

                def feed_context() -> dict[str, Any]:
                    current = g.entities[key]
                    return dict(feed_title=f"{current.name} · {config.title}", feed_url=f"{current.url}feed.xml",
                                page_url=current.url, entries=list(current.articles[: config.feed_size]))

                where = f"entity {entity.kind}:{entity.name}"
                return [PagePlan(f"entities/{entity.kind}/{entity.slug}/index.html", "entity.html", where,
                                 frozenset(deps), page_context),
                        PagePlan(f"entities/{entity.kind}/{entity.slug}/feed.xml", "feed.xml", f"{where} feed",
                                 frozenset({record} | _article_deps(entries)), feed_context)]

            plans += self._cached(name, (entity,), make_entity)
        for name in [n for n in self._cache if n not in live]:
            del self._cache[name]

        by_kind: dict[str, list[Entity]] = {kind: [] for kind in KIND_LABELS}
        for entity in g.entities.values():
            by_kind[entity.kind].append(entity)
        for kind in by_kind:
            by_kind[kind].sort(key=lambda e: (-len(e.articles), -e.mentions, e.name))
        for kind in by_kind:
            plans.append(PagePlan(f"entities/{kind}/index.html", "entities.html", f"entity index {kind}",
                                  frozenset({"entity-index"}),
                                  lambda k=kind: dict(kind=k, by_kind=by_kind, page_url=f"/entities/{k}/")))
        plans.append(PagePlan("entities/index.html", "entities.html", "entity index", frozenset({"entity-index"}),
                              lambda: dict(kind=None, by_kind=by_kind, page_url="/entities/")))
        latest = latest_week(weeks)
        recent = newest[: config.home_recent]
        home_deps = {"newest", "latest-week"} | _article_deps(recent) | (_week_deps(latest) if latest else set())
        plans.append(PagePlan("index.html", "index.html", "home page", frozenset(home_deps),
                              lambda: dict(latest=latest, recent=recent, page_url="/")))
        plans.append(PagePlan("search/index.html", "search.html", "search page", frozenset(),
                              lambda: dict(page_url="/search/")))
        plans.append(PagePlan("404.html", "404.html", "404 page", frozenset(), lambda: dict(page_url="/404.html")))
        feed_entries = newest[: config.feed_size]
        plans.append(PagePlan("feed.xml", "feed.xml", "feed", frozenset({"newest"} | _article_deps(feed_entries)),
                              lambda: dict(feed_title=config.title, feed_url="/feed.xml", page_url="/",
                                           entries=feed_entries)))
        feed_weeks = archive[: config.feed_size]
        week_feed_deps = {"weeks"}.union(*(_week_deps(w) for w in feed_weeks))
        plans.append(PagePlan("weeks/feed.xml", "weeks_feed.xml", "digest feed", frozenset(week_feed_deps),
                              lambda: dict(weeks=feed_weeks)))

        def sitemap_context() -> dict[str, Any]:
            urls = ["/", "/weeks/", "/entities/", "/search/"] + [f"/entities/{k}/" for k in KIND_LABELS]
            urls += [a.url for a in newest] + [w.id.url for w in archive]
            urls += [e.url for e in sorted(g.entities.values(), key=lambda e: (e.kind, e.slug))]
            lastmod = {a.url: a.date for a in newest} | {w.id.url: max(a.date for a in w.articles) for w in weeks}
            return dict(urls=urls, lastmod=lastmod)

        plans.append(PagePlan("sitemap.xml", "sitemap.xml", "sitemap", frozenset({ALL_CONTENT, "weeks", "entity-index"}),
                              sitemap_context))
        absolute = self.absolute
        plans.append(PagePlan("robots.txt", None, "robots.txt", frozenset(),
                              lambda: dict(text=f"User-agent: *\nAllow: /\n\nSitemap: {absolute('/sitemap.xml')}\n")))
        return plans
