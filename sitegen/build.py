"""``sitegen build``: discover → load (clean front matter, Markdown, entities) → group
(weeks, entity pages, related) → render → write (atomic swap) → index (Pagefind)."""

from __future__ import annotations

import os
import re
import shutil
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

from sitegen.config import load_config
from sitegen.content import EntityCache, PageData, discover_pages, make_article, read_page
from sitegen.entities import EntityCatalog, Extractor, load_entity_data
from sitegen.errors import ContentError, Diagnostics, SitegenError, UsageError
from sitegen.group import build_entities, build_weeks, related_articles
from sitegen.model import Article
from sitegen.output import OutputSet, write_site
from sitegen.render import Renderer, collect_static, render_site
from sitegen.search import build_index
from sitegen.text import content_hash

CACHE_DIR = ".sitegen-cache"
ENTITY_DATA = Path("_data") / "entities.yaml"


@dataclass(frozen=True)
class BuildOptions:
    """What to build and how."""

    root: Path = Path(".")
    out: Path = Path("public")
    base_url: str | None = None
    search: bool = True
    drafts: bool = False
    strict: bool = False
    background_search: bool = False
    """Keep the previous search bundle in the new output and leave indexing to the caller
    (``serve`` re-indexes in a background thread so the reload does not wait)."""
    record_digests: bool = False
    """Digest every output file (``serve`` compares them to reload only changed pages)."""


@dataclass
class BuildResult:
    """Counts and timings of one build."""

    out: Path
    files: int = 0
    articles: int = 0
    weeks: int = 0
    entities: int = 0
    seconds: float = 0.0
    search: str = "search index: skipped"
    warnings: list[str] = field(default_factory=list)
    digests: dict[str, str] = field(default_factory=dict)  # output path -> content digest
    assets: dict[str, str] = field(default_factory=dict)  # static name -> hashed URL

    def summary(self) -> str:
        """One line for the console."""
        return (f"built {self.out}: {self.files} files, {self.articles} articles, {self.weeks} weekly digests, "
                f"{self.entities} entity pages; {self.search}; {len(self.warnings)} warning(s) in {self.seconds:.1f}s")


def load_articles(root: Path, catalog: EntityCatalog, diagnostics: Diagnostics, drafts: bool,
                  summary_chars: int) -> list[Article]:
    """Every page under ``content/``; all content errors are gathered and raised together."""
    content = root / "content"
    pages: list[PageData] = []
    errors: list[SitegenError] = []
    slugs: dict[str, Path] = {}
    for path in discover_pages(content):
        try:
            page = read_page(path, diagnostics, summary_chars)
        except ContentError as exc:
            errors.append(exc)
            continue
        slug = page.fields["slug"]
        if slug in slugs:
            errors.append(ContentError(f"slug '{slug}' is already used by {slugs[slug]}", path))
            continue
        slugs[slug] = path
        if page.fields["draft"] and not drafts:
            continue
        pages.append(page)
    if errors:
        if len(errors) == 1:
            raise errors[0]
        raise ContentError(f"{len(errors)} content errors:\n  " + "\n  ".join(str(e) for e in errors))
    cache = EntityCache(root / CACHE_DIR, entity_fingerprint(catalog))
    cache.fill([p.entity_text for p in pages], lambda: Extractor(catalog.data))
    cache.save()
    return [make_article(page, catalog, cache) for page in pages]


def entity_fingerprint(catalog: EntityCatalog) -> str:
    """Changes when the entity data or the tagger changes: the cache key prefix."""
    from importlib import resources

    from sitegen.entities.extract import EXTRACTOR_VERSION

    model = resources.files("sitegen").joinpath("data/ner-model.npz").read_bytes()
    return content_hash(catalog.data.fingerprint + content_hash(model) + EXTRACTOR_VERSION)[:16]


_HASHED_ASSET = re.compile(rb"(/static/[^\"'\s]+?)\.[0-9a-f]{10}(\.\w+)")


def output_digests(outputs: OutputSet) -> dict[str, str]:
    """A digest per output file; HTML is digested with asset hashes removed, so a CSS edit
    marks only the stylesheet as changed, not every page that links it."""
    digests = {}
    for relpath, data in outputs.files.items():
        if relpath.endswith(".html"):
            data = _HASHED_ASSET.sub(rb"\1\2", data)
        digests[relpath] = content_hash(data)
    return digests


def review_entities(root: Path, diagnostics: Diagnostics) -> list[dict[str, object]]:
    """Every entity named by the articles, most named first, for ``sitegen entities``."""
    if not (root / "content").is_dir():
        raise UsageError(f"no content/ folder in {root.resolve()}")
    config = load_config(root)
    catalog = EntityCatalog(load_entity_data(root / "content" / ENTITY_DATA))
    articles = load_articles(root, catalog, diagnostics, False, config.summary_chars)
    everything = build_entities(articles, catalog, replace(config, entity_min_articles=1))
    rows = []
    for entity in sorted(everything.values(), key=lambda e: (-len(e.articles), -e.mentions, e.kind, e.name)):
        rows.append({"kind": entity.kind, "name": entity.name, "articles": len(entity.articles),
                     "mentions": entity.mentions, "aliases": list(entity.aliases),
                     "roles": [role for role, _, _ in entity.roles],
                     "has_page": len(entity.articles) >= config.entity_min_articles,
                     "url": entity.url})
    return rows


def build_site(options: BuildOptions, diagnostics: Diagnostics) -> BuildResult:
    """Build the whole site into ``options.out``; the previous output survives any failure."""
    started = time.perf_counter()
    root = options.root
    for needed in ("content", "templates"):
        if not (root / needed).is_dir():
            raise UsageError(f"no {needed}/ folder in {root.resolve()} (run sitegen from the site root or pass --root)")
    config = load_config(root).with_base_url(options.base_url)
    catalog = EntityCatalog(load_entity_data(root / "content" / ENTITY_DATA))
    articles = load_articles(root, catalog, diagnostics, options.drafts, config.summary_chars)
    if not articles:
        diagnostics.warn("no articles found in content/", root / "content")
    entities = build_entities(articles, catalog, config)
    weeks = build_weeks(articles, entities, config)
    related = related_articles(articles, entities, config.related_articles)
    outputs = OutputSet()
    assets = collect_static(root, outputs)
    renderer = Renderer(root, config, assets)
    render_site(renderer, outputs, articles, weeks, entities, related)
    diagnostics.raise_if_strict(options.strict)
    result = BuildResult(options.out, files=len(outputs), articles=len(articles), weeks=len(weeks), entities=len(entities))

    searchable = [(p, d) for p, d in sorted(outputs.files.items()) if p.endswith(".html") and b"data-pagefind-body" in d]

    def index(staging: Path) -> None:
        result.search = build_index(searchable, staging / "pagefind")

    def keep_previous_index(staging: Path) -> None:
        previous = options.out / "pagefind"
        if previous.is_dir():
            shutil.copytree(previous, staging / "pagefind", copy_function=os.link)
        result.search = "search index: updating in the background"

    if options.background_search:
        post = keep_previous_index
    else:
        post = index if options.search else None
    if options.record_digests:
        result.digests = output_digests(outputs)
        result.assets = dict(assets.urls)
    write_site(outputs, options.out, root, post=post)
    result.seconds = time.perf_counter() - started
    result.warnings = list(diagnostics.warnings)
    return result
