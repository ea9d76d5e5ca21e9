"""Render the site's pages with Jinja2 (autoescape, StrictUndefined) into an OutputSet."""

from __future__ import annotations

import traceback
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jinja2

from sitegen import __version__
from sitegen.config import SiteConfig
from sitegen.entities import KIND_LABELS
from sitegen.errors import TemplateError
from sitegen.model import Article, Entity, Week, WeekId
from sitegen.output import OutputSet
from sitegen.text import short_hash

CIRCLED = "①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳"
NAV = (("首页", "/"), ("要闻回顾", "/weeks/"), ("人物", "/entities/person/"), ("机构", "/entities/org/"),
       ("地点", "/entities/place/"), ("搜索", "/search/"))


def cn_date(value: date) -> str:
    """``2025年2月21日``."""
    return f"{value.year}年{value.month}月{value.day}日"


def cn_month_day(value: date) -> str:
    """``2月21日``."""
    return f"{value.month}月{value.day}日"


def circled(number: int) -> str:
    """①…⑳ for 1–20, ``(21)`` beyond."""
    return CIRCLED[number - 1] if 1 <= number <= len(CIRCLED) else f"({number})"


def week_label(week: WeekId) -> str:
    """``2025年第8周``."""
    return f"{week.year}年第{week.week}周"


def week_range(week: WeekId) -> str:
    """``2025年2月17日—2月23日`` (year repeated only when it changes)."""
    start, end = week.monday, week.sunday
    tail = cn_date(end) if end.year != start.year else cn_month_day(end)
    return f"{cn_date(start)}—{tail}"


@dataclass(frozen=True)
class Assets:
    """Static files with content-hashed names for the stylesheet and scripts."""

    urls: dict[str, str]

    def __call__(self, name: str) -> str:
        return self.urls[name]


def collect_static(root: Path, outputs: OutputSet) -> Assets:
    """Copy ``static/`` into the output with a content hash in every file name, so the
    published files can be cached forever (``/static/style.<hash>.css``)."""
    urls: dict[str, str] = {}
    static = root / "static"
    if static.is_dir():
        for path in sorted(p for p in static.rglob("*") if p.is_file() and not p.name.startswith(".")):
            rel = path.relative_to(static).as_posix()
            data = path.read_bytes()
            stem = rel[: -len(path.suffix)] if path.suffix else rel
            out_name = f"{stem}.{short_hash(data.hex(), 10)}{path.suffix}"
            outputs.add(f"static/{out_name}", data, str(path))
            urls[rel] = f"/static/{quote(out_name)}"
    return Assets(urls)


class Renderer:
    """A Jinja2 environment over ``templates/`` with the site's filters and globals."""

    def __init__(self, root: Path, config: SiteConfig, assets: Assets) -> None:
        self.templates_dir = root / "templates"
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(str(self.templates_dir)),
            autoescape=jinja2.select_autoescape(["html", "xml"], default_for_string=True, default=True),
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
        )
        self.env.filters.update(
            cn_date=cn_date, cn_month_day=cn_month_day, circled=circled, week_label=week_label,
            week_range=week_range, absolute=self.absolute, kind_label=lambda k: KIND_LABELS[k],
        )
        self.env.globals.update(site=config, nav=NAV, asset=assets, kind_labels=KIND_LABELS,
                                generator=f"sitegen {__version__}")
        self.config = config

    def absolute(self, path: str) -> str:
        """An absolute URL for a site path (for feeds, sitemap, canonical links)."""
        return self.config.base_url.rstrip("/") + path

    def render(self, template: str, **context: Any) -> str:
        """Render ``template``; any failure becomes a TemplateError naming template and line."""
        try:
            return self.env.get_template(template).render(**context)
        except jinja2.TemplateSyntaxError as exc:
            raise TemplateError(exc.message or "syntax error", self.templates_dir / (exc.name or template), exc.lineno) from None
        except jinja2.TemplateNotFound as exc:
            raise TemplateError(f"template not found: {exc.name}", self.templates_dir / template) from None
        except Exception as exc:  # noqa: BLE001 - any error inside a template is a template error
            name, line = self._template_frame(exc)
            raise TemplateError(f"{type(exc).__name__}: {exc}", self.templates_dir / (name or template), line) from None

    def _template_frame(self, exc: BaseException) -> tuple[str | None, int | None]:
        found: tuple[str | None, int | None] = (None, None)
        for frame in traceback.extract_tb(exc.__traceback__):
            path = Path(frame.filename)
            try:
                path.relative_to(self.templates_dir)
            except ValueError:
                continue
            found = (path.relative_to(self.templates_dir).as_posix(), frame.lineno)
        return found


