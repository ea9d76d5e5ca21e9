"""``sitegen build``, read top to bottom.

:func:`build_site` checks the output folder, takes its lock and skips the work when nothing
changed; :func:`_build` runs the stages through a :class:`~sitegen.site.session.SiteSession`:

1. load (``site/load.py``): discover ``content/``, check each page's front matter, render its
   Markdown, find the people, organisations and places it names;
2. group (``site/group.py``): weeks, entity pages, related articles;
3. plan and render (``site/plan.py``, ``site/render.py``): one :class:`PagePlan` per output
   file, rendered with Jinja2;
4. write (``output.py``): every file into a staging folder, swapped in whole at the end;
5. index (``search/``): once every page is written, the shards whose pages changed are
   indexed by Pagefind (all of them the first time) and merged into the bundle.

Stages 1-4 are :func:`_made_pages`; a build from nothing runs them in a forked process, so
that the index stage runs in a process that never held the site's model.
"""

from __future__ import annotations

import gc
import hashlib
import json
import os
import pickle
import stat
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict

from sitegen import __version__
from sitegen.collector import paused, return_free_memory
from sitegen.config import CACHE_DIR, CONFIG_FILE, check_base_url, require_site
from sitegen.errors import Diagnostics, UsageError
from sitegen.files import atomic_write
from sitegen.output import FolderTimes, OutputLock, StagedSite, check_out_dir, file_digest
from sitegen.progress import NO_PROGRESS, Progress
from sitegen.site.records import LOCK_SUFFIX, STEM_PREFIX, RecordsLock, drop_records_of_gone_outputs
from sitegen.text import content_hash
from sitegen.theme import theme_folders

# The stages are imported by the functions that run them, so that a build with nothing to
# do (:func:`build_site` finds that first) starts without them: 0.17 s less of imports.
if TYPE_CHECKING:
    from sitegen.search import AliasExpander, Bundle, IndexedPage, SegmentedCopies, SegmentedPage
    from sitegen.site.carry import BuiltState, KeptModel
    from sitegen.site.session import SiteUpdate


@dataclass(frozen=True)
class BuildOptions:
    """What to build and how."""

    root: Path = Path(".")
    out: Path = Path("public")
    base_url: str | None = None
    search: bool = True
    drafts: bool = False
    strict: bool = False
    force: bool = False
    """Build everything, even when nothing changed since the last build."""


@dataclass
class BuildResult:
    """Counts and timings of one build."""

    out: Path
    files: int = 0
    articles: int = 0
    weeks: int = 0
    entities: int = 0
    kept: int = 0
    seconds: float = 0.0
    search: str = "search index: skipped"
    warnings: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """One line for the console."""
        made = f" ({self.kept} as the last build made them)" if self.kept else ""
        return (f"built {self.out}: {self.files} files{made}, {self.articles} articles, {self.weeks} weekly digests, "
                f"{self.entities} entity pages; {self.search}; {len(self.warnings)} warning(s) in {self.seconds:.1f}s")


def site_sources(root: Path) -> tuple[Path, ...]:
    """What a build reads and must never replace: content, templates and static files (the
    site's own and the theme's), settings and the caches."""
    theme = theme_folders(root)
    return (root / "content", root / "templates", root / "static", *theme.all, root / CONFIG_FILE, root / CACHE_DIR)


