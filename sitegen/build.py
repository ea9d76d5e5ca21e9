"""``sitegen build``: discover → load (clean front matter, Markdown, entities) → group
(weeks, entity pages, related) → render → write (atomic swap) → index (Pagefind)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from pathlib import Path

from sitegen.errors import Diagnostics, UsageError
from sitegen.group import build_entities
from sitegen.output import write_site
from sitegen.project import SiteProject
from sitegen.search import build_index


@dataclass(frozen=True)
class BuildOptions:
    """What to build and how."""

    root: Path = Path(".")
    out: Path = Path("public")
    base_url: str | None = None
    search: bool = True
    drafts: bool = False
    strict: bool = False


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

    def summary(self) -> str:
        """One line for the console."""
        return (f"built {self.out}: {self.files} files, {self.articles} articles, {self.weeks} weekly digests, "
                f"{self.entities} entity pages; {self.search}; {len(self.warnings)} warning(s) in {self.seconds:.1f}s")


def review_entities(root: Path, diagnostics: Diagnostics) -> list[dict[str, object]]:
    """Every entity named by the articles, most named first, for ``sitegen entities``."""
    if not (root / "content").is_dir():
        raise UsageError(f"no content/ folder in {root.resolve()}")
    project = SiteProject(root, require_templates=False)
    articles = project.load_articles(diagnostics)
    project.close()
    everything = build_entities(articles, project.catalog, replace(project.config, entity_min_articles=1))
    rows = []
    for entity in sorted(everything.values(), key=lambda e: (-len(e.articles), -e.mentions, e.kind, e.name)):
        rows.append({"kind": entity.kind, "name": entity.name, "articles": len(entity.articles),
                     "mentions": entity.mentions, "aliases": list(entity.aliases),
                     "roles": [role for role, _, _ in entity.roles],
                     "has_page": len(entity.articles) >= project.config.entity_min_articles,
                     "url": entity.url})
    return rows


def build_site(options: BuildOptions, diagnostics: Diagnostics) -> BuildResult:
    """Build the whole site into ``options.out``; the previous output survives any failure."""
    started = time.perf_counter()
    project = SiteProject(options.root, base_url=options.base_url, drafts=options.drafts)
    update = project.update(diagnostics)
    project.close()
    if not update.articles:
        diagnostics.warn("no articles found in content/", options.root / "content")
    diagnostics.raise_if_strict(options.strict)
    outputs = update.outputs
    result = BuildResult(options.out, files=len(outputs), articles=update.articles, weeks=update.weeks,
                         entities=update.entities)

    def index(staging: Path) -> None:
        searchable = [(p, d) for p, d in sorted(outputs.files.items())
                      if p.endswith(".html") and b"data-pagefind-body" in d]
        result.search = build_index(searchable, staging / "pagefind")

    write_site(outputs, options.out, options.root, post=index if options.search else None)
    result.seconds = time.perf_counter() - started
    result.warnings = list(diagnostics.warnings)
    return result