def render_site(renderer: Renderer, outputs: OutputSet, articles: list[Article], weeks: list[Week],
                entities: dict[tuple[str, str], Entity], related: dict[str, tuple[Article, ...]]) -> None:
    """Every page of the site into ``outputs``."""
    config = renderer.config
    week_by_id = {w.id: w for w in weeks}
    newest = sorted(articles, key=lambda a: (-a.date.toordinal(), a.title, a.slug))
    for article in articles:
        page_entities = [entities[ref.key] for ref in article.entities if ref.key in entities]
        outputs.add(
            f"articles/{article.slug}/index.html",
            renderer.render("article.html", article=article, entities=page_entities,
                            week=week_by_id[article.week], related=related.get(article.slug, ()),
                            page_url=article.url),
            str(article.source_path),
        )
    for week in weeks:
        outputs.add(f"weeks/{week.id.slug}/index.html",
                    renderer.render("week.html", week=week, page_url=week.id.url), f"digest {week.id.slug}")
    outputs.add("weeks/index.html", renderer.render("weeks.html", weeks=list(reversed(weeks)), page_url="/weeks/"), "digest archive")
    by_kind: dict[str, list[Entity]] = {kind: [] for kind in KIND_LABELS}
    for entity in entities.values():
        by_kind[entity.kind].append(entity)
    for kind in by_kind:
        by_kind[kind].sort(key=lambda e: (-len(e.articles), -e.mentions, e.name))
    for entity in entities.values():
        weeks_of = sorted({a.week for a in entity.articles}, reverse=True)
        grouped = [(w, [a for a in entity.articles if a.week == w]) for w in weeks_of]
        outputs.add(f"entities/{entity.kind}/{entity.slug}/index.html",
                    renderer.render("entity.html", entity=entity, grouped=grouped, page_url=entity.url),
                    f"entity {entity.kind}:{entity.name}")
        outputs.add(f"entities/{entity.kind}/{entity.slug}/feed.xml",
                    renderer.render("feed.xml", feed_title=f"{entity.name} · {config.title}",
                                    feed_url=f"{entity.url}feed.xml", page_url=entity.url,
                                    entries=list(entity.articles[: config.feed_size])),
                    f"entity feed {entity.kind}:{entity.name}")
    for kind, items in by_kind.items():
        outputs.add(f"entities/{kind}/index.html",
                    renderer.render("entities.html", kind=kind, by_kind=by_kind, page_url=f"/entities/{kind}/"),
                    f"entity index {kind}")
    outputs.add("entities/index.html",
                renderer.render("entities.html", kind=None, by_kind=by_kind, page_url="/entities/"), "entity index")
    # the newest digest whose dates are known: a week holding only items whose year had to be
    # guessed (date_uncertain) should not lead the home page
    dated_weeks = [w for w in weeks if any(not a.date_uncertain for a in w.articles)]
    latest = dated_weeks[-1] if dated_weeks else (weeks[-1] if weeks else None)
    outputs.add("index.html", renderer.render("index.html", latest=latest, recent=newest[: config.home_recent],
                                              page_url="/"), "home page")
    outputs.add("search/index.html", renderer.render("search.html", page_url="/search/"), "search page")
    outputs.add("404.html", renderer.render("404.html", page_url="/404.html"), "404 page")
    outputs.add("feed.xml", renderer.render("feed.xml", feed_title=config.title, feed_url="/feed.xml", page_url="/",
                                            entries=newest[: config.feed_size]), "feed")
    outputs.add("weeks/feed.xml", renderer.render("weeks_feed.xml", weeks=list(reversed(weeks))[: config.feed_size]),
                "digest feed")
    sitemap_urls = ["/", "/weeks/", "/entities/", "/search/"]
    sitemap_urls += [f"/entities/{k}/" for k in KIND_LABELS]
    sitemap_urls += [a.url for a in newest] + [w.id.url for w in reversed(weeks)]
    sitemap_urls += [e.url for e in sorted(entities.values(), key=lambda e: (e.kind, e.slug))]
    lastmod = {a.url: a.date for a in articles} | {w.id.url: max(a.date for a in w.articles) for w in weeks}
    outputs.add("sitemap.xml", renderer.render("sitemap.xml", urls=sitemap_urls, lastmod=lastmod), "sitemap")
    outputs.add("robots.txt", f"User-agent: *\nAllow: /\n\nSitemap: {renderer.absolute('/sitemap.xml')}\n", "robots.txt")