def build_site(options: BuildOptions, diagnostics: Diagnostics, progress: Progress = NO_PROGRESS,
               on_wait: Callable[[], None] | None = None) -> BuildResult:
    """Build the whole site into ``options.out``; the previous output survives any failure.
    When nothing the build reads (and nothing in the output) changed since the last build
    into the same folder, nothing is done; when its sources changed, the model that build
    kept is read while another process walks the output (the walk says whether the last
    build's output, and so its model, can be trusted). A second build into the same folder
    waits for the first (``on_wait`` is told). ``progress`` is told of each stage."""
    started = time.perf_counter()
    require_site(options.root)
    if options.base_url is not None and (problem := check_base_url(options.base_url)):
        raise UsageError(f"--base-url {problem}")
    check_out_dir(options.out, options.root, site_sources(options.root), ours=_manifest_path(options).is_file())
    with OutputLock(options.out, on_wait), RecordsLock(_records_lock_path(options)):
        code = _code_signature()
        inputs = _input_signature(options, code)
        manifest = _recorded_manifest(options)
        model = _KeptModelRead(_model_path(options), manifest, code)
        try:
            if manifest is not None and manifest.get("inputs") != inputs and not options.force:
                # a build is due: the model the last build kept is read while another core
                # walks the output (which says whether that build, and so its model, can be
                # trusted)
                from sitegen.parallel import forked_call

                with forked_call(_walk_output, options.out) as walked:
                    model.read()
                    walk = walked()
            else:
                walk = _walk_output(options.out)
            last = _last_build(options, manifest, walk)
            if not options.force and last is not None and (done := _up_to_date(options, last, inputs, diagnostics)):
                diagnostics.raise_if_strict(options.strict)
                done.seconds = time.perf_counter() - started
                done.warnings = list(diagnostics.warnings)
                return done
            previous = None if options.force or last is None else _previous_build(options, last, code)
            if previous is None:
                model.drop()  # (read for nothing: the last build's output cannot be trusted)
            result = _build(options, diagnostics, progress, code, inputs, previous, model)
        finally:
            gc.unfreeze()  # what the build froze (see _build) is scanned again
    result.seconds = time.perf_counter() - started
    return result


def _build(options: BuildOptions, diagnostics: Diagnostics, progress: Progress, code: str, inputs: str,
           previous: _PreviousBuild | None, model: _KeptModelRead) -> BuildResult:
    """The build itself, from the build that made the output when there is one (and the
    model it kept)."""
    from sitegen.parallel import fork_workers, forked_call
    from sitegen.search import AliasExpander, SegmentedCopies, ShardCache, index_changed_shards
    from sitegen.search import shards as shards_module
    from sitegen.site.load import inputs_fingerprint, site_entity_data

    aliases = AliasExpander.from_aliases(site_entity_data(options.root).aliases)
    shard_cache = ShardCache(_shards_path(options), salt=code + inputs_fingerprint(options.root, _options(options)))
    if options.force:
        shard_cache.clear()  # every page indexed and merged again
    search_summary = "search index: skipped"
    with StagedSite(options.out, spare=_spare_path(options)) as staged, SegmentedCopies() as copies:
        if previous is not None:
            staged.keep_previous(previous.inodes, previous.times)
        pages = partial(_made_pages, options, progress, code, inputs, previous, model, staged, copies, aliases)
        shown = True  # the warnings of the stages that make the pages, where they were found
        if previous is None and fork_workers(2) > 1:
            # a build from nothing makes the site's model, renders every page and lets the
            # model go in a forked process, which hands back what the index stage needs: this
            # process never holds the model, and the index's merge is made in memory that
            # held nothing else (at 100,000 items the process held 1.3 GB through the index
            # stage, the allocator's space among the freed model's objects). That process
            # shows its warnings where its stderr is this one's; not where stderr is an
            # object of this process (a test runner's), which its writes would not reach
            shown = sys.stderr is sys.__stderr__
            found = diagnostics.copy(echo=diagnostics.echo and shown)
            copies.open()
            with forked_call(partial(pages, found), False) as made_in_child:
                made = made_in_child()
        else:
            made = pages(diagnostics, True)
        staged.adopt(made.staged)
        copies.adopt(made.copies)
        diagnostics.adopt(made.warnings, shown=shown)
        rest = made.rest
        del made, pages
        state, searched = rest.state, rest.searched
        gc.freeze()  # what is left lives on to the end: the index stage's collections need not visit it
        if not rest.articles:
            diagnostics.warn("no articles found in content/", options.root / "content")
        diagnostics.raise_if_strict(options.strict)
        shards: list[str] = []
        indexed: set[str] = set()
        if options.search:
            bundle, shards = index_changed_shards(searched, partial(_read_staged, staged.path),
                                                  shard_cache, aliases, progress, shards_module.SHARDS, copies)
            search_summary = bundle.summary
            indexed = {f"pagefind/{relpath}" for relpath in bundle.files}
            state = replace(state, index=_write_index(staged, bundle, previous.state.index if previous else {}))
            del bundle  # written: the rest of the build need not hold it (450 MB at 100,000 items)
        copies.close()  # (its temporary file)
        staged.remove_linked_under("pagefind/", keep=indexed)  # the previous index's files this one lacks
        _state_path(options).unlink(missing_ok=True)  # it describes the site about to be replaced
        staged.publish()
        output = _published_signature(options.out, staged, previous.output if previous is not None else None)
        digests = _published_digests(options.out, staged, previous.digests if previous is not None else {})
    shard_cache.keep_only(shards)
    result = BuildResult(options.out, files=rest.files, articles=rest.articles,
                         weeks=rest.weeks, entities=rest.entities, kept=rest.kept, search=search_summary)
    result.warnings = list(diagnostics.warnings)
    state.save(_state_path(options))
    recorded = pickle.dumps(digests, protocol=pickle.HIGHEST_PROTOCOL)
    atomic_write(_digests_path(options), recorded)
    manifest = {"inputs": inputs, "out": _out_name(options), "output": output, "warnings": result.warnings,
                "options": _options(options), "code": code, "state": _file_signature(_state_path(options)),
                "state_digest": file_digest(_state_path(options).read_bytes()), "digests": content_hash(recorded),
                "counts": {"files": result.files, "articles": result.articles, "weeks": result.weeks,
                           "entities": result.entities}}
    atomic_write(_manifest_path(options), json.dumps(manifest).encode("utf-8"))
    drop_records_of_gone_outputs(options.root / CACHE_DIR, _records_stem(options))
    return result


