"""The live preview's builds: one at a time, incremental after the first, the pages open in
a browser first; the search index rebuilt in a low-priority process afterwards."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from pathlib import Path

from sitegen.errors import Diagnostics, SitegenError
from sitegen.output import StagedSite, replace_folder, write_in_place, write_site
from sitegen.progress import NO_PROGRESS, Progress
from sitegen.serve.livereload import BuildState
from sitegen.site.session import SiteSession, SiteUpdate
from sitegen.text import content_hash
from sitegen.urls import relpath_of, url_of

INDEX_DELAY_SECONDS = 1.0  # after a rebuild, before re-indexing starts
RELOAD_WAIT_SECONDS = 1.0  # at most, for open pages to reload before the other pages render


class SiteBuilder:
    """Runs builds one at a time and publishes their outcome to waiting clients.

    The first build writes the whole site; later builds are incremental
    (:class:`~sitegen.site.session.SiteProject`): only changed pages are rendered and replaced in
    the served folder, the pages open in a browser first. Requests for a page still being
    re-rendered wait for it, so a stale page is never served."""

    DEFER_OVER = 50  # more dirty pages than this: render the open ones first, reload, then the rest

    def __init__(self, root: Path, out: Path, search: bool) -> None:
        self.root = root
        self.out = out
        self.search = search
        self.session = SiteSession(root, hashed_assets=False, track_digests=True)
        self.state = BuildState(0)
        self.changed = threading.Condition()
        self._lock = threading.Lock()
        self._built_once = False
        self._index_generation = 0
        self._index_process: subprocess.Popen[str] | None = None
        self._index_timer: threading.Timer | None = None
        self._index_wanted = False
        self._closed = False  # serve is stopping: a build still running keeps quiet and starts no index
        self.first_event_at: float | None = None  # of the changes the next build handles
        self.published_at = 0.0
        self.served: dict[str, int] = {}  # relpath -> state version when it was last served
        self.open_pages: dict[str, int] = {}  # URL path -> open event streams
        self.pending: set[str] = set()  # output paths being re-rendered

    def _publish(self, error: dict[str, str] | None, changed: list[str], css: list[tuple[str, str]]) -> None:
        self.published_at = time.time()
        with self.changed:
            self.state = BuildState(self.state.version + 1, error, tuple(sorted(set(changed))), tuple(sorted(css)))
            self.changed.notify_all()

    def _changes(self, update: SiteUpdate) -> tuple[list[str], list[tuple[str, str]]]:
        paths = list(update.outputs.files) + update.removed
        css = [(p[len("static/"):], f"/{p}?v={content_hash(update.outputs.files[p])[:10]}")
               for p in update.outputs.files if p.startswith("static/") and p.endswith(".css")]
        return [url_of(p) for p in paths if not p.startswith("static/")], css

    def _index_in_background(self) -> None:
        """Re-index search without holding up the reload: a separate low-priority process
        reads the served site (each file there is replaced atomically, never half-written)
        into a fresh bundle that is swapped in when done; a newer build restarts it."""
        self.stop_indexing()
        generation = self._index_generation
        if self._closed:
            return

        def work() -> None:
            fresh = Path(tempfile.mkdtemp(prefix="sitegen-index-", dir=self.out.parent)) / "pagefind"
            try:
                with self._lock:
                    if generation != self._index_generation or self._closed:
                        return
                    aliases = fresh.parent / "aliases.json"  # the entity data the pages were built with
                    aliases.write_text(json.dumps(self.session.inputs.catalog.data.aliases, ensure_ascii=False), "utf-8")
                    process = subprocess.Popen([sys.executable, "-m", "sitegen.search", str(self.out), str(fresh),
                                                str(aliases)],
                                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                               start_new_session=True,  # its own group: stopping it stops Pagefind too
                                               preexec_fn=lambda: os.nice(19) if hasattr(os, "nice") else None)
                    self._index_process = process
                output, _ = process.communicate()
                if process.returncode != 0:
                    if generation == self._index_generation and process.returncode > 0:
                        raise RuntimeError(output.strip()[-300:])
                    return
                with self._lock:
                    if generation != self._index_generation or not self.out.is_dir():
                        return
                    replace_folder(self.out, "pagefind", fresh)
                print(f"[sitegen] search index updated: {output.strip().splitlines()[-1] if output.strip() else ''}",
                      flush=True)
            except Exception as exc:  # noqa: BLE001 - a failed index must not stop the preview
                print(f"[sitegen] search index failed: {exc}", file=sys.stderr, flush=True)
            finally:
                shutil.rmtree(fresh.parent, ignore_errors=True)

        threading.Thread(target=work, name="sitegen-index", daemon=True).start()

    def stop_indexing(self) -> None:
        """Stop a running or scheduled re-index (a newer build will start another): called as
        soon as a change is seen, so the rebuild and the reload have the CPU to themselves."""
        self._index_generation += 1
        if self._index_timer is not None and self._index_timer.is_alive():
            self._index_timer.cancel()
            self._index_wanted = True
        process = self._index_process
        if process is not None and process.poll() is None:
            self._index_wanted = True  # what it was indexing still needs an index
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass

    def _index_soon(self) -> None:
        """Re-index a moment after a rebuild, once the open pages have reloaded."""
        if self._closed:
            return
        if self._index_timer is not None:
            self._index_timer.cancel()
        self._index_timer = threading.Timer(INDEX_DELAY_SECONDS, self._index_in_background)
        self._index_timer.daemon = True
        self._index_timer.start()

    def _open_relpaths(self) -> set[str]:
        return {relpath_of(url) for url in list(self.open_pages)}

    def build(self, hints: set[str] | None = None, progress: Progress = NO_PROGRESS) -> BuildState:
        """Build now (``hints``: the changed files, if known); on failure keep the previous
        output and record the error. ``progress`` hears of each stage (the first build)."""
        with self._lock:
            started = time.perf_counter()
            seen_at, self.first_event_at = self.first_event_at, None
            diagnostics = Diagnostics(echo=False)
            try:
                first_relpaths = self._open_relpaths()
                update = self.session.update(diagnostics, progress=progress, first=first_relpaths,
                                             defer_over=self.DEFER_OVER, hints=hints)
                left: list[str] = []
                if update.full or not self._built_once:
                    write_site(update.outputs, self.out, post=self._keep_index)
                else:
                    self.pending = self.pending | {p.relpath for p in update.deferred}
                    write_in_place(self.out, update.outputs.files, update.removed)
                    self.session.mark_written(update)
                changed, css = self._changes(update)
                if update.deferred:
                    self._publish(None, changed, css)  # the open pages reload now
                    self._wait_for_reloads(first_relpaths & set(update.outputs.files))
                    previous_interval = sys.getswitchinterval()
                    sys.setswitchinterval(0.001)  # requests keep being answered while the rest renders
                    try:
                        # a newer change stops this: the pages left are rendered by the next build
                        rest = self.session.render_deferred(update, stop=lambda: self.first_event_at is not None)
                    finally:
                        sys.setswitchinterval(previous_interval)
                    write_in_place(self.out, rest.outputs.files, rest.removed)
                    self.session.mark_written(rest)
                    left = [p.relpath for p in rest.deferred]
                    changed, css = self._changes(rest)
                    rendered, written = update.rendered + rest.rendered, len(update.outputs) + len(rest.outputs)
                else:
                    rendered, written = update.rendered, len(update.outputs)
                self.session.commit(update, left)
                self._built_once = True
                with self.changed:
                    self.pending = set(left)
                    self.changed.notify_all()
                progress.clear()
                if self._closed:
                    return self.state
                for warning in diagnostics.warnings:
                    print(f"[sitegen] warning: {warning}", file=sys.stderr, flush=True)
                self._publish(None, changed, css)
                steps = " ".join(f"{k}={v * 1000:.0f}ms" for k, v in self.session.timings.items())
                since = f"; {(self.published_at - seen_at) * 1000:.0f}ms from the first file event" if seen_at else ""
                waiting = f", {len(left)} left for the next build" if left else ""
                print(f"[sitegen] {'built' if update.full else 'rebuilt'}: {rendered} page(s) rendered{waiting}, "
                      f"{written} file(s) written, {len(update.removed)} removed; {update.articles} articles "
                      f"in {time.perf_counter() - started:.2f}s ({steps}{since})", flush=True)
                if self.search and (update.searchable_changed or update.full or self._index_wanted):
                    self._index_wanted = False
                    if update.full:
                        self._index_in_background()
                    else:
                        self._index_soon()
            except SitegenError as exc:
                self._clear_pending()
                progress.clear()
                print(f"[sitegen] build failed: {exc}", file=sys.stderr, flush=True)
                self._publish({"message": exc.message, "location": exc.location()}, [], [])
            except Exception as exc:  # noqa: BLE001 - the preview must survive any failure
                self._clear_pending()
                progress.clear()
                message = "".join(traceback.format_exception_only(exc)).strip()
                print(f"[sitegen] build crashed: {message}", file=sys.stderr, flush=True)
                self._publish({"message": message, "location": ""}, [], [])
            with self.changed:
                self.changed.notify_all()
            return self.state

    def _clear_pending(self) -> None:
        """A failed build: stop holding requests (the overlay tells what is wrong)."""
        with self.changed:
            self.pending = set()
            self.changed.notify_all()

    def _keep_index(self, staged: StagedSite) -> None:
        previous = self.out / "pagefind"
        if previous.is_dir():
            staged.link_tree(previous, "pagefind")

    def _wait_for_reloads(self, relpaths: set[str], timeout: float = RELOAD_WAIT_SECONDS) -> None:
        """Give the open pages that changed a moment to fetch their new version before the
        remaining pages are rendered (rendering holds the GIL and would slow them down)."""
        version = self.state.version
        with self.changed:
            self.changed.wait_for(lambda: all(self.served.get(r, -1) >= version for r in relpaths), timeout=timeout)

    def page_served(self, relpath: str) -> None:
        """A request handler served ``relpath`` (an HTML page)."""
        with self.changed:
            self.served[relpath] = self.state.version
            self.changed.notify_all()

    def wait_for_change(self, version: int, timeout: float) -> BuildState:
        """Block until the state's version differs from ``version`` (or ``timeout``)."""
        with self.changed:
            self.changed.wait_for(lambda: self.state.version != version, timeout=timeout)
            return self.state

    def wait_until_rendered(self, relpath: str, timeout: float = 120) -> None:
        """Block while ``relpath`` is being re-rendered (so its stale version is not served)."""
        with self.changed:
            self.changed.wait_for(lambda: relpath not in self.pending, timeout=timeout)

    def close(self) -> None:
        """Stop indexing and save the caches, at once: a build still running (Ctrl+C during a
        rebuild) is not waited for; it ends without a word or an index, and the caches it is
        changing are not saved half-way (the next start reads pages again where needed)."""
        self._closed = True
        self.stop_indexing()
        if self._lock.acquire(blocking=False):
            try:
                self.session.close()
            finally:
                self._lock.release()
