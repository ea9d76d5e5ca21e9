"""Group articles: weekly digests, entity pages, related articles.

:class:`Grouping` holds the indexes the groups are computed from and updates them when
articles change: a live-preview edit of one article recomputes only the entities it names
(before and after), its weeks and the related lists it can enter or leave, instead of the
whole site. A full build is the same code with every article changed. Every ordering has
an explicit sort key, so the result is the same whichever way it was reached (a test
checks incremental updates against fresh groupings).
"""

from __future__ import annotations

import heapq
import re
import unicodedata
from bisect import bisect_left, insort
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache

from sitegen.config import SiteConfig
from sitegen.entities import EntityCatalog
from sitegen.model import Article, Entity, EntityLink, Week, WeekId
from sitegen.text import short_hash

_NOT_SLUG = re.compile(r"[^a-z0-9]+")
RELATED_ENTITY_LIMIT = 12
TOP_ENTITIES_PER_WEEK = 12
RELATED_MAX_MEMBERS = 200
"""An entity named by more articles than this says nothing about relatedness."""
BIG_ENTITY = 100
"""Entities named by this many articles keep their co-occurrence counts between updates."""
_MAX_SCORE = 1 << 20
_SCORE_BASE = 1 << 24  # packs (score, rank) into one int for fast top-k selection

EntityKey = tuple[str, str]


def _ordinal(article: Article) -> int:
    return article.date.toordinal() if article.date is not None else 0


ImportanceKey = tuple[int, int, int, int, str, str]
NewestKey = tuple[int, str, str]


def importance_key(article: Article) -> ImportanceKey:
    """Digest order: weight, then sources, then entities named, then newest, then title."""
    return (-article.weight, -article.source_count, -len(article.entities), -_ordinal(article), article.title, article.slug)


def newest_first(article: Article) -> NewestKey:
    """Chronological order, newest first, stable; undated articles last."""
    return (-_ordinal(article), article.title, article.slug)


@lru_cache(maxsize=65536)
def entity_slug(name: str) -> str:
    """An ASCII, path-safe slug from the name's pinyin: 王凯 → ``wang-kai``.

    ASCII keeps URLs short when shared and readable by every tool (some link checkers and
    servers mishandle raw non-ASCII paths)."""
    from pypinyin import lazy_pinyin

    syllables = lazy_pinyin(unicodedata.normalize("NFKC", name), errors="default")
    slug = _NOT_SLUG.sub("-", "-".join(syllables).lower()).strip("-")
    return slug[:80].rstrip("-") or "entity"


@dataclass
class Touched:
    """What the last :meth:`Grouping.update` recomputed (or removed)."""

    full: bool = True
    articles: set[str] = field(default_factory=set)  # changed, added or removed paths
    related: set[str] = field(default_factory=set)  # paths whose related list was recomputed
    entities: set[EntityKey] = field(default_factory=set)  # rebuilt or removed
    weeks: set[WeekId] = field(default_factory=set)  # rebuilt or removed
    old_slugs: dict[str, str] = field(default_factory=dict)  # path -> slug before the update


