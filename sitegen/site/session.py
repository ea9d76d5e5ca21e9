"""A site being built, possibly again and again (``sitegen serve``).

:class:`SiteProject` remembers what its last build read and made: each content file's
parsed page (reused while the file's size, mtime and inode are unchanged), the grouping,
the page plan with every page's dependency set, and the template closure of every page.
The next :meth:`SiteProject.update` re-reads only changed files, updates the grouping for
the changed articles, and renders only the pages whose dependencies changed (Lektor's
dependency recording). A first update, or a change to the configuration, the entity data
or (in hashed-asset mode) a static file, renders everything.

An update only *gathers*: it returns the files to write and the paths to remove. Nothing
is remembered as built until the caller says the files were written (:meth:`commit`), so
a failed render or write is redone by the next update.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import stat
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import jinja2.meta

from sitegen import __version__
from sitegen.config import CONFIG_FILE, load_config
from sitegen.site.load import EntityCache, PageCache, PageData, RecordingDiagnostics, make_article, scan_pages
from sitegen.entities import EntityCatalog, Extractor, load_entity_data
from sitegen.errors import ContentError, Diagnostics, SitegenError, UsageError
from sitegen.files import describe_mode
from sitegen.site.group import Grouping, Touched
from sitegen.model import Article
from sitegen.output import OutputSet
from sitegen.parallel import fork_workers, forked_map
from sitegen.site.plan import ALL_CONTENT, DerivedValues, PagePlan, Planner
from sitegen.progress import NO_PROGRESS, Progress
from sitegen.site.render import Assets, Renderer, collect_static
from sitegen.text import content_hash

CACHE_DIR = ".sitegen-cache"
RENDER_BATCH = 250
"""Pages per task when a big render is spread over forked workers."""
ENTITY_DATA = Path("_data") / "entities.yaml"


def entity_fingerprint(catalog: EntityCatalog) -> str:
    """Changes when the entity data or the tagger changes: the entity cache's key prefix."""
    from importlib import resources

    from sitegen.entities.extract import EXTRACTOR_VERSION

    data = resources.files("sitegen").joinpath("data")
    model = data.joinpath("ner-model.npz").read_bytes()
    clusters = data.joinpath("word-clusters.txt.gz").read_bytes()  # the model's word-cluster features
    return content_hash(catalog.data.fingerprint + content_hash(model) + content_hash(clusters) + EXTRACTOR_VERSION)[:16]


@dataclass(frozen=True)
class _StoredPage:
    signature: tuple[int, int, int]  # size, mtime_ns, inode
    page: PageData
    warnings: tuple[tuple[str, int | None], ...]
    article: Article | None = None


@dataclass
class SiteUpdate:
    """What one update gathered: files to (re)write, output paths to remove, and counts."""

    outputs: OutputSet
    removed: list[str]
    full: bool
    articles: int = 0
    weeks: int = 0
    entities: int = 0
    rendered: int = 0
    searchable_changed: bool = False
    deferred: list[PagePlan] = field(default_factory=list)
    digests: dict[str, str] = field(default_factory=dict)  # relpath -> digest of each page rendered
    deferred_left: list[str] = field(default_factory=list)  # relpaths still to render (interrupted)
    assets: dict[str, str] = field(default_factory=dict)
    _commit: dict[str, object] = field(default_factory=dict, repr=False)


def template_closure(renderer: Renderer) -> dict[str, frozenset[str]]:
    """For every template, itself and every template it extends, imports or includes."""
    direct: dict[str, set[str]] = {}
    for name in renderer.env.list_templates():
        try:
            source, _, _ = renderer.env.loader.get_source(renderer.env, name)  # type: ignore[union-attr]
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