@dataclass(frozen=True)
class _MadePages:
    """What the stages that make the site's model leave the index stage: the rest of the
    update, and what the staging folder, the segmented copies and the diagnostics recorded
    (a forked process hands them back)."""

    rest: _Rest
    staged: dict[str, object]
    copies: tuple[dict[str, tuple[IndexedPage, int, int]], int]
    warnings: list[str]


def _made_pages(options: BuildOptions, progress: Progress, code: str, inputs: str, previous: _PreviousBuild | None,
                model: _KeptModelRead, staged: StagedSite, copies: SegmentedCopies, aliases: AliasExpander,
                diagnostics: Diagnostics, release: bool) -> _MadePages:
    """Load, group, plan and render the site into ``staged`` (each searchable page noted in
    ``copies`` as its index entry will be made), and keep its model for the next build;
    ``release``: let the model go here, as the build goes on in this process."""
    from sitegen.search import IndexedPage, SegmentedPage
    from sitegen.site.session import Prepare, SiteSession

    kept = model.take() if previous is not None else None  # (held here alone: released with the session)
    session = SiteSession(options.root, base_url=options.base_url, drafts=options.drafts,
                          previous=previous.state if previous is not None else None, kept=kept)
    del kept  # the session's now (the merge takes its memory when the session goes)
    # the model lives until the session is released: the collector need not scan it (every
    # full collection of a 10,000-item site's model took 0.14 s, a build after an edit
    # made 13 of them), nor touch the pages forked workers share
    gc.freeze()
    # each page rendered is noted as its index entry would be made, and segmented unless
    # the last build indexed it as it is (its copy kept for the index); once every page is
    # written, the shards whose pages changed are indexed (all of them the first time)
    searched: dict[str, IndexedPage] = {}  # output path -> what its index entry is made of

    def take(relpath: str, data: bytes, prepared: object) -> None:
        """Each file as soon as it is made: written, and noted for the search index."""
        staged.write(relpath, data)
        if isinstance(prepared, SegmentedPage):
            copies.put(relpath, prepared)
            prepared = prepared.page
        if isinstance(prepared, IndexedPage):
            searched[relpath] = prepared

    prepare: Prepare | None = None
    if options.search:
        last_digests = {relpath: page.digest for relpath, page in previous.state.searched.items()} if previous else {}
        prepare = partial(_prepared_page, aliases, last_digests)
    update = session.update(diagnostics, progress=progress, sink=take, prepare=prepare, settle=gc.freeze)
    session.close()
    for relpath in update.removed:
        staged.remove(relpath)
    if previous is not None:
        unchanged = set(update.kept)
        searched.update((r, d) for r, d in previous.state.searched.items() if r in unchanged)
    state = session.built_state(update, code, searched)
    # for the next build, trusted only once this one's manifest says it made the output
    session.kept_model(inputs, code).save(_model_path(options))
    rest = _Rest.of(update, state, searched)
    del update, state
    searched = {}  # (the rest holds them; a name ``take`` reads cannot be deleted)
    if release:
        # a build that made every page made what outlives the model among the model's
        # objects, and those few would keep most of the allocator's arenas from going back:
        # they are made anew once the model is released
        pickled = pickle.dumps(rest, protocol=pickle.HIGHEST_PROTOCOL) if rest.made_whole else b""
        if pickled:
            del rest
        session.release()  # the site's model, no longer needed: the index's merge takes its memory
        del session
        gc.unfreeze()
        gc.collect()  # what is left of it that refers to itself (the templates)
        return_free_memory()
        if pickled:
            rest = pickle.loads(pickled)
            del pickled
    else:
        progress.clear()  # this process's line: the build's goes on in another
    return _MadePages(rest, staged.ledger(), copies.ledger(), list(diagnostics.warnings))


