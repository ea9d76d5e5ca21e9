"""Group articles: weekly digests, entity pages, related articles. Pure functions over the
model; every ordering has an explicit sort key so output is deterministic."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter, defaultdict
from dataclasses import replace
from itertools import combinations

from sitegen.config import SiteConfig
from sitegen.entities import EntityCatalog
from sitegen.model import Article, Entity, Week, WeekId
from sitegen.text import short_hash

_NOT_SLUG = re.compile(r"[^a-z0-9]+")


def importance_key(article: Article) -> tuple:
    """Digest order: weight, then sources, then entities named, then newest, then title."""
    return (-article.weight, -article.source_count, -len(article.entities), -article.date.toordinal(), article.title, article.slug)


def newest_first(article: Article) -> tuple:
    """Chronological order, newest first, stable."""
    return (-article.date.toordinal(), article.title, article.slug)


def entity_slug(name: str) -> str:
    """An ASCII, path-safe slug from the name's pinyin: 王凯 → ``wang-kai``.

    ASCII keeps URLs short when shared and readable by every tool (some link checkers and
    servers mishandle raw non-ASCII paths)."""
    from pypinyin import lazy_pinyin

    syllables = lazy_pinyin(unicodedata.normalize("NFKC", name), errors="default")
    slug = _NOT_SLUG.sub("-", "-".join(syllables).lower()).strip("-")
    return slug[:80].rstrip("-") or "entity"


def build_entities(articles: list[Article], catalog: EntityCatalog, config: SiteConfig) -> dict[tuple[str, str], Entity]:
    """Entities that name at least ``entity_min_articles`` articles, with co-occurrences."""
    by_key: dict[tuple[str, str], list[Article]] = defaultdict(list)
    mentions: Counter[tuple[str, str]] = Counter()
    for article in articles:
        for ref in article.entities:
            by_key[ref.key].append(article)
            mentions[ref.key] += ref.mentions
    entities: dict[tuple[str, str], Entity] = {}
    kept = sorted(key for key, arts in by_key.items() if len(arts) >= config.entity_min_articles)
    slug_users: Counter[tuple[str, str]] = Counter((kind, entity_slug(name)) for kind, name in kept)
    for key in kept:
        arts = by_key[key]
        kind, name = key
        slug = entity_slug(name)
        if slug_users[(kind, slug)] > 1:  # 王凯 and 王恺 are both wang-kai: tell them apart by name
            slug = f"{slug}-{short_hash(name, 6)}"
        entities[key] = Entity(
            kind=kind,
            name=name,
            slug=slug,
            aliases=tuple(catalog.aliases_of(name)),
            description=catalog.data.descriptions.get(name),
            articles=tuple(sorted(arts, key=newest_first)),
            mentions=mentions[key],
        )
    role_dates: dict[str, dict[str, list]] = defaultdict(dict)
    for article in articles:
        for person, role in article.roles:
            seen = role_dates[person].setdefault(role, [article.date, article.date])
            seen[0], seen[1] = min(seen[0], article.date), max(seen[1], article.date)
    for key, entity in list(entities.items()):
        if entity.kind == "person" and entity.name in role_dates:
            ranked_roles = sorted(role_dates[entity.name].items(), key=lambda kv: (-kv[1][1].toordinal(), kv[0]))
            entities[key] = replace(entity, roles=tuple((role, first, last) for role, (first, last) in ranked_roles))
    together: dict[tuple[str, str], Counter[tuple[str, str]]] = defaultdict(Counter)
    for article in articles:
        keys = sorted({ref.key for ref in article.entities if ref.key in entities})
        for a, b in combinations(keys, 2):
            together[a][b] += 1
            together[b][a] += 1
    for key, entity in list(entities.items()):
        ranked = sorted(together[key].items(), key=lambda kv: (-kv[1], kv[0]))[:12]
        entities[key] = replace(entity, related=tuple((entities[k], n) for k, n in ranked))
    # related entities point at the versions without their own related lists: fine for links
    return entities


def build_weeks(articles: list[Article], entities: dict[tuple[str, str], Entity], config: SiteConfig) -> list[Week]:
    """One digest per ISO week that has articles, oldest first."""
    by_week: dict[WeekId, list[Article]] = defaultdict(list)
    for article in articles:
        by_week[article.week].append(article)
    ids = sorted(by_week)
    weeks = []
    for index, week_id in enumerate(ids):
        ranked = sorted(by_week[week_id], key=importance_key)
        counts: Counter[tuple[str, str]] = Counter()
        for article in ranked:
            for ref in article.entities:
                if ref.key in entities:
                    counts[ref.key] += 1
        top_entities = tuple((entities[k], n) for k, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:12])
        weeks.append(
            Week(
                id=week_id,
                top=tuple(ranked[: config.digest_size]),
                others=tuple(ranked[config.digest_size :]),
                previous=ids[index - 1] if index > 0 else None,
                next=ids[index + 1] if index + 1 < len(ids) else None,
                top_entities=top_entities,
            )
        )
    return weeks


def related_articles(articles: list[Article], entities: dict[tuple[str, str], Entity], limit: int) -> dict[str, tuple[Article, ...]]:
    """For each article, others sharing the most entities (ties: newest first)."""
    by_entity: dict[tuple[str, str], list[Article]] = defaultdict(list)
    for article in articles:
        for ref in article.entities:
            if ref.key in entities:
                by_entity[ref.key].append(article)
    related: dict[str, tuple[Article, ...]] = {}
    for article in articles:
        scores: Counter[str] = Counter()
        lookup: dict[str, Article] = {}
        for ref in article.entities:
            others = by_entity.get(ref.key, [])
            if len(others) > 200:  # a name in everything says nothing about relatedness
                continue
            for other in others:
                if other.slug != article.slug:
                    scores[other.slug] += 1
                    lookup[other.slug] = other
        ranked = sorted(scores, key=lambda s: (-scores[s], newest_first(lookup[s])))
        related[article.slug] = tuple(lookup[s] for s in ranked[:limit])
    return related