class SiteProject:
    """A site root and what its last build made (see the module docs)."""

    def __init__(self, root: Path, base_url: str | None = None, drafts: bool = False,
                 hashed_assets: bool = True, track_digests: bool = False, require_templates: bool = True) -> None:
        for needed in ("content", "templates") if require_templates else ("content",):
            if not (root / needed).is_dir():
                raise UsageError(f"no {needed}/ folder in {root.resolve()} (run sitegen from the site root or pass --root)")
        self.root = root
        self.base_url = base_url
        self.drafts = drafts
        self.hashed_assets = hashed_assets
        self.track_digests = track_digests
        self._digests: dict[str, str] = {}  # relpath -> digest of the bytes written (track_digests)
        self._inputs_fingerprint: str | None = None
        self._store: dict[str, _StoredPage] = {}
        self._slugs: dict[str, str] = {}  # slug -> path of every stored page
        self._unapplied_hints: set[str] | None = set()  # None: rescan everything next time
        self._warnings: dict[str, tuple[tuple[str, int | None], ...]] = {}  # pages with warnings
        self._templates: dict[str, str] = {}
        self._pending_pages: set[str] = set()  # rendered by a failed update: redo
        self.planner: Planner | None = None
        self.renderer: Renderer | None = None
        self.closure: dict[str, frozenset[str]] = {}
        self._static: dict[str, str] = {}  # output path -> digest of the static file written
        self.entity_cache: EntityCache | None = None
        self.page_cache: PageCache | None = None
        self.progress: Progress = NO_PROGRESS
        self.prepare_page: Callable[[int, str, bytes], object] | None = None
        """``prepare_page(number, relpath, data)`` runs on each page just rendered (in the worker
        when rendering is spread); what it returns goes with the page to the outputs' sink."""

    # -- inputs ----------------------------------------------------------------------------
    def _reset(self) -> None:
        config = load_config(self.root).with_base_url(self.base_url)
        catalog = EntityCatalog(load_entity_data(self.root / "content" / ENTITY_DATA))
        self.config = config
        self.catalog = catalog
        if self.entity_cache is not None:
            self.entity_cache.save()
        self.entity_cache = EntityCache(self.root / CACHE_DIR, entity_fingerprint(catalog))
        if self.page_cache is None or self.page_cache.summary_chars != config.summary_chars:
            if self.page_cache is not None:
                self.page_cache.save(prune=False)
            self.page_cache = PageCache(self.root / CACHE_DIR, page_fingerprint(config.summary_chars))
            self.page_cache.summary_chars = config.summary_chars
        self.grouping = Grouping(config, catalog)
        self.derived = DerivedValues()
        # pages stay parsed; their articles are remade with the new entity data
        self._store = {p: _StoredPage(s.signature, s.page, s.warnings) for p, s in self._store.items()}
        self.planner = None
        self._templates = {}

    def _extractor(self) -> Extractor:
        if getattr(self, "_extractor_for", None) is not self.catalog:
            self._extractor_instance = Extractor(self.catalog.data)
            self._extractor_for = self.catalog
        return self._extractor_instance

    def _inputs(self) -> str:
        parts = [__version__, str(self.base_url), str(self.drafts)]
        for path in (self.root / CONFIG_FILE, self.root / "content" / ENTITY_DATA):
            parts.append(path.read_text("utf-8", errors="replace") if path.is_file() else "-")
        return content_hash("\x00".join(parts))

    def _read_templates(self) -> set[str]:
        """Template names whose text changed (or appeared, or vanished) since the last update."""
        folder = self.root / "templates"
        current: dict[str, str] = {}
        for path in sorted(folder.rglob("*")):
            if path.is_file() and not path.name.startswith("."):
                current[path.relative_to(folder).as_posix()] = content_hash(path.read_bytes())
        changed = {n for n in current.keys() | self._templates.keys() if current.get(n) != self._templates.get(n)}
        self._templates = current
        return changed

    def _scan(self, hints: set[str] | None, diagnostics: Diagnostics) -> tuple[dict[str, tuple[int, int, int]], set[str]]:
        """Signatures of the pages to look at, and the stored pages that are gone. With
        ``hints`` (paths the watcher saw change) only those are looked at. Files that are not
        pages (a FIFO, a device, a link loop) are skipped with a warning."""
        content = self.root / "content"
        skipped: list[tuple[str, str]] = []
        if hints is None or not self._store:
            found = dict(scan_pages(content, skipped))
            gone = set(self._store) - set(found)
        else:
            found, gone = {}, set()
            prefix = str(content) + os.sep
            for name in sorted(hints):
                if not name.startswith(prefix) or not name.endswith(".md"):
                    continue
                parts = name[len(prefix):].split(os.sep)
                if any(part.startswith((".", "_")) for part in parts[:-1]) or parts[-1].startswith("."):
                    continue
                try:
                    info = os.stat(name)
                except FileNotFoundError:
                    if name in self._store:
                        gone.add(name)
                    continue
                except OSError as exc:
                    skipped.append((name, f"{exc.strerror}: skipped"))
                    continue
                if not stat.S_ISREG(info.st_mode):
                    skipped.append((name, f"not a regular file ({describe_mode(info.st_mode)}): skipped"))
                    continue
                found[name] = (info.st_size, info.st_mtime_ns, info.st_ino)
        for name, reason in skipped:
            diagnostics.warn(reason, name)
            if name in self._store:
                gone.add(name)
        return found, gone

    def _load_changes(self, diagnostics: Diagnostics, hints: set[str] | None) -> dict[str, Article | None]:
        """The articles that changed since the last update (``None``: gone or now a draft);
        unchanged files keep their parsed page. Nothing is stored unless every page is valid."""
        found, gone = self._scan(hints, diagnostics)
        errors: list[SitegenError] = []
        fresh: dict[str, _StoredPage] = {}
        to_read = [Path(name) for name, signature in found.items()
                   if (stored := self._store.get(name)) is None or stored.signature != signature]
        progress = self.progress
        progress.stage("reading pages", len(to_read))
        prefetched = self.page_cache.prefetch(to_read, self.config.summary_chars, advance=progress.advance)
        for name, signature in found.items():
            stored = self._store.get(name)
            if stored is not None and stored.signature == signature:
                if stored.article is None:  # entity data changed: same page, new entities
                    fresh[name] = stored
                continue
            if not prefetched:
                progress.advance()
            recorder = RecordingDiagnostics()
            try:
                page = self.page_cache.read(Path(name), recorder, self.config.summary_chars)
            except ContentError as exc:
                errors.append(exc)
                continue
            except FileNotFoundError:
                if name in self._store:
                    gone.add(name)
                continue
            fresh[name] = _StoredPage(signature, page, tuple(recorder.recorded))
        slugs = dict(self._slugs)
        for name in gone | fresh.keys():
            stored = self._store.get(name)
            if stored is not None and slugs.get(stored.page.fields["slug"]) == name:
                del slugs[stored.page.fields["slug"]]
        for name in sorted(fresh):
            slug = fresh[name].page.fields["slug"]
            if slugs.get(slug, name) != name:
                first, second = sorted((slugs[slug], name))
                errors.append(ContentError(f"slug '{slug}' is already used by {first}", second))
                continue
            slugs[slug] = name
        if errors:
            errors.sort(key=lambda e: (e.path or "", e.line or 0))
            if len(errors) == 1:
                raise errors[0]
            raise ContentError(f"{len(errors)} content errors:\n  " + "\n  ".join(str(e) for e in errors))
        assert self.entity_cache is not None
        self.entity_cache.fill([stored.page.entity_text for stored in fresh.values()], self._extractor,
                               progress=progress)
        if len(fresh) >= 100:  # a first build or a big change: keep the work for the next run
            if self.entity_cache.dirty:
                self.entity_cache.save()
            self.page_cache.save(prune=hints is None)
        changes: dict[str, Article | None] = {}
        for name in sorted(fresh):
            stored = fresh[name]
            article = make_article(stored.page, self.catalog, self.entity_cache)
            self._store[name] = _StoredPage(stored.signature, stored.page, stored.warnings, article)
            if stored.warnings:
                self._warnings[name] = stored.warnings
            else:
                self._warnings.pop(name, None)
            changes[name] = article if (self.drafts or not stored.page.fields["draft"]) else None
        for name in sorted(gone):
            self._store.pop(name, None)
            self._warnings.pop(name, None)
            changes[name] = None
        self._slugs = slugs
        for name in sorted(self._warnings):
            for message, line in self._warnings[name]:
                diagnostics.warn(message, name, line)
        return changes

    def load_articles(self, diagnostics: Diagnostics) -> list[Article]:
        """Every article (no drafts unless asked), by source path, with entities."""
        self._reset()
        changes = self._load_changes(diagnostics, None)
        return [a for _, a in sorted(changes.items()) if a is not None]

    # -- the update --------------------------------------------------------------------------
    def update(self, diagnostics: Diagnostics, first: set[str] | None = None, defer_over: int = 0,
               hints: set[str] | None = None, sink: Callable[[str, bytes, object], None] | None = None) -> SiteUpdate:
        """Gather what changed since the last committed update (everything, the first time).

        With ``first`` (output paths, e.g. the pages open in a browser) and more than
        ``defer_over`` pages to render, only the dirty pages in ``first`` are rendered now;
        the others wait in ``update.deferred`` for :meth:`render_deferred`. ``hints``: the
        content files a watcher saw change (only those are looked at; ``None``: all). With a
        ``sink`` (a build) each file goes to it as soon as it is made, in path order for the
        pages, and ``update.outputs`` keeps only their paths."""
        inputs = self._inputs()
        full = inputs != self._inputs_fingerprint
        if full:
            self._reset()
        changed_templates = self._read_templates()
        outputs = OutputSet()
        assets = collect_static(self.root, outputs, hashed=self.hashed_assets)
        static_digests = {p: content_hash(d) for p, d in outputs.files.items()}
        static_changed = {p for p, d in static_digests.items() if self._static.get(p) != d}
        static_removed = sorted(set(self._static) - set(outputs.files))
        if self.hashed_assets and (static_changed or static_removed):
            full = True  # every page links the stylesheet by its hashed name
        if not full:
            for relpath in set(outputs.files) - static_changed:
                del outputs.files[relpath]
                del outputs.sources[relpath]
        if sink is not None:
            streamed = OutputSet(sink)
            for relpath in sorted(outputs.files):
                streamed.add(relpath, outputs.files[relpath], outputs.sources[relpath])
            outputs = streamed
        if full or changed_templates or self.renderer is None:
            self.renderer = Renderer(self.root, self.config, assets)
            self.closure = template_closure(self.renderer)
        else:
            self.renderer.set_assets(assets)

        started = time.perf_counter()
        if hints is not None:  # add the files a failed update did not take in (None: all)
            hints = None if self._unapplied_hints is None else hints | self._unapplied_hints
        try:
            changes = self._load_changes(diagnostics, None if full else hints)
        except BaseException:
            # nothing was taken in: look at these files again next time (all of them if unknown)
            self._unapplied_hints = None if hints is None or full else set(hints)
            raise
        self._unapplied_hints = set()
        self.timings = {"load": time.perf_counter() - started}
        try:
            return self._gather(changes, full, inputs, changed_templates, outputs, assets, static_digests, static_removed,
                                first or set(), defer_over)
        except BaseException:
            if not self._pending_pages:
                self._inputs_fingerprint = None  # failed before rendering: redo everything next time
            raise

    def _gather(self, changes: dict[str, Article | None], full: bool, inputs: str, changed_templates: set[str],
                outputs: OutputSet, assets: Assets, static_digests: dict[str, str],
                static_removed: list[str], first: set[str], defer_over: int) -> SiteUpdate:
        lap = time.perf_counter()
        timings = self.timings

        def step(name: str) -> None:
            nonlocal lap
            now = time.perf_counter()
            timings[name] = now - lap
            lap = now

        self.progress.stage("grouping weeks and entities")
        grouping = self.grouping
        if changes or full:
            grouping.update(changes)
        else:
            grouping.touched = Touched(full=False)
        step("group")
        changed_keys = self.derived.update(grouping)
        old_slugs = grouping.touched.old_slugs
        for path, article in changes.items():
            changed_keys.add(f"content:{path}")
            if article is None or path not in old_slugs:
                changed_keys.add(ALL_CONTENT)  # an article appeared or vanished
        if any(key.startswith("card:") for key in changed_keys):
            changed_keys.add(ALL_CONTENT)
        step("derive")
        if full or self.planner is None:
            self.planner = Planner(grouping, self.renderer.absolute)
        planner = self.planner
        hit = planner.update(changed_keys)
        step("plan")
        if full:
            hit = set(planner.by_relpath)
        else:
            hit |= planner.pages_using(changed_keys) | planner.added | self._pending_pages
            if changed_templates:
                closure = self.closure
                hit |= {relpath for relpath, plan in planner.by_relpath.items() if plan.template is not None and
                        (plan.template not in closure or not closure[plan.template].isdisjoint(changed_templates))}
        dirty = [planner.by_relpath[r] for r in sorted(hit) if r in planner.by_relpath]
        removed = sorted((planner.removed - planner.by_relpath.keys()) | set(static_removed))
        step("dirty")
        self._pending_pages |= {p.relpath for p in dirty}  # until committed
        deferred: list[PagePlan] = []
        if not full and defer_over and len(dirty) > defer_over:
            deferred = [p for p in dirty if p.relpath not in first]
            dirty = [p for p in dirty if p.relpath in first]
        digests: dict[str, str] = {}
        self._render_into(dirty, outputs, digests, full)
        step("render")
        update = SiteUpdate(outputs, removed, full, articles=len(grouping.articles), weeks=len(grouping.weeks),
                            entities=len(grouping.entities), rendered=len(dirty), assets=dict(assets.urls))
        # the index follows any page that is (or will be, once deferred pages render) rewritten
        update.searchable_changed = bool(deferred or removed) or any(
            p.endswith(".html") and not p.startswith("static/") for p in outputs.files)
        update.deferred = deferred
        update.digests = digests
        update._commit = {"inputs": inputs, "static": static_digests}
        return update

    def _render_into(self, plans: list[PagePlan], outputs: OutputSet, digests: dict[str, str], full: bool,
                     stop: Callable[[], bool] | None = None) -> list[PagePlan]:
        """Render ``plans`` into ``outputs``; returns the plans left when ``stop()`` said stop.
        A big render that cannot be stopped (a build) is spread over forked workers."""
        batches = self._render_in_workers(plans) if stop is None else None
        rendered = itertools.chain.from_iterable(batches) if batches is not None else None
        progress = self.progress
        progress.stage("rendering pages", len(plans))
        prepare = self.prepare_page
        for index, plan in enumerate(plans):
            if stop is not None and stop():
                return plans[index:]
            if rendered is not None:
                data, extra = next(rendered)
            else:
                data = self.render(plan)
                extra = prepare(index, plan.relpath, data) if prepare is not None else None
            progress.advance()
            if self.track_digests:
                digest = hashlib.blake2b(data, digest_size=16).hexdigest()
                digests[plan.relpath] = digest
                if not full and self._digests.get(plan.relpath) == digest:
                    continue  # same bytes as the file already written
            outputs.add(plan.relpath, data, plan.source, extra)
        if batches is not None:
            batches.close()  # ends the workers
        return []

    def _render_in_workers(self, plans: list[PagePlan]) -> Iterator[list[tuple[bytes, object]]] | None:
        """The bytes of ``plans`` in order (in batches), rendered by forked workers (rendering only reads the
        plans and the grouping they share); None when the work is too small to be worth it."""
        batches = [(start, min(start + RENDER_BATCH, len(plans))) for start in range(0, len(plans), RENDER_BATCH)]
        workers = fork_workers(len(batches) // 4)
        if workers < 2:
            return None
        return forked_map(_render_batch, (self, plans), batches, workers)

    def render_deferred(self, update: SiteUpdate, stop: Callable[[], bool] | None = None) -> SiteUpdate:
        """Render the pages an update deferred, until ``stop()`` says a newer change came in
        (the pages left stay pending: the next update renders them). Returns the files to
        write; after writing them, :meth:`mark_written` then :meth:`commit` ``update``."""
        outputs = OutputSet()
        digests: dict[str, str] = {}
        left = self._render_into(update.deferred, outputs, digests, False, stop)
        rest = SiteUpdate(outputs, [], False, update.articles, update.weeks, update.entities,
                          rendered=len(update.deferred) - len(left), assets=update.assets)
        rest.deferred = left
        rest.digests = digests
        return rest

    def mark_written(self, part: SiteUpdate) -> None:
        """The files of ``part`` are written: remember their digests (so an equal page is not
        written again) and that they need no rendering, even if the update is not committed."""
        if part.full:
            self._digests = {}
        self._digests.update(part.digests)
        for relpath in part.digests:
            self._pending_pages.discard(relpath)

    def render(self, plan: PagePlan) -> bytes:
        """One page's bytes."""
        context = plan.context()
        if plan.template is None:
            return str(context["text"]).encode("utf-8")
        return self.renderer.render(plan.template, **context).encode("utf-8")

    def commit(self, update: SiteUpdate) -> None:
        """Remember ``update`` as written: the next update is relative to it."""
        self.mark_written(update)
        self._inputs_fingerprint = update._commit["inputs"]  # type: ignore[assignment]
        if self.planner is not None:
            self.planner.commit()
        self._static = update._commit["static"]  # type: ignore[assignment]
        for relpath in update.removed:
            self._digests.pop(relpath, None)
        self._pending_pages = set(update.deferred_left)  # interrupted: rendered by the next update

    def close(self) -> None:
        """Save the caches."""
        if self.entity_cache is not None:
            self.entity_cache.save()
        if self.page_cache is not None:
            self.page_cache.save(prune=False)


def _render_batch(shared: tuple[SiteProject, list[PagePlan]], bounds: tuple[int, int]) -> list[tuple[bytes, object]]:
    """In a forked worker: the bytes of plans ``start:stop`` of the render being spread, each
    with what ``project.prepare_page`` made of it."""
    project, plans = shared
    prepare = project.prepare_page
    done = []
    for number in range(*bounds):
        data = project.render(plans[number])
        done.append((data, prepare(number, plans[number].relpath, data) if prepare is not None else None))
    return done


def page_fingerprint(summary_chars: int) -> str:
    """Changes when the code that parses pages changes: the page cache's key prefix."""
    from importlib import resources

    code = b"".join(resources.files("sitegen").joinpath(name).read_bytes()
                    for name in ("site/load.py", "frontmatter.py", "markdown.py", "text.py", "yamldoc.py"))
    return content_hash(code + f"{__version__}:{summary_chars}".encode())[:16]


def write_in_place(update: SiteUpdate, out: Path) -> None:
    """Apply an update to a served folder: each file replaced atomically, removed files
    deleted (and their empty folders)."""
    for relpath in sorted(update.outputs.files):
        target = out / relpath
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.sitegen-tmp")
        tmp.write_bytes(update.outputs.files[relpath])
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    for relpath in update.removed:
        target = out / relpath
        target.unlink(missing_ok=True)
        parent = target.parent
        while parent != out and parent.is_dir() and not any(parent.iterdir()):
            parent.rmdir()
            parent = parent.parent
