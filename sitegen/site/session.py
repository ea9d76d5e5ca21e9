"""A site built again and again: what one build keeps for the next.

:class:`SiteSession` runs the stages of :mod:`sitegen.site.build` (load → group → plan →
render) and remembers what each made: every content file's parsed page (reused while the
file's size, mtime and inode are unchanged, :class:`~sitegen.site.load.ContentStore`), the
grouping (:class:`~sitegen.site.group.Grouping`), the derived values and the page plan with
every page's dependency set (:mod:`sitegen.site.plan`), and every template's closure. The next
:meth:`SiteSession.update` re-reads only changed files, updates the grouping for the changed
articles, and renders only the pages whose dependencies changed (Lektor's dependency
recording). A first update, or a change to the settings, the entity data or (with hashed
asset names) a static file, renders everything; but a first update given the
:class:`~sitegen.site.carry.BuiltState` of the build that made the current output renders
only the pages that differ from it (``sitegen build`` run again).

An update only *gathers*: it returns the files to write and the paths to remove. Nothing is
remembered as built until the caller says the files were written (:meth:`commit`), so a
failed render or write is redone by the next update. Collaborators (progress, the hook that
prepares each rendered page for the search index) are passed to each call.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from sitegen.config import CACHE_DIR, require_site
from sitegen.errors import Diagnostics
from sitegen.model import Article
from sitegen.output import OutputSet, file_digest
from sitegen.parallel import piped_pipeline, worker_count
from sitegen.progress import NO_PROGRESS, Progress
from sitegen.search import IndexedPage
from sitegen.site import keys
from sitegen.site.carry import BuiltState, KeptModel, PickledPlans, key_digests, page_digest, updated_key_digests
from sitegen.site.group import Grouping, Touched
from sitegen.site.keys import ALL_CONTENT, Key
from sitegen.site.load import ContentStore, SiteInputs, inputs_fingerprint, read_inputs
from sitegen.site.plan import DerivedValues, PagePlan, Planner
from sitegen.site.render import Assets, Renderer, TemplateSet, collect_static
from sitegen.text import content_hash
from sitegen.theme import theme_folders

__all__ = ["CACHE_DIR", "Prepare", "Settle", "SiteSession", "SiteUpdate", "require_site"]

RENDER_BATCH = 250
"""Pages per task when what ``prepare`` makes of the pages of a big render is made by
workers."""

Prepare = Callable[[int, str, bytes], object]
"""``prepare(number, relpath, data)`` runs on each page just rendered (in a worker process on
a big render: it must pickle); what it returns goes with the page to the sink (a build: its request to the
search index)."""

Sink = Callable[[str, bytes, object], None]
"""``sink(relpath, data, prepared)``: a build takes each file as soon as it is made."""

Settle = Callable[[], None]
"""``settle()`` runs when a stage has made what the rest of the update keeps (the pages read
and tagged; the grouping and the plans): a build passes :func:`gc.freeze`, so that the
collector stops scanning the model it will hold until it ends."""


@dataclass
class SiteUpdate:
    """What one update gathered: files to (re)write, output paths to remove, counts."""

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
    assets: dict[str, str] = field(default_factory=dict)
    inputs_fingerprint: str = ""  # of the settings and entity data it was made from
    static_digests: dict[str, str] = field(default_factory=dict)  # static output path -> digest
    kept: list[str] = field(default_factory=list)  # pages a previous build made as they are now
    made_from: BuiltState | None = None  # compared with that build's (its code and searched left empty)


@dataclass(frozen=True)
class _Gathered:
    """What the first half of an update found, for the second."""

    changes: dict[str, Article | None]
    full: bool
    fingerprint: str
    changed_templates: set[str]
    outputs: OutputSet
    assets: Assets
    static_digests: dict[str, str]
    static_removed: list[str]


class SiteSession:
    """A site root and what its last update made (see the module docs)."""

    def __init__(self, root: Path, base_url: str | None = None, drafts: bool = False,
                 hashed_assets: bool = True, track_digests: bool = False,
                 previous: BuiltState | None = None, kept: KeptModel | None = None) -> None:
        require_site(root)
        self._previous = previous  # the build that made the output the first update goes into
        # every content file, dependency key and cache entry is known by its absolute path:
        # the same site whether it is given as "." or as "site" from the folder above
        self.root = root.resolve()
        self.theme = theme_folders(self.root)
        self.base_url = base_url
        self.drafts = drafts
        self.hashed_assets = hashed_assets
        self.track_digests = track_digests
        self.timings: dict[str, float] = {}
        self._inputs: SiteInputs | None = None
        self._committed_inputs: str | None = None  # the fingerprint of the last committed update's inputs
        self._content: ContentStore | None = None
        self._grouping: Grouping | None = None
        self._derived = DerivedValues()
        self._planner: Planner | None = None
        self._renderer: Renderer | None = None
        self._templates = TemplateSet()
        self._digests: dict[str, str] = {}  # relpath -> digest of the bytes written (track_digests)
        self._static: dict[str, str] = {}  # output path -> digest of the static file written
        self._unapplied_hints: set[str] | None = set()  # None: rescan everything next time
        self._pending_pages: set[str] = set()  # rendered by an update not committed: redo
        self._changed_keys: set[Key] | None = None  # of the last update; None: everything (a full one)
        self._kept_plans: dict[str, list[PagePlan]] | None = None  # the plans a resumed model holds, until used
        self._plans_read_from: PickledPlans | None = None  # where they were read from (to copy what did not change)
        if kept is not None and previous is not None and kept.inputs == inputs_fingerprint(root, self._options()):
            self._resume(kept, previous)

    def _resume(self, kept: KeptModel, previous: BuiltState) -> None:
        """Start from the model the build that made ``previous`` kept: the first update reads,
        groups, digests and plans only what changed since, and renders the pages that differ
        from ``previous``."""
        inputs = read_inputs(self.root, self.base_url, kept.inputs)
        self._inputs = inputs
        self._content = ContentStore(self.root, inputs, self.drafts, kept=kept.pages)
        self._grouping = Grouping.resumed(inputs.config, inputs.catalog, kept.grouping)
        self._derived = DerivedValues(kept.value_digests)
        self._kept_plans = kept.plans or None
        self._plans_read_from = kept.plans_read_from
        self._committed_inputs = kept.inputs
        self._static = dict(previous.static)

    # -- what the stages made ----------------------------------------------------------------
    @property
    def inputs(self) -> SiteInputs:
        """The settings and entity data of the last update."""
        assert self._inputs is not None, "no update yet"
        return self._inputs

    @property
    def grouping(self) -> Grouping:
        """The site's groups as of the last update."""
        assert self._grouping is not None, "no update yet"
        return self._grouping

    @property
    def planner(self) -> Planner:
        """The page plan as of the last update."""
        assert self._planner is not None, "no update yet"
        return self._planner

    @property
    def renderer(self) -> Renderer:
        """The templates as of the last update."""
        assert self._renderer is not None, "no update yet"
        return self._renderer

    @property
    def derived(self) -> DerivedValues:
        """The derived values as of the last update."""
        return self._derived

    # -- the load stage ------------------------------------------------------------------------
    def _reset(self, fingerprint: str) -> None:
        """New settings or entity data: everything but the parsed pages is made again."""
        inputs = read_inputs(self.root, self.base_url, fingerprint)
        self._inputs = inputs
        self._content = ContentStore(self.root, inputs, self.drafts) if self._content is None else \
            self._content.with_inputs(inputs)
        self._grouping = Grouping(inputs.config, inputs.catalog)
        self._derived = DerivedValues()
        self._planner = None
        self._templates = TemplateSet()

    def load_articles(self, diagnostics: Diagnostics, progress: Progress = NO_PROGRESS) -> list[Article]:
        """Every article (no drafts unless asked), by source path, with entities."""
        self._reset(inputs_fingerprint(self.root, self._options()))
        assert self._content is not None
        changes = self._content.changes(diagnostics, None, progress)
        return [a for _, a in sorted(changes.items()) if a is not None]

    def _options(self) -> str:
        return f"{self.base_url}\x00{self.drafts}"

    # -- the update ----------------------------------------------------------------------------
    def update(self, diagnostics: Diagnostics, *, progress: Progress = NO_PROGRESS, first: set[str] | None = None,
               defer_over: int = 0, hints: set[str] | None = None, sink: Sink | None = None,
               prepare: Prepare | None = None, settle: Settle | None = None) -> SiteUpdate:
        """Gather what changed since the last committed update (everything, the first time).

        With ``first`` (output paths, e.g. the pages open in a browser) and more than
        ``defer_over`` pages to render, only the dirty pages in ``first`` are rendered now;
        the others wait in ``update.deferred`` for :meth:`render_deferred`. ``hints``: the
        content files a watcher saw change (only those are looked at; ``None``: all). With a
        ``sink`` (a build) each file goes to it as soon as it is made, in path order for the
        pages, and ``update.outputs`` keeps only their paths. ``prepare`` (see
        :data:`Prepare`) runs on each page rendered, ``settle`` (see :data:`Settle`) after
        the stages that make the model."""
        fingerprint = inputs_fingerprint(self.root, self._options())
        self.theme = theme_folders(self.root)  # a site's own templates/ or static/ may have appeared
        outputs = OutputSet()
        assets = collect_static(self.theme.static, outputs, hashed=self.hashed_assets)
        static_digests = {p: content_hash(d) for p, d in outputs.files.items()}
        static_changed = {p for p, d in static_digests.items() if self._static.get(p) != d}
        static_removed = sorted(set(self._static) - set(outputs.files))
        # new inputs, or (hashed names) a static file every page links by its hash: all again
        full = fingerprint != self._committed_inputs or (self.hashed_assets and bool(static_changed or static_removed))
        if full:
            self._reset(fingerprint)
        changed_templates = self._templates.changed(self.theme.templates)
        if not full:
            for relpath in set(outputs.files) - static_changed:
                del outputs.files[relpath]
                del outputs.sources[relpath]
        if sink is not None:
            streamed = OutputSet(sink)
            for relpath in sorted(outputs.files):
                streamed.add(relpath, outputs.files[relpath], outputs.sources[relpath])
            outputs = streamed
        if full or changed_templates or self._renderer is None:
            self._renderer = Renderer(self.theme.templates, self.inputs.config, assets)
            self._templates.read_closure(self._renderer)
        else:
            self._renderer.set_assets(assets)

        started = time.perf_counter()
        if hints is not None:  # add the files a failed update did not take in (None: all)
            hints = None if self._unapplied_hints is None else hints | self._unapplied_hints
        assert self._content is not None
        try:
            changes = self._content.changes(diagnostics, None if full else hints, progress)
        except BaseException:
            # nothing was taken in: look at these files again next time (all of them if unknown)
            self._unapplied_hints = None if hints is None or full else set(hints)
            raise
        self._unapplied_hints = set()
        self.timings = {"load": time.perf_counter() - started}
        settle = settle or _stay
        settle()
        gathered = _Gathered(changes, full, fingerprint, changed_templates, outputs, assets, static_digests,
                             static_removed)
        try:
            return self._plan_and_render(gathered, first or set(), defer_over, progress, prepare, settle)
        except BaseException:
            if not self._pending_pages:
                self._committed_inputs = None  # failed before rendering: redo everything next time
            raise

    def _plan_and_render(self, gathered: _Gathered, first: set[str], defer_over: int, progress: Progress,
                         prepare: Prepare | None, settle: Settle) -> SiteUpdate:
        lap = time.perf_counter()

        def step(name: str) -> None:
            nonlocal lap
            now = time.perf_counter()
            self.timings[name] = now - lap
            lap = now

        full, changes = gathered.full, gathered.changes
        progress.stage("grouping weeks and entities")
        grouping = self.grouping
        if changes or full:
            grouping.update(changes)
        else:
            grouping.touched = Touched(full=False)
        step("group")
        changed_keys = self._derived.update(grouping)
        changed_keys |= _content_keys(changes, grouping.touched.old_slugs, changed_keys)
        step("derive")
        self._changed_keys = None if full or grouping.touched.full else changed_keys
        # every page is planned the first time, but for the plans a resumed model kept
        kept_plans, self._kept_plans = self._kept_plans, None
        if self._planner is None and kept_plans is not None and not full:
            self._planner = Planner.resumed(grouping, self.renderer.absolute, kept_plans)
        everything = full or self._planner is None
        if everything:
            self._planner = Planner(grouping, self.renderer.absolute)
        planner = self._planner
        assert planner is not None
        hit = planner.update(changed_keys, everything=everything)
        settle()
        step("plan")
        kept: list[str] = []
        removed_before: set[str] = set()
        made_from: BuiltState | None = None
        if everything or self._previous is not None:
            hit = set(planner.by_relpath)
            if self._previous is not None:
                # the plans not made again are those the previous build recorded
                made_from = self._made_from(gathered.fingerprint, gathered.static_digests,
                                            None if everything else self._previous)
                hit, removed_before = self._differing_from(self._previous, made_from)
                kept = sorted(planner.by_relpath.keys() - hit)
            self._previous = None
        else:
            hit |= planner.pages_using(changed_keys) | planner.added | self._pending_pages
            hit |= self._templates.pages_using(gathered.changed_templates, planner.by_relpath.values())
        dirty = [planner.by_relpath[r] for r in sorted(hit) if r in planner.by_relpath]
        removed = sorted((planner.removed - planner.by_relpath.keys()) | set(gathered.static_removed) | removed_before)
        step("dirty")
        self._pending_pages |= {p.relpath for p in dirty}  # until committed
        deferred: list[PagePlan] = []
        if not full and defer_over and len(dirty) > defer_over:
            deferred = [p for p in dirty if p.relpath not in first]
            dirty = [p for p in dirty if p.relpath in first]
        digests: dict[str, str] = {}
        outputs = gathered.outputs
        self._render_into(dirty, outputs, digests, full, progress, prepare)
        step("render")
        return SiteUpdate(
            outputs, removed, full, articles=len(grouping.articles), weeks=len(grouping.weeks),
            entities=len(grouping.entities), rendered=len(dirty),
            # the index follows any page that is (or will be, once deferred pages render) rewritten
            searchable_changed=bool(deferred or removed) or any(
                p.endswith(".html") and not p.startswith("static/") for p in outputs.files),
            deferred=deferred, digests=digests, assets=dict(gathered.assets.urls),
            inputs_fingerprint=gathered.fingerprint, static_digests=gathered.static_digests, kept=kept,
            made_from=made_from)

    def _made_from(self, fingerprint: str, static_digests: dict[str, str],
                   planned_by: BuiltState | None = None) -> BuiltState:
        """The digests of what the current plan's pages are made from (no code, nothing
        searched); the values' digests are those of the build the session resumed from,
        updated for what changed, when there is one. ``planned_by``: the build whose plans
        the planner resumed (a page not planned since is the one it recorded)."""
        derived = self._derived.digests
        if self._changed_keys is not None and self._previous is not None:
            digests = updated_key_digests(self._previous.values, self.grouping, derived, self._changed_keys)
        else:
            digests = key_digests(self.grouping, derived)
        return BuiltState(
            code="", inputs=fingerprint, static=dict(static_digests), templates=self._templates.digests,
            values=digests,
            pages=_page_digests(self.planner, planned_by),
            searched={})

    def _differing_from(self, previous: BuiltState, now: BuiltState) -> tuple[set[str], set[str]]:
        """The pages that differ from those of the build ``previous`` describes (all of them
        when its settings or static files differ), and the files it made that are gone."""
        gone = (previous.pages.keys() - now.pages.keys()) | (previous.static.keys() - now.static.keys())
        if previous.inputs != now.inputs or previous.static != now.static:
            return set(now.pages), gone
        changed_templates = {n for n in now.templates.keys() | previous.templates.keys()
                             if now.templates.get(n) != previous.templates.get(n)}
        hit = self._templates.pages_using(changed_templates, self.planner.by_relpath.values())
        changed_values = {key for key in now.values.keys() | previous.values.keys()
                          if now.values.get(key) != previous.values.get(key)}
        for relpath, plan in self.planner.by_relpath.items():
            if previous.pages.get(relpath) != now.pages[relpath] or not changed_values.isdisjoint(plan.deps):
                hit.add(relpath)
        return hit, gone

    def kept_model(self, build: str, code: str) -> KeptModel:
        """The model as this update left it, for the next build (``build``: this build's input
        signature; ``code``: sitegen's)."""
        assert self._content is not None and self._grouping is not None
        return KeptModel(build, code, self.inputs.fingerprint, self._content.kept(), self._grouping.kept(),
                         self._derived.digests, self._planner.kept() if self._planner is not None else {},
                         self._plans_read_from)

    def built_state(self, update: SiteUpdate, code: str, searched: dict[str, IndexedPage]) -> BuiltState:
        """What the output of ``update`` (every page, committed) was made from, for the next
        build into the same folder; ``searched``: what each searchable page's index entry is
        made of."""
        made_from = update.made_from or self._made_from(update.inputs_fingerprint, update.static_digests)
        return replace(made_from, code=code, searched=searched)

    # -- the render stage -----------------------------------------------------------------------
    def _render_into(self, plans: list[PagePlan], outputs: OutputSet, digests: dict[str, str], full: bool,
                     progress: Progress, prepare: Prepare | None,
                     stop: Callable[[], bool] | None = None) -> list[PagePlan]:
        """Render ``plans`` into ``outputs``; returns the plans left when ``stop()`` said stop.
        Pages are rendered here, in this process; on a big render that cannot be stopped (a
        build) what ``prepare`` makes of each page (segmented text for the search index) is
        made meanwhile by new worker processes, which never hold the site's model. (Workers
        forked to render copied most of it, each page of memory holding an object they
        read: reference counts are writes; ~500 MB each for a site of 24,000 items.)"""
        progress.stage("rendering pages", len(plans))
        batches = -(-len(plans) // RENDER_BATCH)
        workers = worker_count(batches // 4) if stop is None and prepare is not None else 1
        if workers > 1:
            assert prepare is not None
            rendered = ((start, [(plan.relpath, self.render(plan)) for plan in plans[start:start + RENDER_BATCH]])
                        for start in range(0, len(plans), RENDER_BATCH))
            made = piped_pipeline(_prepare_batch, prepare, rendered, workers)
            try:
                for (start, pages), extras in made:
                    for number, ((_, data), extra) in enumerate(zip(pages, extras), start):
                        self._take(plans[number], data, extra, outputs, digests, full)
                        progress.advance()
            finally:
                made.close()  # ends the workers
            return []
        for index, plan in enumerate(plans):
            if stop is not None and stop():
                return plans[index:]
            data = self.render(plan)
            self._take(plan, data, prepare(index, plan.relpath, data) if prepare is not None else None, outputs,
                       digests, full)
            progress.advance()
        return []

    def _take(self, plan: PagePlan, data: bytes, extra: object, outputs: OutputSet, digests: dict[str, str],
              full: bool) -> None:
        """A page just rendered (``data``, with what ``prepare`` made of it) into ``outputs``,
        unless its bytes are those of the file already written."""
        if self.track_digests:
            digest = file_digest(data)
            digests[plan.relpath] = digest
            if not full and self._digests.get(plan.relpath) == digest:
                return
        outputs.add(plan.relpath, data, plan.source, extra)

    def render(self, plan: PagePlan, grouping: Grouping | None = None) -> bytes:
        """One page's bytes, made from ``grouping`` (the session's unless given)."""
        context = plan.context(grouping or self.grouping)
        if plan.template is None:
            return str(context["text"]).encode("utf-8")
        return self.renderer.render(plan.template, **context).encode("utf-8")

    def render_deferred(self, update: SiteUpdate, *, stop: Callable[[], bool] | None = None,
                        progress: Progress = NO_PROGRESS) -> SiteUpdate:
        """Render the pages an update deferred, until ``stop()`` says a newer change came in
        (the pages left are in the result's ``deferred``: pass them to :meth:`commit`, the
        next update renders them). Returns the files to write; after writing them,
        :meth:`mark_written` them, then :meth:`commit` ``update``."""
        outputs = OutputSet()
        digests: dict[str, str] = {}
        left = self._render_into(update.deferred, outputs, digests, False, progress, None, stop)
        return SiteUpdate(outputs, [], False, update.articles, update.weeks, update.entities,
                          rendered=len(update.deferred) - len(left), deferred=left, digests=digests,
                          assets=update.assets)

    # -- after the write -----------------------------------------------------------------------
    def mark_written(self, part: SiteUpdate) -> None:
        """The files of ``part`` are written: remember their digests (so an equal page is not
        written again) and that they need no rendering, even if the update is not committed."""
        if part.full:
            self._digests = {}
        self._digests.update(part.digests)
        for relpath in part.digests:
            self._pending_pages.discard(relpath)

    def commit(self, update: SiteUpdate, left: Sequence[str] = ()) -> None:
        """Remember ``update`` as written: the next update is relative to it. ``left``: pages
        it deferred that were not rendered (interrupted); the next update renders them."""
        self.mark_written(update)
        self._committed_inputs = update.inputs_fingerprint
        if self._planner is not None:
            self._planner.commit()
        self._static = update.static_digests
        for relpath in update.removed:
            self._digests.pop(relpath, None)
        self._pending_pages = set(left)

    def close(self) -> None:
        """Save the caches."""
        if self._content is not None:
            self._content.save()

    def release(self) -> None:
        """Drop the site's model, which no update will read (a build's, once its output and
        model are saved), so that its memory is freed now (see
        :meth:`~sitegen.site.plan.Planner.clear`)."""
        if self._planner is not None:
            self._planner.clear()
        self._planner = None
        self._grouping = None
        self._content = None
        self._plans_read_from = None  # (it holds the plan lists read)


def _stay() -> None:
    """The :data:`Settle` of an update not given one: nothing."""


def _page_digests(planner: Planner, planned_by: BuiltState | None) -> dict[str, str]:
    """The digest of each page's plan (:func:`page_digest`), by relpath; those of the plans
    not made since the planner resumed the plans of ``planned_by`` are the ones it recorded."""
    if planned_by is None:
        return {r: page_digest(p.template, p.deps) for r, p in sorted(planner.by_relpath.items())}
    recorded, replanned = planned_by.pages, planner.replanned
    return {r: recorded[r] if r in recorded and r not in replanned else page_digest(p.template, p.deps)
            for r, p in sorted(planner.by_relpath.items())}


def _content_keys(changes: dict[str, Article | None], old_slugs: dict[str, str], changed: set[Key]) -> set[Key]:
    """The keys a set of changed content files changes beyond the derived values: each file's
    own key, and :data:`~sitegen.site.keys.ALL_CONTENT` when an article appeared, vanished or
    changed its card."""
    found = {keys.content(path) for path in changes}
    if any(article is None or path not in old_slugs for path, article in changes.items()) or \
            any(keys.is_card(key) for key in changed):
        found.add(ALL_CONTENT)
    return found


def _prepare_batch(prepare: Prepare, batch: tuple[int, list[tuple[str, bytes]]]) -> list[object]:
    """In a worker: what ``prepare`` makes of each ``(relpath, bytes)`` page of a
    batch, the pages numbered from the batch's ``start``."""
    start, pages = batch
    return [prepare(number, relpath, data) for number, (relpath, data) in enumerate(pages, start)]