@dataclass(frozen=True)
class _Rest:
    """What a build needs of its update once the site's model is released (:func:`_build`)."""

    state: BuiltState
    searched: dict[str, IndexedPage]  # output path -> what its index entry is made of
    files: int  # every file of the site
    kept: int  # of them, as the last build made them
    articles: int
    weeks: int
    entities: int
    made_whole: bool  # every page made again (a first, cold or --force build)

    @classmethod
    def of(cls, update: SiteUpdate, state: BuiltState, searched: dict[str, IndexedPage]) -> _Rest:
        """What ``update``, the ``state`` made of it and the pages' index entries leave."""
        files = len(update.outputs.sources.keys() | set(update.kept) | update.static_digests.keys())
        return cls(state, searched, files, len(update.kept), update.articles, update.weeks, update.entities,
                   update.full)


def _write_index(staged: StagedSite, bundle: Bundle, previous: dict[str, str]) -> dict[str, str]:
    """Write the search ``bundle`` into ``pagefind/`` of ``staged``, but for the files the
    previous site holds as they are (``previous``: its record of each bundle file's digest;
    such files stay linked, unread); returns this bundle's record."""
    digests = {relpath: bundle.files.digest(relpath) for relpath in bundle.files}
    changed = [relpath for relpath, digest in digests.items()
               if not (staged.keeps(f"pagefind/{relpath}") and previous.get(relpath) == digest)]
    for relpath, data in bundle.files.compressed(changed):
        staged.write(f"pagefind/{relpath}", data)
    return digests


def _prepared_page(aliases: AliasExpander, indexed: dict[str, str], number: int, relpath: str,
                   data: bytes) -> IndexedPage | SegmentedPage | None:
    """What a build makes of each page it renders for the search index
    (:func:`~sitegen.search.prepared_page`)."""
    from sitegen.search import prepared_page

    return prepared_page(relpath, data, aliases, indexed)


def _read_staged(folder: Path, relpath: str) -> bytes:
    return (folder / relpath).read_bytes()


def _options(options: BuildOptions) -> str:
    """The options a build's output depends on."""
    return json.dumps([options.base_url, options.drafts, options.search])


