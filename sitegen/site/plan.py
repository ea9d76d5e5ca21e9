"""The page plan: every output page of the site, with what it is rendered from.

Each :class:`PagePlan` names its output path, its template and a *dependency set*: the keys
(:mod:`sitegen.site.keys`) of the inputs its bytes depend on (Lektor's dependency recording,
made explicit). The page's template (and every template it extends, imports or includes) is
tracked by name, and the site configuration, entity data and hashed asset URLs affect every
page. :class:`DerivedValues` holds the digest of each derived key's value; an update
compares them with the previous digests, and re-renders exactly the pages whose dependency
set meets a changed key (see :mod:`sitegen.site.session`). A page's context is a function
of the grouping at render time; a test checks that it shows nothing its dependency set does
not declare.
"""

from __future__ import annotations

from array import array
from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from typing import Any

from sitegen import urls
from sitegen.collector import paused
from sitegen.entities import KIND_LABELS
from sitegen.errors import ContentError
from sitegen.model import Article, Entity, EntityLink, Week, WeekId
from sitegen.output import safe_relpath
from sitegen.site import keys
from sitegen.site.carry import digest
from sitegen.site.group import Grouping
from sitegen.site.keys import ALL_CONTENT, ENTITY_INDEX, LATEST_WEEK, NEWEST, UNDATED, WEEKS, Key


@dataclass(frozen=True, slots=True)
class PagePlan:
    """One output file: where it goes, how it is made and what it depends on."""

    relpath: str
    template: str | None  # None: not rendered from a template (robots.txt)
    source: str  # names the input in error messages and collision reports
    deps: tuple[Key, ...]
    """Sorted, each once (:func:`dep_keys`)."""
    context: Callable[[Grouping], dict[str, Any]]
    """The template's variables, computed from the grouping when the page is rendered: a
    module function's :class:`BoundContext` for the pages of articles, weeks and entities, so that
    their plans pickle (a build keeps them for the next)."""


@dataclass(frozen=True, slots=True)
class BoundContext:
    """A page's context: a module function called with ``args`` and then the grouping.
    What ``functools.partial`` makes, in a third of the memory (a partial keeps a dict of
    keywords of its own: 248,583 plans at 100,000 items), and it pickles the same way."""

    function: Callable[..., dict[str, Any]]
    args: tuple[Hashable, ...]

    def __call__(self, grouping: Grouping) -> dict[str, Any]:
        return self.function(*self.args, grouping)


def dep_keys(found: Iterable[Key]) -> tuple[Key, ...]:
    """A page's dependency keys as its plan holds them: sorted, each once. (A tuple takes a
    sixth of a frozenset's memory: the plans of 100,000 items held 3.4 million keys.)"""
    return tuple(sorted(set(found)))


def card_value(article: Article) -> tuple[object, ...]:
    """The value of an article's card key."""
    return article.card()


def latest_week(weeks: list[Week]) -> Week | None:
    """The newest digest whose dates are known: a week holding only items whose year had to
    be guessed (``date_uncertain``) should not lead the home page."""
    for week in reversed(weeks):
        if any(not a.date_uncertain for a in week.articles):
            return week
    return weeks[-1] if weeks else None


