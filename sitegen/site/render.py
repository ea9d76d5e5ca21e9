"""Render the site's pages with Jinja2 (autoescape, StrictUndefined) into an OutputSet."""

from __future__ import annotations

import traceback
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote

import jinja2
import jinja2.meta

from sitegen import __version__
from sitegen.config import SiteConfig
from sitegen.entities import KIND_LABELS
from sitegen.errors import TemplateError
from sitegen.model import WeekId
from sitegen.output import OutputSet
from sitegen.text import content_hash, short_hash

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


def lookup_files(folders: Iterable[Path]) -> dict[str, Path]:
    """The files of ``folders`` by their path inside them, the first folder holding a name
    winning (a site's own file over the theme's); hidden files are left out."""
    found: dict[str, Path] = {}
    for folder in folders:
        if folder.is_dir():
            for path in sorted(folder.rglob("*")):
                if path.is_file() and not path.name.startswith("."):
                    found.setdefault(path.relative_to(folder).as_posix(), path)
    return dict(sorted(found.items()))


def collect_static(folders: Iterable[Path], outputs: OutputSet, hashed: bool = True) -> Assets:
    """Copy the static files (the site's own over the theme's) into the output with a content
    hash in every file name, so the published files can be cached forever
    (``/static/style.<hash>.css``). Unhashed names (``hashed=False``) are for the live
    preview: a stylesheet edit then changes no page."""
    urls: dict[str, str] = {}
    for rel, path in lookup_files(folders).items():
        data = path.read_bytes()
        stem = rel[: -len(path.suffix)] if path.suffix else rel
        out_name = f"{stem}.{short_hash(data.hex(), 10)}{path.suffix}" if hashed else rel
        outputs.add(f"static/{out_name}", data, str(path))
        urls[rel] = f"/static/{quote(out_name)}"
    return Assets(urls)


class Renderer:
    """A Jinja2 environment over the template folders (the site's own, then the theme's)
    with the site's filters and globals."""

    def __init__(self, template_folders: tuple[Path, ...], config: SiteConfig, assets: Assets) -> None:
        self.template_folders = template_folders
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader([str(folder) for folder in template_folders]),
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

    def set_assets(self, assets: Assets) -> None:
        """Use new static file URLs (after a static file changed)."""
        self.env.globals["asset"] = assets

    def absolute(self, path: str) -> str:
        """An absolute URL for a site path (for feeds, sitemap, canonical links)."""
        return self.config.base_url.rstrip("/") + path

    def render(self, template: str, **context: Any) -> str:
        """Render ``template``; any failure becomes a TemplateError naming template and line."""
        try:
            return self.env.get_template(template).render(**context)
        except jinja2.TemplateSyntaxError as exc:
            source = Path(exc.filename) if exc.filename else self.template_path(exc.name or template)
            raise TemplateError(exc.message or "syntax error", source, exc.lineno) from None
        except jinja2.TemplateNotFound as exc:
            raise TemplateError(f"template not found: {exc.name}", self.template_path(template)) from None
        except Exception as exc:  # noqa: BLE001 - any error inside a template is a template error
            frame, line = self._template_frame(exc)
            raise TemplateError(f"{type(exc).__name__}: {exc}", frame or self.template_path(template), line) from None

    def template_path(self, name: str) -> Path:
        """The file template ``name`` is read from (the site's own when it has one)."""
        for folder in self.template_folders:
            if (folder / name).is_file():
                return folder / name
        return self.template_folders[0] / name

    def _template_frame(self, exc: BaseException) -> tuple[Path | None, int | None]:
        """The innermost template file and line in ``exc``'s traceback."""
        found: tuple[Path | None, int | None] = (None, None)
        for frame in traceback.extract_tb(exc.__traceback__):
            path = Path(frame.filename)
            if any(path.is_relative_to(folder) for folder in self.template_folders):
                found = (path, frame.lineno)
        return found


class TemplateSet:
    """The site's templates as last read: which changed since (:meth:`changed`), and which
    pages a change reaches (:meth:`pages_using`: a page depends on its template and every
    template that one extends, imports or includes). A template is the file its name finds
    first (the site's own over the theme's), so adding or removing an override is a change."""

    def __init__(self) -> None:
        self._digests: dict[str, str] = {}
        self.closure: dict[str, frozenset[str]] = {}

    def changed(self, folders: tuple[Path, ...]) -> set[str]:
        """Template names whose text in ``folders`` (the lookup order) changed, appeared or
        vanished since the last call."""
        current = {name: content_hash(path.read_bytes()) for name, path in lookup_files(folders).items()}
        changed = {n for n in current.keys() | self._digests.keys() if current.get(n) != self._digests.get(n)}
        self._digests = current
        return changed

    @property
    def digests(self) -> dict[str, str]:
        """Each template's digest, as last read by :meth:`changed`."""
        return dict(self._digests)

    def read_closure(self, renderer: Renderer) -> None:
        """Record, for every template, itself and every template it extends, imports or includes."""
        self.closure = template_closure(renderer)

    def pages_using(self, changed: set[str], plans: Iterable[PagePlanLike]) -> set[str]:
        """The output paths of ``plans`` whose template reaches a template in ``changed``."""
        if not changed:
            return set()
        closure = self.closure
        return {plan.relpath for plan in plans if plan.template is not None and
                (plan.template not in closure or not closure[plan.template].isdisjoint(changed))}


class PagePlanLike(Protocol):
    """What :meth:`TemplateSet.pages_using` reads of a page plan."""

    @property
    def relpath(self) -> str: ...

    @property
    def template(self) -> str | None: ...


def template_closure(renderer: Renderer) -> dict[str, frozenset[str]]:
    """For every template, itself and every template it extends, imports or includes."""
    direct: dict[str, set[str]] = {}
    loader = renderer.env.loader
    assert loader is not None
    for name in renderer.env.list_templates():
        try:
            source, _, _ = loader.get_source(renderer.env, name)
            refs = jinja2.meta.find_referenced_templates(renderer.env.parse(source))
            direct[name] = {r for r in refs if r}
        except jinja2.TemplateSyntaxError:
            direct[name] = set()  # reported when the template is rendered
    closure: dict[str, frozenset[str]] = {}

    def walk(name: str, seen: set[str]) -> None:
        if name in seen:
            return
        seen.add(name)
        for ref in direct.get(name, ()):
            walk(ref, seen)

    for name in direct:
        seen: set[str] = set()
        walk(name, seen)
        closure[name] = frozenset(seen)
    return closure