class Grouping:
    """The site's groups (entities with pages, weekly digests, related articles) over a set
    of articles keyed by source path, kept up to date by :meth:`update`."""

    def __init__(self, config: SiteConfig, catalog: EntityCatalog) -> None:
        self.config = config
        self.catalog = catalog
        self.articles: dict[str, Article] = {}
        self.members: dict[EntityKey, dict[str, Article]] = defaultdict(dict)  # every named entity
        self.mentions: Counter[EntityKey] = Counter()
        self.role_members: dict[str, set[str]] = defaultdict(set)  # person -> paths giving a role
        self.by_week: dict[WeekId, set[str]] = defaultdict(set)
        self.undated: set[str] = set()  # paths of the articles whose page gives no date
        self.slugs: dict[EntityKey, str] = {}  # entities with a page
        self._slug_users: dict[tuple[str, str], set[EntityKey]] = {}  # (kind, entity_slug) -> keys in slugs
        self.entities: dict[EntityKey, Entity] = {}
        self.weeks: dict[WeekId, Week] = {}
        self.related: dict[str, tuple[Article, ...]] = {}  # by slug
        self._related_paths: dict[str, tuple[str, ...]] = {}  # path -> related paths
        self._related_of: dict[str, list[str]] = {}  # path -> paths listing it as related (lists: at 100,000
        # items 76,306 sets took 34 MB, lists 9)
        self._related_scores: dict[str, tuple[int, ...]] = {}  # path -> shared-entity counts of its list
        self._together: dict[EntityKey, Counter[EntityKey]] = {}  # co-occurrences, kept for big entities
        self._newest: list[tuple[NewestKey, str]] = []  # (newest_first key, path), sorted
        self._member_order: dict[EntityKey, list[tuple[NewestKey, str]]] = {}  # each entity's, newest first
        self._entry: dict[str, tuple[NewestKey, str]] = {}  # path -> its entry in the lists above (one object
        # for every list: 24,000 items make 200,000 entity memberships)
        self.touched = Touched()
        self._bulk = False

    # -- kept between builds ----------------------------------------------------------------
    def kept(self) -> dict[str, object]:
        """The grouping without its settings and entity data: what a later process resumes
        from (:meth:`resumed`)."""
        return {name: value for name, value in vars(self).items() if name not in ("config", "catalog")}

    @classmethod
    def resumed(cls, config: SiteConfig, catalog: EntityCatalog, kept: dict[str, object]) -> Grouping:
        """The grouping :meth:`kept` was made from, with the same settings and entity data:
        its next :meth:`update` recomputes only what the changed articles affect."""
        grouping = cls(config, catalog)
        grouping.__dict__.update(kept)
        grouping.touched = Touched(full=False)
        return grouping

    # -- the index -------------------------------------------------------------------------
    def _index(self, path: str, article: Article, sign: int) -> None:
        week = self.by_week[article.week] if article.week is not None else self.undated
        if sign > 0:
            entry = self._entry[path] = (newest_first(article), path)
            self.articles[path] = article
            week.add(path)
            if not self._bulk:
                insort(self._newest, entry)
        else:
            entry = self._entry.pop(path)  # made from the article now leaving
            del self.articles[path]
            week.discard(path)
            if not self._bulk:
                del self._newest[bisect_left(self._newest, entry)]
            if not week and article.week is not None:
                del self.by_week[article.week]
        keys = [r.key for r in article.entities]
        for key in keys:
            together = self._together.get(key)
            if together is not None:
                together.update({k: sign for k in keys})
            order = None if self._bulk else self._member_order.get(key)
            if order is not None:
                if sign > 0:
                    insort(order, entry)
                else:
                    del order[bisect_left(order, entry)]
        for ref in article.entities:
            if sign > 0:
                self.members[ref.key][path] = article
            else:
                members = self.members[ref.key]
                members.pop(path, None)
                if not members:
                    del self.members[ref.key]
                    self._member_order.pop(ref.key, None)
            self.mentions[ref.key] += sign * ref.mentions
            if self.mentions[ref.key] <= 0:
                del self.mentions[ref.key]
        for person, _ in article.roles:
            if sign > 0:
                self.role_members[person].add(path)
            else:
                self.role_members[person].discard(path)
                if not self.role_members[person]:
                    del self.role_members[person]

    def _kept(self, key: EntityKey) -> bool:
        members = self.members.get(key)
        return members is not None and len(members) > 0 and len(members) >= self.config.entity_min_articles

    def _qualifies(self, key: EntityKey) -> bool:
        """Counts towards relatedness: has a page and is not named everywhere."""
        return key in self.slugs and len(self.members[key]) <= RELATED_MAX_MEMBERS

    # -- update ----------------------------------------------------------------------------
    def update(self, changes: Mapping[str, Article | None]) -> None:
        """Apply changed articles (``None``: removed) and recompute what they affect."""
        full = not self.articles or len(changes) * 4 > len(self.articles)
        quick: set[str] = set()
        if not full:
            # a body-only edit: nothing grouping looks at changed (lists show the card, which
            # is equal), so the new version just takes the old one's place
            for path, article in changes.items():
                previous = self.articles.get(path)
                if article is not None and previous is not None and previous.card() == article.card():
                    self.articles[path] = article
                    for ref in article.entities:
                        self.members[ref.key][path] = article
                    quick.add(path)
            changes = {p: a for p, a in changes.items() if p not in quick}
            if not changes:
                self.touched = Touched(False, quick, old_slugs={p: self.articles[p].slug for p in quick})
                return
        self._bulk = full
        old = {p: self.articles[p] for p in changes if p in self.articles}
        old_quals = {r.key: self._qualifies(r.key) for a in (*old.values(), *(a for a in changes.values() if a))
                     for r in a.entities}
        for path, article in old.items():
            self._index(path, article, -1)
        for path, article in changes.items():
            if article is not None:
                self._index(path, article, +1)
        new = {p: a for p, a in changes.items() if a is not None}
        if full:
            self._newest = sorted(self._entry.values())
            self._member_order.clear()
        touched = self.touched = Touched(full, set(changes) | quick, old_slugs={
            **{p: self.articles[p].slug for p in quick}, **{p: a.slug for p, a in old.items()}})

        touched_keys = {r.key for a in (*old.values(), *new.values()) for r in a.entities}
        link_changed = self._update_slugs(None if full else touched_keys)
        # entities whose page changes: named by a changed article, or linked to an entity
        # that gained or lost its page or slug (their related lists hold links)
        if full:
            entity_keys: set[EntityKey] = set(self.slugs)
        else:
            entity_keys = {k for k in touched_keys | link_changed if k in self.slugs}
            for key in link_changed:
                for article in self.members.get(key, {}).values():
                    entity_keys.update(r.key for r in article.entities if r.key in self.slugs)
        for key in ([k for k in self.entities if k not in self.slugs] if full else
                    [k for k in link_changed if k in self.entities and k not in self.slugs]):
            del self.entities[key]
            touched.entities.add(key)
        self._rebuild_entities(entity_keys)
        touched.entities |= entity_keys

        week_ids = set(self.by_week) if full else {a.week for a in (*old.values(), *new.values()) if a.week}
        for key in link_changed:
            week_ids.update(a.week for a in self.members.get(key, {}).values() if a.week)
        touched.weeks = self._rebuild_weeks(week_ids)

        if full:
            self._related_scores.clear()
            self._related_of.clear()
            self._related_paths.clear()
            self.related.clear()
            self._rebuild_related(sorted(self.articles))
        else:
            self._update_related(old, new, old_quals, link_changed)

    def _update_slugs(self, keys: set[EntityKey] | None) -> set[EntityKey]:
        """Recompute which entities have pages and their slugs; returns the keys whose link
        changed (gained, lost, or moved)."""
        if keys is None:
            keys = set(self.members) | set(self.slugs)
        kept = {k for k in keys if self._kept(k)}
        dropped = {k for k in keys if k in self.slugs and k not in kept}
        added = {k for k in kept if k not in self.slugs}
        if not dropped and not added and self.slugs:
            return set()
        bases: set[tuple[str, str]] = set()
        for key in dropped:
            del self.slugs[key]
            base = (key[0], entity_slug(key[1]))
            self._slug_users[base].discard(key)
            if not self._slug_users[base]:
                del self._slug_users[base]
            bases.add(base)
        for key in added:
            self.slugs[key] = ""
            base = (key[0], entity_slug(key[1]))
            self._slug_users.setdefault(base, set()).add(key)
            bases.add(base)
        # slugs shared by two names (王凯 / 王恺 are both wang-kai) get a hash of the name
        changed = set(dropped)
        for kind, base_slug in bases:
            group = self._slug_users.get((kind, base_slug), set())
            for key in group:
                slug = f"{base_slug}-{short_hash(key[1], 6)}" if len(group) > 1 else base_slug
                if self.slugs[key] != slug:
                    self.slugs[key] = slug
                    changed.add(key)
        return changed

    def _rebuild_entities(self, keys: Iterable[EntityKey]) -> None:
        limit = RELATED_ENTITY_LIMIT
        for key in sorted(keys):
            members = self.members[key]
            kind, name = key
            together = self._together.get(key)
            if together is None:
                together = Counter()
                for article in members.values():
                    together.update(r.key for r in article.entities)
                if len(members) >= BIG_ENTITY:  # named everywhere: keep its counts up to date instead
                    self._together[key] = together
            ranked = heapq.nsmallest(limit, ((-n, k) for k, n in together.items() if n > 0 and k != key and k in self.slugs))
            roles: dict[str, list[date]] = {}
            if kind == "person":
                for path in sorted(self.role_members.get(name, ())):
                    article = self.articles[path]
                    if article.date is None:
                        continue
                    for person, role in article.roles:
                        if person == name:
                            seen = roles.setdefault(role, [article.date, article.date])
                            seen[0], seen[1] = min(seen[0], article.date), max(seen[1], article.date)
            self.entities[key] = Entity(
                kind=kind,
                name=name,
                slug=self.slugs[key],
                aliases=tuple(self.catalog.aliases_of(name)),
                description=self.catalog.data.descriptions.get(name),
                articles=tuple(self.articles[p] for _, p in self._ordered_members(key)),
                mentions=self.mentions[key],
                related=tuple((EntityLink.of(k[0], k[1], self.slugs[k]), -n) for n, k in ranked),
                roles=tuple((role, first, last) for role, (first, last)
                            in sorted(roles.items(), key=lambda kv: (-kv[1][1].toordinal(), kv[0]))),
            )

    def _ordered_members(self, key: EntityKey) -> list[tuple[NewestKey, str]]:
        order = self._member_order.get(key)
        if order is None:
            order = self._member_order[key] = sorted(self._entry[p] for p in self.members[key])
        return order

    def _rebuild_weeks(self, week_ids: set[WeekId]) -> set[WeekId]:
        ids = sorted(self.by_week)
        if list(self.weeks) != ids:  # a week appeared or vanished: neighbours change
            week_ids = set(ids) | set(self.weeks)
            self.weeks = {}
        size = self.config.digest_size
        for index, week_id in enumerate(ids):
            if week_id not in week_ids:
                continue
            ranked = sorted((self.articles[p] for p in self.by_week[week_id]), key=importance_key)
            counts: Counter[EntityKey] = Counter()
            for article in ranked:
                counts.update(r.key for r in article.entities if r.key in self.slugs)
            top = heapq.nsmallest(TOP_ENTITIES_PER_WEEK, ((-n, k) for k, n in counts.items()))
            self.weeks[week_id] = Week(
                id=week_id,
                top=tuple(ranked[:size]),
                others=tuple(ranked[size:]),
                previous=ids[index - 1] if index > 0 else None,
                next=ids[index + 1] if index + 1 < len(ids) else None,
                top_entities=tuple((EntityLink.of(k[0], k[1], self.slugs[k]), -n) for n, k in top),
            )
        self.weeks = {week_id: self.weeks[week_id] for week_id in ids}
        return week_ids

    # -- related articles --------------------------------------------------------------------
    def _qualifying_keys(self, article: Article) -> list[EntityKey]:
        return [r.key for r in article.entities if self._qualifies(r.key)]

    def _rebuild_related(self, paths: Iterable[str]) -> None:
        """Others sharing the most qualifying entities (ties: newest first)."""
        limit = self.config.related_articles
        paths = list(paths)
        articles = self.articles
        if len(paths) > 200:  # many lists: rank every article once, select on packed ints
            order = sorted(articles, key=lambda p: newest_first(articles[p]))
            rank = {p: i for i, p in enumerate(order)}
        for path in paths:
            scores: Counter[str] = Counter()
            for key in self._qualifying_keys(articles[path]):
                scores.update(self.members[key].keys())
            scores.pop(path, None)
            if len(paths) > 200:
                top = _MAX_SCORE * _SCORE_BASE
                packed = heapq.nsmallest(limit, [(_MAX_SCORE - s) * _SCORE_BASE + rank[p] for p, s in scores.items()])
                chosen = tuple(order[v % _SCORE_BASE] for v in packed)
                self._related_scores[path] = tuple((top - v) // _SCORE_BASE for v in packed)
            else:
                best = heapq.nsmallest(limit, scores.items(), key=lambda kv: (-kv[1], newest_first(articles[kv[0]])))
                chosen = tuple(p for p, _ in best)
                self._related_scores[path] = tuple(n for _, n in best)
            self._set_related(path, chosen)

    def _set_related(self, path: str, chosen: tuple[str, ...]) -> None:
        self.touched.related.add(path)
        for other in self._related_paths.get(path, ()):
            self._unlist(other, path)
        self._related_paths[path] = chosen
        for other in chosen:
            self._related_of.setdefault(other, []).append(path)
        self.related[self.articles[path].slug] = tuple(self.articles[p] for p in chosen)

    def _unlist(self, other: str, path: str) -> None:
        """Note that the article at ``path`` no longer lists the one at ``other`` as related."""
        listing = self._related_of.get(other)
        if listing is not None and path in listing:
            listing.remove(path)
            if not listing:
                del self._related_of[other]

    def _update_related(self, old: dict[str, Article], new: dict[str, Article], old_quals: dict[EntityKey, bool],
                        link_changed: set[EntityKey]) -> None:
        limit = self.config.related_articles
        # an article whose entities and sort position did not change (a body edit) keeps its
        # place in every list: those lists only get its new version, nothing is re-ranked
        same = {p for p, a in old.items() if p in new and newest_first(a) == newest_first(new[p])
                and [r.key for r in a.entities] == [r.key for r in new[p].entities]}
        for path in same:
            for other in self._related_of.get(path, ()):
                shown = self._related_paths[other]
                self.related[self.articles[other].slug] = tuple(self.articles[p] for p in shown)
        old = {p: a for p, a in old.items() if p not in same}
        new = {p: a for p, a in new.items() if p not in same}
        redo: set[str] = set(new)
        for path, article in old.items():
            if path not in new:
                self.related.pop(article.slug, None)
                self._related_scores.pop(path, None)
                for other in self._related_paths.pop(path, ()):
                    self._unlist(other, path)
            elif article.slug != new[path].slug:
                self.related.pop(article.slug, None)
        for path in old:
            redo.update(self._related_of.pop(path, ()))  # lists that showed the old version
        # an entity that started or stopped counting changes scores of all its articles
        for key in {*old_quals, *(r.key for a in new.values() for r in a.entities)} | link_changed:
            if old_quals.get(key, False) != self._qualifies(key):
                redo.update(self.members.get(key, {}))
        # a changed article may enter the list of an article sharing an entity with it
        for article in new.values():
            shared: Counter[str] = Counter()
            for key in self._qualifying_keys(article):
                shared.update(self.members[key].keys())
            mine = newest_first(article)
            for other, score in shared.items():
                if other in redo:
                    continue
                shown = self._related_paths.get(other, ())
                if len(shown) < limit:
                    redo.add(other)
                    continue
                last_score = self._related_scores[other][-1]
                if (-score, mine) < (-last_score, newest_first(self.articles[shown[-1]])):
                    redo.add(other)
        self._rebuild_related(sorted(p for p in redo if p in self.articles))

    # -- views -----------------------------------------------------------------------------
    def newest(self, count: int | None = None) -> list[Article]:
        """Articles newest first (the first ``count``)."""
        entries = self._newest if count is None else self._newest[:count]
        return [self.articles[p] for _, p in entries]

    def week_list(self) -> list[Week]:
        """Digests, oldest first."""
        return list(self.weeks.values())

    def undated_list(self) -> list[Article]:
        """The articles whose page gives no date, by title."""
        return sorted((self.articles[p] for p in self.undated), key=newest_first)


def build_entities(articles: list[Article], catalog: EntityCatalog, config: SiteConfig) -> dict[tuple[str, str], Entity]:
    """Entities that name at least ``entity_min_articles`` articles (a fresh grouping)."""
    grouping = Grouping(config, catalog)
    grouping.update({a.source_path: a for a in articles})
    return dict(sorted(grouping.entities.items()))