class DerivedValues:
    """The digest (:func:`~sitegen.site.carry.digest`) of the value of every derived
    dependency key: all an update needs to tell which values changed, and all a build keeps
    of them for the next (the values themselves took 36 MB of a 24,000-item site's kept
    model, 0.8 s to save). After a grouping update only the groups it recomputed
    (``grouping.touched``) are looked at; :meth:`update` returns the keys whose value
    changed."""

    def __init__(self, digests: dict[Key, str] | None = None) -> None:
        self.digests: dict[Key, str] = digests if digests is not None else {}
        self._year_keys: dict[tuple[str, str], set[Key]] | None = None  # entity -> its year keys, once asked

    def _years_of(self, entity_key: tuple[str, str]) -> set[Key]:
        """The year keys (:func:`keys.entity_year`) the digests hold for an entity."""
        if self._year_keys is None:
            self._year_keys = defaultdict(set)
            for key in self.digests:
                owner = keys.entity_of_year(key)
                if owner is not None:
                    self._year_keys[owner].add(key)
        return self._year_keys.get(entity_key, set())

    def _set(self, key: Key, value: Hashable, changed: set[Key]) -> None:
        value_digest = digest(value)
        if self.digests.get(key) != value_digest:
            self.digests[key] = value_digest
            changed.add(key)

    def _drop(self, key: Key, changed: set[Key]) -> None:
        if self.digests.pop(key, None) is not None:
            changed.add(key)

    def update(self, grouping: Grouping) -> set[Key]:
        """Bring the values up to date with ``grouping``; the changed keys."""
        changed: set[Key] = set()
        touched = grouping.touched
        config = grouping.config
        if touched.full:
            old = self.digests
            self.digests = {}
            self._year_keys = None
            paths: Iterable[str] = grouping.articles
            related_paths: Iterable[str] = grouping.articles
            entity_keys: Iterable[tuple[str, str]] = grouping.entities
        else:
            old = None
            paths, related_paths, entity_keys = touched.articles, touched.articles | touched.related, touched.entities
        for path in paths:
            article = grouping.articles.get(path)
            if article is None:
                self._drop(keys.card(path), changed)
                continue
            self._set(keys.card(path), card_value(article), changed)
        for path in related_paths:
            article = grouping.articles.get(path)
            if article is None:
                continue
            self._set(keys.related(article.slug), tuple(a.slug for a in grouping.related.get(article.slug, ())), changed)
        for ekey in entity_keys:
            entity = grouping.entities.get(ekey)
            years = entity.years() if entity is not None else ()
            year_values: dict[Key, Hashable] = {}
            if entity is not None:
                year_values = _year_values(entity, _paged_years(entity, config.entity_recent, years))
            for key in self._years_of(ekey) - year_values.keys():
                self._drop(key, changed)
            for key, value in year_values.items():
                self._set(key, value, changed)
            if self._year_keys is not None:  # (an entity without year pages: none, not an empty set each)
                if year_values:
                    self._year_keys[ekey] = set(year_values)
                else:
                    self._year_keys.pop(ekey, None)
            if entity is None:
                self._drop(keys.entity_link(ekey), changed)
                self._drop(keys.entity(ekey), changed)
                continue
            self._set(keys.entity_link(ekey), entity.url, changed)
            self._set(keys.entity(ekey), (entity.slug, entity.aliases, entity.description, entity.roles, entity.mentions,
                                         tuple(a.slug for a in entity.articles), entity.related,
                                         tuple((year, len(articles)) for year, articles in years),
                                         entity.first_seen, entity.last_seen,
                                         entity.page_since(config.entity_min_articles)), changed)
        weeks = grouping.week_list()
        latest = latest_week(weeks)
        self._set(WEEKS, tuple(grouping.weeks), changed)
        if touched.full or touched.entities:
            self._set(ENTITY_INDEX, tuple(sorted((e.kind, e.name, e.slug, len(e.articles), e.mentions)
                                                   for e in grouping.entities.values())), changed)
        newest = grouping.newest(max(config.home_recent, config.feed_size))
        self._set(NEWEST, tuple(a.slug for a in newest), changed)
        self._set(LATEST_WEEK, latest.id if latest else None, changed)
        self._set(UNDATED, tuple(a.slug for a in grouping.undated_list()), changed)
        if old is not None:  # a full update: everything that differs from before
            changed = {k for k in self.digests.keys() | old.keys() if old.get(k) != self.digests.get(k)}
        # related keys of removed or renamed articles
        if not touched.full:
            for path in touched.articles:
                for key in self._stale_related(grouping, path):
                    self._drop(key, changed)
        return changed

    def _stale_related(self, grouping: Grouping, path: str) -> list[Key]:
        slug = grouping.touched.old_slugs.get(path)
        if slug is None or slug in grouping.related:
            return []
        return [keys.related(slug)]


YearsOfArticles = tuple[tuple[int | None, tuple[Article, ...]], ...]
"""An entity's articles by year (:meth:`Entity.years`)."""


def _paged_years(entity: Entity, recent: int, years: YearsOfArticles | None = None) -> YearsOfArticles:
    """An entity's articles by year (``years`` when already made) when its page cannot list
    them all (more than ``recent``), each year on a page of its own; none when it can."""
    if len(entity.articles) <= recent:
        return ()
    return years if years is not None else entity.years()


def _year_values(entity: Entity, paged: YearsOfArticles) -> dict[Key, Hashable]:
    """The value of each of an entity's year keys (``paged``: :func:`_paged_years`): what
    its page of that year shows."""
    listed = tuple(year for year, _ in paged)
    return {keys.entity_year((entity.kind, entity.name), year): (entity.slug, listed, tuple(a.slug for a in articles))
            for year, articles in paged}