def _code_signature() -> str:
    """Changes with sitegen itself: a digest of its files' contents (the same for the same
    sitegen installed again, as in CI; 3.6 MB, a few milliseconds)."""
    package = Path(__file__).resolve().parent.parent
    digest = hashlib.sha256(__version__.encode("utf-8"))
    for path in sorted(package.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
            digest.update(f"\x00{path.relative_to(package).as_posix()}\x00".encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


@dataclass(frozen=True)
class _LastBuild:
    """What the last build into the output folder recorded, and whether the folder is as it
    left it."""

    manifest: dict[str, Any]
    output_kept: bool
    inodes: dict[str, int]  # of every file in the output folder, by relative path
    times: FolderTimes  # of every folder in the output folder
    digests: dict[str, str] | None = None  # its record of every file's digest, when read


def _recorded_manifest(options: BuildOptions) -> dict[str, Any] | None:
    """The record the last build into ``options.out`` left; None when there is none."""
    try:
        manifest = json.loads(_manifest_path(options).read_text("utf-8"))
    except (OSError, ValueError):
        return None
    return manifest if isinstance(manifest, dict) else None


@dataclass(frozen=True)
class _OutputWalk:
    """The output folder as walked: ``size:mtime_ns`` and inode of every file, the time of
    every folder."""

    found: dict[str, str]
    inodes: dict[str, int]
    times: FolderTimes


def _walk_output(out: Path) -> _OutputWalk:
    inodes: dict[str, int] = {}
    times = FolderTimes()
    return _OutputWalk(_tree_signature(out, inodes, times), inodes, times)


class _KeptModelRead:
    """The model the last build kept (recorded in ``manifest``), read once when it is first
    asked for, and handed over by :meth:`take`."""

    def __init__(self, path: Path, manifest: dict[str, Any] | None, code: str) -> None:
        self.path, self.manifest, self.code = path, manifest, code
        self.model: KeptModel | None = None
        self.done = False

    def read(self) -> None:
        """Read the model (none when there is none, or it is not that build's), and freeze
        it: it lives on, and later collections need not visit it (see :func:`_build`)."""
        if not self.done and self.manifest is not None:
            from sitegen.site.carry import KeptModel

            with paused():  # frozen before the collector runs again: a collection of all it read took 0.27 s at 10k
                self.model = KeptModel.load(self.path, str(self.manifest.get("inputs")), self.code)
                gc.freeze()
        self.done = True

    def take(self) -> KeptModel | None:
        """The model, read if it was not yet; this reader no longer holds it."""
        self.read()
        model, self.model = self.model, None
        return model

    def drop(self) -> None:
        """Forget the model, read or not."""
        self.model, self.done = None, True


def _last_build(options: BuildOptions, manifest: dict[str, Any] | None, walk: _OutputWalk) -> _LastBuild | None:
    """The record of the last build into ``options.out`` (its ``manifest``); None when there
    is none. The output (as ``walk`` found it) is as that build left it when every file has
    the size and time it recorded, or, where only times differ (an output and cache
    restored by CI, whose archive may keep whole seconds only), the bytes it recorded: the
    record is then brought up to date."""
    if manifest is None:
        return None
    found, inodes, times = walk.found, walk.inodes, walk.times
    recorded = manifest.get("output")
    if recorded == found:
        return _LastBuild(manifest, True, inodes, times)
    state = _state_path(options)
    if not (isinstance(recorded, dict) and recorded.keys() == found.keys()
            and _same_bytes(state, manifest.get("state"), manifest.get("state_digest"))):
        return _LastBuild(manifest, False, inodes, times)
    digests = _recorded_digests(options, manifest)
    differing = [(relpath, recorded[relpath], digests.get(relpath))
                 for relpath, signature in found.items() if recorded[relpath] != signature]
    if not _all_same_bytes(options.out, differing):
        return _LastBuild(manifest, False, inodes, times)
    manifest = {**manifest, "output": found, "state": _file_signature(state)}
    atomic_write(_manifest_path(options), json.dumps(manifest).encode("utf-8"))
    return _LastBuild(manifest, True, inodes, times, digests)


_FILES_PER_BATCH = 2_000
"""Files whose bytes one task of :func:`_all_same_bytes` compares with the record."""


def _all_same_bytes(out: Path, files: Sequence[tuple[str, object, object]]) -> bool:
    """Whether each of ``files`` (its path in ``out``, its recorded signature and digest) is
    the file recorded (:func:`_same_bytes`), stopping at the first that is not; by forked
    workers when there are many (a CI build finds every file of its restored output with
    another time: 46,876 at 10,000 items, 1.0-1.1 s in one process)."""
    from sitegen.parallel import fork_workers, forked_map

    batches = [files[start:start + _FILES_PER_BATCH] for start in range(0, len(files), _FILES_PER_BATCH)]
    workers = fork_workers(len(batches) // 2)
    results = forked_map(_batch_same_bytes, out, batches, workers) if workers > 1 else \
        (_batch_same_bytes(out, batch) for batch in batches)
    try:
        return all(results)
    finally:
        results.close()


def _batch_same_bytes(out: Path, files: Sequence[tuple[str, object, object]]) -> bool:
    """:func:`_all_same_bytes` of one batch, in this process."""
    return all(_same_bytes(out / relpath, signature, digest) for relpath, signature, digest in files)


def _same_bytes(path: Path, signature: object, digest: object) -> bool:
    """Whether the file at ``path`` is the one recorded with ``signature`` (``size:mtime_ns``)
    and ``digest`` (:func:`~sitegen.output.file_digest`): by its signature, or by its size
    and bytes when its time alone differs."""
    try:
        status = path.lstat()
    except OSError:
        return False
    found = _stat_signature(status)
    if not isinstance(signature, str) or not stat.S_ISREG(status.st_mode):
        return False
    if found == signature:
        return True
    if not isinstance(digest, str) or found.split(":")[0] != signature.split(":")[0]:
        return False
    try:
        return file_digest(path.read_bytes()) == digest
    except OSError:
        return False


def _recorded_digests(options: BuildOptions, manifest: dict[str, Any]) -> dict[str, str]:
    """The digest of every file of the output the last build recorded (empty when its
    record is missing, or not the one its manifest names)."""
    try:
        data = _digests_path(options).read_bytes()
        if content_hash(data) != manifest.get("digests"):
            return {}
        digests = pickle.loads(data)
    except (OSError, pickle.UnpicklingError, EOFError, ValueError, TypeError):
        return {}
    return digests if isinstance(digests, dict) else {}


@dataclass(frozen=True)
class _PreviousBuild:
    """The build that made the output folder, as it recorded itself."""

    state: BuiltState
    inputs: str  # its input signature (the model it kept is trusted when it names this)
    output: dict[str, str]  # the signature of every file it wrote (the folder is still so)
    inodes: dict[str, int]  # of every file in the output folder (as just walked)
    times: FolderTimes  # of every folder in the output folder (as just walked)
    digests: dict[str, str]  # the digest of every file it wrote (:func:`~sitegen.output.file_digest`)


def _previous_build(options: BuildOptions, last: _LastBuild, code: str) -> _PreviousBuild | None:
    """The build that made the output folder, when its state can be trusted (see
    :func:`_previous_state`)."""
    state = _previous_state(options, last, code)
    if state is None:
        return None
    return _PreviousBuild(state, str(last.manifest.get("inputs")), dict(last.manifest.get("output") or {}),
                          last.inodes, last.times,
                          last.digests if last.digests is not None else _recorded_digests(options, last.manifest))


def _published_signature(out: Path, staged: StagedSite, before: dict[str, str] | None) -> dict[str, str]:
    """:func:`_tree_signature` of the site just published from ``staged``, without walking it
    when the files it kept from the previous site (hard links: the same size and time) are
    in that site's signature ``before``: only the files written are looked at."""
    if before is not None:
        try:
            found = {relpath: before[relpath] for relpath in staged.linked}
            folder = str(out)
            for relpath in staged.written_paths:
                found[relpath] = _stat_signature(os.stat(os.path.join(folder, relpath)))
            return found
        except (KeyError, FileNotFoundError):
            pass
    return _tree_signature(out)


def _published_digests(out: Path, staged: StagedSite, before: dict[str, str]) -> dict[str, str]:
    """The digest of every file of the site just published from ``staged``: of the files
    written, as they were written; of those kept from the previous site, as that build
    recorded them (read again where it did not)."""
    found = dict(staged.written_digests)
    for relpath in staged.linked:
        digest = before.get(relpath)
        found[relpath] = digest if digest is not None else file_digest((out / relpath).read_bytes())
    return found


def _previous_state(options: BuildOptions, last: _LastBuild, code: str) -> BuiltState | None:
    """The state of the build that made the output folder, when the folder is exactly as it
    left it and the build was made by this sitegen with these options; else None."""
    manifest = last.manifest
    if not last.output_kept or manifest.get("code") != code or manifest.get("options") != _options(options) or \
            manifest.get("state") != _file_signature(_state_path(options)):
        return None
    from sitegen.site.carry import BuiltState

    state = BuiltState.load(_state_path(options))
    return state if state is not None and state.code == code else None


def _state_path(options: BuildOptions) -> Path:
    return _manifest_path(options).with_suffix(".state.json")


def _shards_path(options: BuildOptions) -> Path:
    return _manifest_path(options).with_suffix(".shards")


def _digests_path(options: BuildOptions) -> Path:
    return _manifest_path(options).with_suffix(".digests")


def _model_path(options: BuildOptions) -> Path:
    return _manifest_path(options).with_suffix(".model")


def _records_lock_path(options: BuildOptions) -> Path:
    """What a build holds for its whole run (:class:`~sitegen.site.records.RecordsLock`)."""
    return _manifest_path(options).with_suffix(LOCK_SUFFIX)


def _spare_path(options: BuildOptions) -> Path:
    """Where the site a build replaced is kept for the next build to start from."""
    return _manifest_path(options).with_suffix(".spare")


def _tree_signature(folder: Path, inodes: dict[str, int] | None = None,
                    times: FolderTimes | None = None) -> dict[str, str]:
    """``size:mtime_ns`` of every file under ``folder``, by relative path (one scandir pass;
    strings, not lists, so 100k entries do not keep the cyclic garbage collector busy);
    each file's inode noted in ``inodes`` and each folder's time in ``times`` when given."""
    found: dict[str, str] = {}

    def walk(path: str, prefix: str) -> None:
        try:
            entries = list(os.scandir(path))
        except (FileNotFoundError, NotADirectoryError):
            return
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                if times is not None:
                    times.note(prefix + entry.name, entry.stat(follow_symlinks=False).st_mtime_ns)
                walk(entry.path, prefix + entry.name + "/")
            else:
                found[prefix + entry.name] = _stat_signature(entry.stat(follow_symlinks=False))
                if inodes is not None:
                    inodes[prefix + entry.name] = entry.inode()

    if times is not None:
        try:
            times.note("", os.stat(folder).st_mtime_ns)
        except OSError:
            pass
    walk(str(folder), "")
    return found


def _stat_signature(stat: os.stat_result) -> str:
    return f"{stat.st_size}:{stat.st_mtime_ns}"


def _file_signature(path: Path) -> str | None:
    """``size:mtime_ns`` of one file, None when it is missing."""
    try:
        return _stat_signature(path.stat())
    except FileNotFoundError:
        return None


def _input_signature(options: BuildOptions, code: str) -> str:
    """Everything a build reads, by size and modification time, with the options and sitegen."""
    root = options.root
    parts: dict[str, object] = {
        "options": _options(options),
        "content": _tree_signature(root / "content"),
        "theme": {str(folder): _tree_signature(folder) for folder in theme_folders(root).all},
        "code": code,
        "config": _file_signature(root / CONFIG_FILE),
    }
    return content_hash(json.dumps(parts, sort_keys=True))


def _out_name(options: BuildOptions) -> str:
    """How the records name the output folder: by its path from the site's root when it is
    inside it (``public``), as the pages are known, so that a site moved, or checked out by
    CI in another folder than the last run's with ``.sitegen-cache/`` and ``public/``
    restored, keeps its last build; else by its absolute path."""
    out, root = options.out.resolve(), options.root.resolve()
    return out.relative_to(root).as_posix() if out.is_relative_to(root) else str(out)


def _records_stem(options: BuildOptions) -> str:
    """What the names of the records of a build into ``options.out`` begin with
    (:mod:`sitegen.site.records`)."""
    return f"{STEM_PREFIX}{content_hash(_out_name(options))[:12]}"


def _manifest_path(options: BuildOptions) -> Path:
    return options.root / CACHE_DIR / f"{_records_stem(options)}.json"


def _up_to_date(options: BuildOptions, last: _LastBuild, inputs: str, diagnostics: Diagnostics) -> BuildResult | None:
    """The last build's result when neither its inputs nor its output changed since."""
    manifest = last.manifest
    if manifest.get("inputs") != inputs or not last.output_kept:
        return None
    for warning in manifest.get("warnings", []):
        diagnostics.warn(warning)
    result = BuildResult(options.out, **manifest["counts"])
    result.search = "up to date: nothing changed since the last build"
    return result


class EntityRow(TypedDict):
    """One line of ``sitegen entities``."""

    kind: str
    name: str
    articles: int
    mentions: int
    aliases: list[str]
    roles: list[str]
    has_page: bool
    url: str


def review_entities(root: Path, diagnostics: Diagnostics) -> list[EntityRow]:
    """Every entity named by the articles, most named first, for ``sitegen entities``."""
    from sitegen.site.group import build_entities
    from sitegen.site.session import SiteSession

    session = SiteSession(root)
    articles = session.load_articles(diagnostics)
    session.close()
    config = session.inputs.config
    everything = build_entities(articles, session.inputs.catalog, replace(config, entity_min_articles=1))
    rows: list[EntityRow] = []
    for entity in sorted(everything.values(), key=lambda e: (-len(e.articles), -e.mentions, e.kind, e.name)):
        rows.append({"kind": entity.kind, "name": entity.name, "articles": len(entity.articles),
                     "mentions": entity.mentions, "aliases": list(entity.aliases),
                     "roles": [role for role, _, _ in entity.roles],
                     "has_page": len(entity.articles) >= config.entity_min_articles,
                     "url": entity.url})
    return rows
