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
meets a changed key (see :mod:`sitegen.site.build`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from typing import Any

from sitegen.entities import KIND_LABELS
from sitegen.errors import ContentError
from sitegen.output import safe_relpath
from sitegen.site.group import Grouping
from sitegen.model import Article, Entity, EntityLink, Week, WeekId

UNDATED_URL = "/undated/"
"""The list of articles whose page gives no date (they belong to no weekly digest)."""
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


def card_value(article: Article) -> tuple[object, ...]:
    """The value of an article's card key."""
    return article.card()


def elink_key(key: tuple[str, str]) -> str:
    """The key of an entity's link target (does it have a page, at which URL)."""
    return f"elink:{key[0]}:{key[1]}"


def entity_key(key: tuple[str, str]) -> str:
    """The key of an entity page's record (articles, roles, related entities…)."""
    return f"entity:{key[0]}:{key[1]}"


def latest_week(weeks: list[Week]) -> Week | None:
    """The newest digest whose dates are known: a week holding only items whose year had to
    be guessed (``date_uncertain``) should not lead the home page."""
    for week in reversed(weeks):
        if any(not a.date_uncertain for a in week.articles):
            return week
    return weeks[-1] if weeks else None


class DerivedValues:
    """The value of every derived dependency key. After a grouping update only the groups it
    recomputed (``grouping.touched``) are looked at; :meth:`update` returns the keys whose
    value changed."""

    def __init__(self) -> None:
        self.values: dict[str, Hashable] = {}

    def _set(self, key: str, value: Hashable, changed: set[str]) -> None:
        if self.values.get(key, _MISSING) != value:
            self.values[key] = value
            changed.add(key)

    def _drop(self, key: str, changed: set[str]) -> None:
        if self.values.pop(key, _MISSING) is not _MISSING:
            changed.add(key)

    def update(self, grouping: Grouping) -> set[str]:
        """Bring the values up to date with ``grouping``; the changed keys."""
        changed: set[str] = set()
        touched = grouping.touched
        if touched.full:
            old = self.values
            self.values = {}
            paths: Iterable[str] = grouping.articles
            related_paths: Iterable[str] = grouping.articles
            entity_keys: Iterable[tuple[str, str]] = grouping.entities
        else:
            old = None
            paths, related_paths, entity_keys = touched.articles, touched.articles | touched.related, touched.entities
        for path in paths:
            article = grouping.articles.get(path)
            if article is None:
                self._drop(f"card:{path}", changed)
                continue
            self._set(f"card:{path}", card_value(article), changed)
        for path in related_paths:
            article = grouping.articles.get(path)
            if article is None:
                continue
            self._set(f"related:{article.slug}", tuple(a.slug for a in grouping.related.get(article.slug, ())), changed)
        for ekey in entity_keys:
            entity = grouping.entities.get(ekey)
            if entity is None:
                self._drop(elink_key(ekey), changed)
                self._drop(entity_key(ekey), changed)
                continue
            self._set(elink_key(ekey), entity.url, changed)
            self._set(entity_key(ekey), (entity.slug, entity.aliases, entity.description, entity.roles, entity.mentions,
                                         tuple(a.slug for a in entity.articles), entity.related), changed)
        config = grouping.config
        weeks = grouping.week_list()
        latest = latest_week(weeks)
        self._set("weeks", tuple(grouping.weeks), changed)
        if touched.full or touched.entities:
            self._set("entity-index", tuple(sorted((e.kind, e.name, e.slug, len(e.articles), e.mentions)
                                                   for e in grouping.entities.values())), changed)
        newest = grouping.newest(max(config.home_recent, config.feed_size))
        self._set("newest", tuple(a.slug for a in newest), changed)
        self._set("latest-week", latest.id if latest else None, changed)
        self._set("undated", tuple(a.slug for a in grouping.undated_list()), changed)
        if old is not None:  # a full update: everything that differs from before
            changed = {k for k in self.values.keys() | old.keys() if old.get(k, _MISSING) != self.values.get(k, _MISSING)}
        # related keys of removed or renamed articles
        if not touched.full:
            for path in touched.articles:
                for key in self._stale_related(grouping, path):
                    self._drop(key, changed)
        return changed

    def _stale_related(self, grouping: Grouping, path: str) -> list[str]:
        slug = grouping.touched.old_slugs.get(path)
        if slug is None or slug in grouping.related:
            return []
        return [f"related:{slug}"]


_MISSING = object()


def _dated(articles: Iterable[Article]) -> list[Article]:
    """The articles that have a date (a feed entry needs one)."""
    return [a for a in articles if a.date is not None]


def _article_deps(articles: Iterable[Article]) -> set[str]:
    """A list of articles depends on their cards (not on their bodies)."""
    return {card_key(a) for a in articles}


def _week_deps(week: Week) -> set[str]:
    deps = _article_deps(week.articles) | {"weeks"}
    deps.update(elink_key((link.kind, link.name)) for link, _ in week.top_entities)
    return deps


class Planner:
    """The page plan of a :class:`~sitegen.site.group.Grouping`, kept up to date: after a grouping
    update only the plan entries of recomputed groups are made again, and an inverted index
    from dependency key to pages answers "which pages does this change reach?" without
    looking at every page. Contexts read the grouping when a page is rendered."""

    def __init__(self, grouping: Grouping, absolute: Callable[[str], str]) -> None:
        self.grouping = grouping
        self.absolute = absolute
        self.entries: dict[str, list[PagePlan]] = {}  # group name -> its pages
        self.by_relpath: dict[str, PagePlan] = {}
        self._owner: dict[str, str] = {}  # relpath -> group name
        self._by_key: dict[str, set[str]] = defaultdict(set)  # dependency key -> relpaths
        self.added: set[str] = set()  # relpaths new since the last commit
        self._shapes: dict[str, tuple[object, ...]] = {}  # entity group -> what its deps were made from
        self.removed: set[str] = set()  # relpaths gone since the last commit

    # -- bookkeeping -------------------------------------------------------------------------
    def _replace(self, name: str, plans: list[PagePlan] | None, hit: set[str], changed: set[str]) -> None:
        """Swap a group's plan entries, collecting pages whose old or new deps meet ``changed``."""
        for plan in self.entries.pop(name, ()):
            if not plan.deps.isdisjoint(changed):
                hit.add(plan.relpath)
            for key in plan.deps:
                users = self._by_key.get(key)
                if users is not None:
                    users.discard(plan.relpath)
                    if not users:
                        del self._by_key[key]
            del self.by_relpath[plan.relpath]
            del self._owner[plan.relpath]
            if plan.relpath in self.added:
                self.added.discard(plan.relpath)
            else:
                self.removed.add(plan.relpath)
        if plans is None:
            return
        for plan in plans:
            safe_relpath(plan.relpath)
            owner = self._owner.get(plan.relpath)
            if owner is not None:
                other = self.by_relpath[plan.relpath]
                raise ContentError(f"two pages want the output path /{plan.relpath}: {other.source} and {plan.source}",
                                   plan.source)
            self.by_relpath[plan.relpath] = plan
            self._owner[plan.relpath] = name
            for key in plan.deps:
                self._by_key[key].add(plan.relpath)
            if plan.relpath in self.removed:
                self.removed.discard(plan.relpath)
            else:
                self.added.add(plan.relpath)
        self.entries[name] = plans

    def pages_using(self, keys: set[str]) -> set[str]:
        """Relpaths of the pages whose dependencies meet ``keys``."""
        found: set[str] = set()
        for key in keys:
            found |= self._by_key.get(key, set())
        return found

    def commit(self) -> None:
        """The current plan was written."""
        self.added.clear()
        self.removed.clear()

    # -- planning ------------------------------------------------------------------------------
    def update(self, changed: set[str]) -> set[str]:
        """Re-plan the groups the last grouping update touched (all, the first time);
        returns the relpaths whose old dependencies met ``changed`` (the new ones are found
        with :meth:`pages_using`)."""
        g = self.grouping
        touched = g.touched
        hit: set[str] = set()
        if touched.full:
            for name in list(self.entries):
                self._replace(name, None, hit, changed)
            article_paths: Iterable[str] = sorted(g.articles)
            week_ids: Iterable[WeekId] = list(g.weeks)
            entity_keys: Iterable[tuple[str, str]] = sorted(g.entities)
        else:
            article_paths = sorted(touched.articles | touched.related)
            week_ids = sorted(touched.weeks)
            entity_keys = sorted(touched.entities)
        for path in article_paths:
            article = g.articles.get(path)
            self._replace(f"article:{path}", self._plan_article(article) if article else None, hit, changed)
        for week_id in week_ids:
            week = g.weeks.get(week_id)
            self._replace(f"week:{week_id.slug}", self._plan_week(week) if week else None, hit, changed)
        for key in entity_keys:
            entity = g.entities.get(key)
            name = f"entity:{key[0]}:{key[1]}"
            if entity is not None:
                # a rebuilt entity whose pages list the same articles keeps its plan entries
                # (their dependencies are the same; contexts read the current entity)
                shape = (entity.slug, tuple(a.source_path for a in entity.articles), entity.related)
                if self._shapes.get(name) == shape and name in self.entries:
                    continue
                self._shapes[name] = shape
            else:
                self._shapes.pop(name, None)
            self._replace(name, self._plan_entity(entity) if entity else None, hit, changed)
        # the site-wide pages' dependencies follow the newest articles and the weeks
        if touched.full or touched.weeks or "site" not in self.entries or {"newest", "latest-week", "weeks", "undated"} & changed:
            self._replace("site", self._plan_site_pages(), hit, changed)
        return hit

    def _links(self, refs: Iterable[tuple[str, str]]) -> list[EntityLink]:
        slugs = self.grouping.slugs
        return [EntityLink(k[0], k[1], slugs[k]) for k in refs if k in slugs]

    def _plan_article(self, article: Article) -> list[PagePlan]:
        g = self.grouping
        others = g.related.get(article.slug, ())
        deps = {content_key(article), f"related:{article.slug}"} | _article_deps(others)
        deps.update(elink_key(ref.key) for ref in article.entities)
        path, slug = str(article.source_path), article.slug

        def context() -> dict[str, Any]:
            current = g.articles[path]
            return dict(article=current, entities=self._links(r.key for r in current.entities),
                        week=g.weeks[current.week] if current.week is not None else None,
                        related=g.related.get(slug, ()), page_url=current.url)

        return [PagePlan(f"articles/{slug}/index.html", "article.html", path, frozenset(deps), context)]

    def _plan_week(self, week: Week) -> list[PagePlan]:
        g, wid = self.grouping, week.id
        return [PagePlan(f"weeks/{wid.slug}/index.html", "week.html", f"digest {wid.slug}", frozenset(_week_deps(week)),
                         lambda: dict(week=g.weeks[wid], page_url=wid.url))]

    def _plan_entity(self, entity: Entity) -> list[PagePlan]:
        g, config = self.grouping, self.grouping.config
        key = (entity.kind, entity.name)
        record = entity_key(key)
        deps = {record} | _article_deps(entity.articles)
        deps.update(elink_key((link.kind, link.name)) for link, _ in entity.related)
        entries = entity.articles[: config.feed_size]

        def page_context() -> dict[str, Any]:
            current = g.entities[key]
            by_week: dict[WeekId | None, list[Article]] = defaultdict(list)
            for article in current.articles:  # newest first, so each week's list is too
                by_week[article.week].append(article)
            # newest week first, the undated last
            grouped = sorted(by_week.items(), key=lambda item: (item[0] is not None, item[0] or WeekId(0, 0)), reverse=True)
            return dict(entity=current, grouped=grouped, page_url=current.url)

        def feed_context() -> dict[str, Any]:
            current = g.entities[key]
            return dict(feed_title=f"{current.name} · {config.title}", feed_url=f"{current.url}feed.xml",
                        page_url=current.url, entries=_dated(current.articles[: config.feed_size]))

        where = f"entity {entity.kind}:{entity.name}"
        return [PagePlan(f"entities/{entity.kind}/{entity.slug}/index.html", "entity.html", where,
                         frozenset(deps), page_context),
                PagePlan(f"entities/{entity.kind}/{entity.slug}/feed.xml", "feed.xml", f"{where} feed",
                         frozenset({record} | _article_deps(entries)), feed_context)]

    def _plan_site_pages(self) -> list[PagePlan]:
        """The pages made from the whole site: indexes, home, feeds, sitemap, search, 404."""
        g, config = self.grouping, self.grouping.config
        plans: list[PagePlan] = []
        plans.append(PagePlan("weeks/index.html", "weeks.html", "digest archive", frozenset({"weeks", "undated", ALL_CONTENT}),
                              lambda: dict(weeks=list(reversed(g.week_list())), undated=len(g.undated), page_url="/weeks/")))

        def by_kind() -> dict[str, list[Entity]]:
            groups: dict[str, list[Entity]] = {kind: [] for kind in KIND_LABELS}
            for entity in g.entities.values():
                groups[entity.kind].append(entity)
            for kind in groups:
                groups[kind].sort(key=lambda e: (-len(e.articles), -e.mentions, e.name))
            return groups

        for kind in KIND_LABELS:
            plans.append(PagePlan(f"entities/{kind}/index.html", "entities.html", f"entity index {kind}",
                                  frozenset({"entity-index"}),
                                  lambda k=kind: dict(kind=k, by_kind=by_kind(), page_url=f"/entities/{k}/")))
        plans.append(PagePlan("entities/index.html", "entities.html", "entity index", frozenset({"entity-index"}),
                              lambda: dict(kind=None, by_kind=by_kind(), page_url="/entities/")))
        weeks = g.week_list()
        latest = latest_week(weeks)
        recent = g.newest(config.home_recent)
        home_deps = {"newest", "latest-week"} | _article_deps(recent) | (_week_deps(latest) if latest else set())
        plans.append(PagePlan("index.html", "index.html", "home page", frozenset(home_deps),
                              lambda: dict(latest=latest_week(g.week_list()), recent=g.newest(config.home_recent),
                                           page_url="/")))
        plans.append(PagePlan("search/index.html", "search.html", "search page", frozenset(),
                              lambda: dict(page_url="/search/")))
        plans.append(PagePlan("404.html", "404.html", "404 page", frozenset(), lambda: dict(page_url="/404.html")))
        feed_entries = g.newest(config.feed_size)
        plans.append(PagePlan("feed.xml", "feed.xml", "feed", frozenset({"newest"} | _article_deps(feed_entries)),
                              lambda: dict(feed_title=config.title, feed_url="/feed.xml", page_url="/",
                                           entries=_dated(g.newest(config.feed_size)))))
        feed_weeks = list(reversed(weeks))[: config.feed_size]
        week_feed_deps = {"weeks"}.union(*(_week_deps(w) for w in feed_weeks))
        plans.append(PagePlan("weeks/feed.xml", "weeks_feed.xml", "digest feed", frozenset(week_feed_deps),
                              lambda: dict(weeks=list(reversed(g.week_list()))[: config.feed_size])))

        def sitemap_context() -> dict[str, Any]:
            newest = g.newest()
            archive = list(reversed(g.week_list()))
            urls = ["/", "/weeks/", "/entities/", "/search/"] + [f"/entities/{k}/" for k in KIND_LABELS]
            urls += [a.url for a in newest] + [w.id.url for w in archive]
            urls += [e.url for e in sorted(g.entities.values(), key=lambda e: (e.kind, e.slug))]
            if g.undated:
                urls.append(UNDATED_URL)
            lastmod = {a.url: a.date for a in newest if a.date is not None} | {
                w.id.url: max(a.date for a in w.articles if a.date is not None) for w in archive}
            return dict(urls=urls, lastmod=lastmod)

        plans.append(PagePlan("sitemap.xml", "sitemap.xml", "sitemap", frozenset({ALL_CONTENT, "weeks", "entity-index"}),
                              sitemap_context))
        if g.undated:
            undated_deps = {"undated"} | _article_deps(g.undated_list())
            plans.append(PagePlan("undated/index.html", "undated.html", "undated articles", frozenset(undated_deps),
                                  lambda: dict(articles=g.undated_list(), page_url=UNDATED_URL)))
        absolute = self.absolute
        plans.append(PagePlan("robots.txt", None, "robots.txt", frozenset(),
                              lambda: dict(text=f"User-agent: *\nAllow: /\n\nSitemap: {absolute('/sitemap.xml')}\n")))
        return plans