_EntityShape = tuple[str, tuple[tuple[EntityLink, int], ...], tuple[str, ...], "array[int]"]
"""What an entity's plans are made from (:func:`_entity_shape`)."""


def _entity_shape(entity: Entity) -> _EntityShape:
    """What an entity's plans are made from: its slug, related entities, and articles with
    the year of each. The years are an array of numbers (0: undated), the articles their
    paths as the articles hold them (at 100,000 items, 850,000 memberships: as (path, year)
    pairs, with a map of pages to groups the planner no longer keeps, they took 72 MB)."""
    years = array("i", (a.date.year if a.date is not None else 0 for a in entity.articles))
    return entity.slug, entity.related, tuple(a.source_path for a in entity.articles), years


def _by_week(articles: Iterable[Article]) -> list[tuple[WeekId | None, list[Article]]]:
    """Articles (newest first) by week: the newest week first, the undated last."""
    by_week: dict[WeekId | None, list[Article]] = defaultdict(list)
    for article in articles:
        by_week[article.week].append(article)
    return sorted(by_week.items(), key=lambda item: (item[0] is not None, item[0] or WeekId(0, 0)), reverse=True)


def _dated(articles: Iterable[Article]) -> list[Article]:
    """The articles that have a date (a feed entry needs one)."""
    return [a for a in articles if a.date is not None]


def _article_deps(articles: Iterable[Article]) -> set[Key]:
    """A list of articles depends on their cards (not on their bodies)."""
    return {keys.card(a.source_path) for a in articles}


def _week_deps(week: Week) -> set[Key]:
    deps = _article_deps(week.articles) | {WEEKS}
    deps.update(keys.entity_link((link.kind, link.name)) for link, _ in week.top_entities)
    return deps


def _index_plan(by_key: dict[Key, set[str]], plan: PagePlan) -> None:
    """Note ``plan``'s page under each of its dependency keys."""
    for key in plan.deps:
        by_key.setdefault(key, set()).add(plan.relpath)


def _unindex_plan(by_key: dict[Key, set[str]], plan: PagePlan) -> None:
    """Take ``plan``'s page from under each of its dependency keys (a key left with no page goes)."""
    for key in plan.deps:
        users = by_key.get(key)
        if users is not None:
            users.discard(plan.relpath)
            if not users:
                del by_key[key]


def _links(grouping: Grouping, refs: Iterable[tuple[str, str]]) -> list[EntityLink]:
    """Links to the entities of ``refs`` that have a page."""
    slugs = grouping.slugs
    return [EntityLink.of(k[0], k[1], slugs[k]) for k in refs if k in slugs]


def _article_context(path: str, slug: str, g: Grouping) -> dict[str, Any]:
    """What an article's page shows (its body, entities, week and related articles)."""
    current = g.articles[path]
    return dict(article=current, entities=_links(g, (r.key for r in current.entities)),
                week=g.weeks[current.week] if current.week is not None else None,
                related=g.related.get(slug, ()), page_url=current.url)


def _week_context(week: WeekId, g: Grouping) -> dict[str, Any]:
    """What a weekly digest shows."""
    return dict(week=g.weeks[week], page_url=week.url)


def _entity_context(key: tuple[str, str], g: Grouping) -> dict[str, Any]:
    """What an entity's page shows: its record, its newest articles by week and, when it
    has more, its years with their counts."""
    current, recent = g.entities[key], g.config.entity_recent
    years = [(year, len(articles), urls.entity_year_url(current.url, year))
             for year, articles in _paged_years(current, recent)]
    return dict(entity=current, grouped=_by_week(current.articles[:recent]), years=years, page_url=current.url)


def _entity_feed_context(key: tuple[str, str], g: Grouping) -> dict[str, Any]:
    """An entity's Atom feed: its newest dated articles."""
    current, config = g.entities[key], g.config
    return dict(feed_title=f"{current.name} · {config.title}", feed_url=urls.feed_of(current.url),
                page_url=current.url, entries=_dated(current.articles[: config.feed_size]))


def _entity_year_context(key: tuple[str, str], year: int | None, g: Grouping) -> dict[str, Any]:
    """What an entity's page of one year shows: its articles of that year, by week, and
    links to its other years (declared by the year's key)."""
    current = g.entities[key]
    years = _paged_years(current, g.config.entity_recent)
    return dict(entity=current.link, year=year, year_label=f"{year}年" if year is not None else "日期不详",
                grouped=_by_week(dict(years)[year]),
                years=[(other, urls.entity_year_url(current.url, other)) for other, _ in years],
                page_url=urls.entity_year_url(current.url, year))


_SITE = "site"
"""The group of the site-wide pages (indexes, home, feeds, sitemap…)."""


class Planner:
    """The page plan of a :class:`~sitegen.site.group.Grouping`, kept up to date: after a grouping
    update only the plan entries of recomputed groups are made again, and an inverted index
    from dependency key to pages answers "which pages does this change reach?" without
    looking at every page. Contexts read the grouping when a page is rendered;
    a later process resumes the plans a build kept (:meth:`kept`, :meth:`resumed`)."""

    def __init__(self, grouping: Grouping, absolute: Callable[[str], str]) -> None:
        self.grouping = grouping
        self.absolute = absolute
        self.entries: dict[str, list[PagePlan]] = {}  # group name -> its pages
        self.by_relpath: dict[str, PagePlan] = {}
        self._by_key: dict[Key, set[str]] | None = None  # dependency key -> relpaths, once asked
        self.added: set[str] = set()  # relpaths new since the last commit
        self._shapes: dict[str, _EntityShape] = {}  # entity group -> what its deps were made from
        self.removed: set[str] = set()  # relpaths gone since the last commit
        self.replanned: set[str] = set()  # relpaths planned (anew or again) since the last commit

    def kept(self) -> dict[str, list[PagePlan]]:
        """The plans of the pages of articles, digests and entities, by group: what a later
        process resumes from (:meth:`resumed`) instead of planning them all again (the
        site-wide pages are planned again by every update that resumes)."""
        return {name: plans for name, plans in self.entries.items() if name != _SITE}

    @classmethod
    def resumed(cls, grouping: Grouping, absolute: Callable[[str], str], kept: dict[str, list[PagePlan]]) -> Planner:
        """The planner :meth:`kept` was taken from, over the grouping it planned (resumed
        too): its next :meth:`update` plans only the groups the grouping's update touched
        (every touched entity: what its plans were made from is not kept)."""
        planner = cls(grouping, absolute)
        planner.entries = dict(kept)
        for plans in kept.values():
            for plan in plans:
                planner.by_relpath[plan.relpath] = plan
        return planner

    def clear(self) -> None:
        """Forget every plan, so that a released site's model is freed at once by reference
        counts (not by a collection that visits every object of it: 0.8 s at 10,000 items)
        whatever a plan's context holds."""
        self.entries.clear()
        self.by_relpath.clear()
        self._by_key = None

    # -- bookkeeping -------------------------------------------------------------------------
    def _replace(self, name: str, plans: list[PagePlan] | None, hit: set[str], changed: set[Key]) -> None:
        """Swap a group's plan entries, collecting pages whose old or new deps meet ``changed``."""
        for plan in self.entries.pop(name, ()):
            if not changed.isdisjoint(plan.deps):
                hit.add(plan.relpath)
            if self._by_key is not None:
                _unindex_plan(self._by_key, plan)
            del self.by_relpath[plan.relpath]
            if plan.relpath in self.added:
                self.added.discard(plan.relpath)
            else:
                self.removed.add(plan.relpath)
        if plans is None:
            return
        for plan in plans:
            safe_relpath(plan.relpath)
            other = self.by_relpath.get(plan.relpath)  # another group's: this one's are taken out
            if other is not None:
                raise ContentError(f"two pages want the output path /{plan.relpath}: {other.source} and {plan.source}",
                                   plan.source)
            self.by_relpath[plan.relpath] = plan
            self.replanned.add(plan.relpath)
            if self._by_key is not None:
                _index_plan(self._by_key, plan)
            if plan.relpath in self.removed:
                self.removed.discard(plan.relpath)
            else:
                self.added.add(plan.relpath)
        self.entries[name] = plans

    def pages_using(self, changed: set[Key]) -> set[str]:
        """Relpaths of the pages whose dependencies meet ``changed``. The inverted index is
        made the first time this is asked (an update after the first: ``serve``), not by a
        build that plans the site once (76 MB at 24,000 items) and kept up to date after."""
        if self._by_key is None:
            self._by_key = {}
            for plan in self.by_relpath.values():
                _index_plan(self._by_key, plan)
        found: set[str] = set()
        for key in changed:
            found |= self._by_key.get(key, set())
        return found

    def commit(self) -> None:
        """The current plan was written."""
        self.added.clear()
        self.removed.clear()
        self.replanned.clear()

    # -- planning ------------------------------------------------------------------------------
    def update(self, changed: set[Key], everything: bool = False) -> set[str]:
        """Re-plan the groups the last grouping update touched (all, the first time, or
        with ``everything``: a new planner over an updated grouping); returns the relpaths
        whose old dependencies met ``changed`` (the new ones are found with
        :meth:`pages_using`). Plans are all kept: no garbage collection meanwhile."""
        with paused():
            return self._update(changed, everything)

    def _update(self, changed: set[Key], everything: bool) -> set[str]:
        g = self.grouping
        touched = g.touched
        hit: set[str] = set()
        if touched.full or everything:
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
                # a rebuilt entity whose pages list the same articles, each in the same year,
                # keeps its plan entries (their dependencies are the same; contexts read the
                # current entity)
                shape = _entity_shape(entity)
                if self._shapes.get(name) == shape and name in self.entries:
                    continue
                self._shapes[name] = shape
            else:
                self._shapes.pop(name, None)
            self._replace(name, self._plan_entity(entity) if entity else None, hit, changed)
        # the site-wide pages' dependencies follow the newest articles and the weeks
        if touched.full or everything or touched.weeks or _SITE not in self.entries or \
                {NEWEST, LATEST_WEEK, WEEKS, UNDATED} & changed:
            self._replace(_SITE, self._plan_site_pages(), hit, changed)
        return hit

    def _plan_article(self, article: Article) -> list[PagePlan]:
        g = self.grouping
        others = g.related.get(article.slug, ())
        deps = {keys.content(article.source_path), keys.related(article.slug)} | _article_deps(others)
        deps.update(keys.entity_link(ref.key) for ref in article.entities)
        path = article.source_path
        return [PagePlan(urls.relpath_of(urls.article_url(article.slug)), "article.html", path, dep_keys(deps),
                         BoundContext(_article_context, (path, article.slug)))]

    def _plan_week(self, week: Week) -> list[PagePlan]:
        wid = week.id
        return [PagePlan(urls.relpath_of(wid.url), "week.html", f"digest {wid.slug}", dep_keys(_week_deps(week)),
                         BoundContext(_week_context, (wid,)))]

    def _plan_entity(self, entity: Entity) -> list[PagePlan]:
        config = self.grouping.config
        key = (entity.kind, entity.name)
        record = keys.entity(key)
        deps = {record} | _article_deps(entity.articles[: config.entity_recent])
        deps.update(keys.entity_link((link.kind, link.name)) for link, _ in entity.related)
        entries = entity.articles[: config.feed_size]
        where = f"entity {entity.kind}:{entity.name}"
        plans = [PagePlan(urls.relpath_of(entity.url), "entity.html", where, dep_keys(deps),
                          BoundContext(_entity_context, (key,))),
                 PagePlan(urls.relpath_of(urls.feed_of(entity.url)), "feed.xml", f"{where} feed",
                          dep_keys({record} | _article_deps(entries)), BoundContext(_entity_feed_context, (key,)))]
        for year, articles in _paged_years(entity, config.entity_recent):
            plans.append(PagePlan(urls.relpath_of(urls.entity_year_url(entity.url, year)), "entity_year.html",
                                  f"{where} {year or 'undated'}",
                                  dep_keys({keys.entity_year(key, year)} | _article_deps(articles)),
                                  BoundContext(_entity_year_context, (key, year))))
        return plans

    def _plan_site_pages(self) -> list[PagePlan]:
        """The pages made from the whole site: indexes, home, feeds, sitemap, search, 404."""
        g, config = self.grouping, self.grouping.config
        plans: list[PagePlan] = []
        plans.append(PagePlan(urls.relpath_of(urls.WEEKS_URL), "weeks.html", "digest archive",
                              dep_keys({WEEKS, UNDATED, ALL_CONTENT}),
                              lambda g: dict(weeks=list(reversed(g.week_list())), undated=len(g.undated),
                                             page_url=urls.WEEKS_URL)))

        def by_kind(g: Grouping) -> dict[str, list[Entity]]:
            groups: dict[str, list[Entity]] = {kind: [] for kind in KIND_LABELS}
            for entity in g.entities.values():
                groups[entity.kind].append(entity)
            for kind in groups:
                groups[kind].sort(key=lambda e: (-len(e.articles), -e.mentions, e.name))
            return groups

        def kind_index(kind: str, g: Grouping) -> dict[str, Any]:
            return dict(kind=kind, by_kind=by_kind(g), page_url=urls.kind_url(kind))

        for kind in KIND_LABELS:
            plans.append(PagePlan(urls.relpath_of(urls.kind_url(kind)), "entities.html", f"entity index {kind}",
                                  dep_keys({ENTITY_INDEX}), BoundContext(kind_index, (kind,))))
        plans.append(PagePlan(urls.relpath_of(urls.ENTITIES_URL), "entities.html", "entity index", dep_keys({ENTITY_INDEX}),
                              lambda g: dict(kind=None, by_kind=by_kind(g), page_url=urls.ENTITIES_URL)))
        weeks = g.week_list()
        latest = latest_week(weeks)
        recent = g.newest(config.home_recent)
        home_deps = {NEWEST, LATEST_WEEK} | _article_deps(recent) | (_week_deps(latest) if latest else set())
        plans.append(PagePlan(urls.relpath_of(urls.HOME_URL), "index.html", "home page", dep_keys(home_deps),
                              lambda g: dict(latest=latest_week(g.week_list()), recent=g.newest(config.home_recent),
                                             page_url=urls.HOME_URL)))
        plans.append(PagePlan(urls.relpath_of(urls.SEARCH_URL), "search.html", "search page", (),
                              lambda g: dict(page_url=urls.SEARCH_URL)))
        plans.append(PagePlan(urls.relpath_of(urls.NOT_FOUND_URL), "404.html", "404 page", (),
                              lambda g: dict(page_url=urls.NOT_FOUND_URL)))
        feed_entries = g.newest(config.feed_size)
        plans.append(PagePlan(urls.relpath_of(urls.FEED_URL), "feed.xml", "feed",
                              dep_keys({NEWEST} | _article_deps(feed_entries)),
                              lambda g: dict(feed_title=config.title, feed_url=urls.FEED_URL, page_url=urls.HOME_URL,
                                             entries=_dated(g.newest(config.feed_size)))))
        feed_weeks = list(reversed(weeks))[: config.feed_size]
        week_feed_deps = {WEEKS}.union(*(_week_deps(w) for w in feed_weeks))
        plans.append(PagePlan(urls.relpath_of(urls.WEEKS_FEED_URL), "weeks_feed.xml", "digest feed", dep_keys(week_feed_deps),
                              lambda g: dict(weeks=list(reversed(g.week_list()))[: config.feed_size])))

        def sitemap_context(g: Grouping) -> dict[str, Any]:
            newest = g.newest()
            archive = list(reversed(g.week_list()))
            listed = [urls.HOME_URL, urls.WEEKS_URL, urls.ENTITIES_URL, urls.SEARCH_URL]
            listed += [urls.kind_url(k) for k in KIND_LABELS]
            listed += [a.url for a in newest] + [w.id.url for w in archive]
            listed += [e.url for e in sorted(g.entities.values(), key=lambda e: (e.kind, e.slug))]
            if g.undated:
                listed.append(urls.UNDATED_URL)
            lastmod = {a.url: a.date for a in newest if a.date is not None} | {
                w.id.url: max(a.date for a in w.articles if a.date is not None) for w in archive}
            return dict(urls=listed, lastmod=lastmod)

        plans.append(PagePlan(urls.relpath_of(urls.SITEMAP_URL), "sitemap.xml", "sitemap",
                              dep_keys({ALL_CONTENT, WEEKS, ENTITY_INDEX}), sitemap_context))
        if g.undated:
            undated_deps = {UNDATED} | _article_deps(g.undated_list())
            plans.append(PagePlan(urls.relpath_of(urls.UNDATED_URL), "undated.html", "undated articles",
                                  dep_keys(undated_deps),
                                  lambda g: dict(articles=g.undated_list(), page_url=urls.UNDATED_URL)))
        absolute = self.absolute
        plans.append(PagePlan(urls.relpath_of(urls.ROBOTS_URL), None, "robots.txt", (),
                              lambda g: dict(text=f"User-agent: *\nAllow: /\n\nSitemap: {absolute(urls.SITEMAP_URL)}\n")))
        return plans
