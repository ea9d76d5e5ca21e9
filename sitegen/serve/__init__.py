"""``sitegen serve``: the editor's live preview.

Builds the site into a private folder, serves it on 127.0.0.1, watches ``content/``,
``templates/``, ``static/`` and ``sitegen.yaml`` with watchdog, rebuilds after a short
debounce, and tells open pages over Server-Sent Events to reload. A failed rebuild keeps the
last good site served and shows the error (file, line, message) as an overlay in the page;
the next good build removes it.
"""

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
import webbrowser
from dataclasses import dataclass
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from sitegen.config import CONFIG_FILE
from sitegen.errors import Diagnostics, SitegenError
from sitegen.output import StagedSite, replace_folder, write_in_place, write_site
from sitegen.progress import NO_PROGRESS, Progress, progress_for
from sitegen.site.session import SiteSession, SiteUpdate
from sitegen.text import content_hash
from sitegen.urls import relpath_of, url_of

DEBOUNCE_SECONDS = 0.1
INDEX_DELAY_SECONDS = 1.0  # after a rebuild, before re-indexing starts
RELOAD_WAIT_SECONDS = 1.0  # at most, for open pages to reload before the other pages render
EVENTS_PATH = "/__sitegen/events"
CLIENT_PATH = "/__sitegen/livereload.js"
CLIENT_TAG = f'<script src="{CLIENT_PATH}" defer></script>'.encode()
WATCHED_DIRS = ("content", "templates", "static")
MAX_URL_CHARS = 8192
"""Longer request targets are answered 414 (as most servers do)."""

CLIENT_JS = r"""
(() => {
  const show = (err) => {
    let box = document.getElementById("sitegen-error-overlay");
    if (!box) {
      box = document.createElement("div");
      box.id = "sitegen-error-overlay";
      box.setAttribute("role", "alert");
      box.style.cssText = "position:fixed;inset:auto 0 0 0;max-height:60vh;overflow:auto;z-index:2147483647;" +
        "background:#2b0b0b;color:#ffe9e6;font:14px/1.6 ui-monospace,monospace;padding:16px 20px;border-top:4px solid #ff5a4f;white-space:pre-wrap";
      document.body.append(box);
    }
    box.textContent = "sitegen: 重建失败 (build failed)\n" + (err.location ? err.location + "\n" : "") + err.message;
  };
  const hide = () => { const box = document.getElementById("sitegen-error-overlay"); if (box) box.remove(); };
  const here = () => decodeURI(location.pathname).replace(/index\.html$/, "");
  const swapStyles = (css) => {
    for (const link of document.querySelectorAll('link[rel="stylesheet"]')) {
      const name = Object.keys(css).find((n) => new URL(link.href).pathname.startsWith("/static/" + n.replace(/\.css$/, ".")));
      if (name) link.href = css[name];
    }
  };
  let version = null;
  const source = new EventSource("/__sitegen/events?page=" + encodeURIComponent(here()));
  source.addEventListener("state", (event) => {
    const state = JSON.parse(event.data);
    if (state.error) { show(state.error); version = state.version; return; }
    const wasBroken = !!document.getElementById("sitegen-error-overlay");
    hide();
    if (version !== null && state.version !== version) {
      // reload only a page that changed; a stylesheet edit swaps the stylesheet in place
      if (state.changed.includes(here()) || (wasBroken && state.changed.length)) {
        try { sessionStorage.setItem("sitegen-reload-at", String(Date.now())); } catch (e) {}
        location.reload();
      }
      else if (Object.keys(state.css).length) { swapStyles(state.css); }
    }
    version = state.version;
  });
})();
"""


@dataclass(frozen=True)
class BuildState:
    """The outcome of the latest build, as the browser sees it: which page URLs changed and
    the new URLs of changed stylesheets."""

    version: int
    error: dict[str, str] | None = None
    changed: tuple[str, ...] = ()
    css: tuple[tuple[str, str], ...] = ()

    def to_json(self) -> str:
        return json.dumps({"version": self.version, "error": self.error, "changed": list(self.changed),
                           "css": dict(self.css)}, ensure_ascii=False)


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
                    process = subprocess.Popen([sys.executable, "-m", "sitegen.search", str(self.out), str(fresh)],
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


class _Debouncer:
    """Collapses a burst of file events into one build after a quiet period."""

    def __init__(self, action, delay: float = DEBOUNCE_SECONDS) -> None:
        self.action = action  # called with the changed paths, or None: look at everything
        self.delay = delay
        self._timer: threading.Timer | None = None
        self._lock = threading.Lock()
        self._paths: set[str] | None = set()

    def trigger(self, path: str | None = None) -> None:
        """A change at ``path`` (``None``: somewhere, e.g. a folder moved)."""
        with self._lock:
            if self._paths is not None:
                if path is None:
                    self._paths = None
                else:
                    self._paths.add(path)
            if self._timer is not None:
                self._timer.cancel()
            self._timer = threading.Timer(self.delay, self._fire)
            self._timer.daemon = True
            self._timer.start()

    def _fire(self) -> None:
        with self._lock:
            paths, self._paths = self._paths, set()
        self.action(paths)

    def cancel(self) -> None:
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()


def _is_relevant(path: str, root: Path) -> bool:
    name = os.path.basename(path)
    if name.startswith((".#", ".tmp-")) or name.endswith(("~", ".swp", ".swx", ".tmp")) or name == "4913":
        return False
    try:
        rel = Path(path).resolve().relative_to(root.resolve())
    except ValueError:
        return False
    if not rel.parts:
        return False
    return rel.parts[0] in WATCHED_DIRS or rel.as_posix() == CONFIG_FILE


def start_watcher(root: Path, on_change) -> object:
    """Watch the site's sources with watchdog; ``on_change`` runs for relevant events."""
    from watchdog.events import FileSystemEventHandler
    from watchdog.observers import Observer

    class Handler(FileSystemEventHandler):
        def on_any_event(self, event) -> None:  # type: ignore[override]
            if event.event_type in {"opened", "closed_no_write"}:
                return
            if event.is_directory and event.event_type == "modified":
                return  # comes with the events of the files inside, which say more
            for path in (event.src_path, getattr(event, "dest_path", "") or ""):
                if path and _is_relevant(os.fsdecode(path), root):
                    on_change(None if event.is_directory else os.fsdecode(path))

    observer = Observer()
    for name in WATCHED_DIRS:
        if (root / name).is_dir():
            observer.schedule(Handler(), str(root / name), recursive=True)
    observer.schedule(Handler(), str(root), recursive=False)
    observer.daemon = True
    observer.start()
    return observer


class _PreviewServer(ThreadingHTTPServer):
    """The preview's HTTP server: a request that fails is one line in the log, never a traceback
    (a browser that hangs up early is not worth a line)."""

    daemon_threads = True

    def handle_error(self, request: object, client_address: tuple[str, int]) -> None:
        error = sys.exc_info()[1]
        if isinstance(error, (BrokenPipeError, ConnectionResetError, ConnectionAbortedError, TimeoutError)):
            return
        message = "".join(traceback.format_exception_only(error)).strip() if error else "unknown error"
        print(f"[sitegen] request from {client_address[0]} failed: {message}", file=sys.stderr, flush=True)


def make_handler(builder: SiteBuilder):
    """A request handler class serving ``builder.out`` with live reload injected."""
    site_dir = builder.out

    class Handler(SimpleHTTPRequestHandler):
        extensions_map = {
            **SimpleHTTPRequestHandler.extensions_map,
            ".wasm": "application/wasm", ".js": "text/javascript", ".mjs": "text/javascript",
            ".css": "text/css", ".json": "application/json", ".xml": "application/xml",
            ".svg": "image/svg+xml", ".pf_meta": "application/octet-stream",
            ".pf_index": "application/octet-stream", ".pf_fragment": "application/octet-stream",
            ".pf_filter": "application/octet-stream", ".pagefind": "application/octet-stream",
            ".html": "text/html; charset=utf-8", ".txt": "text/plain; charset=utf-8",
        }

        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, directory=str(site_dir), **kwargs)

        def log_message(self, format: str, *args) -> None:  # noqa: A002 - stdlib signature
            pass

        def do_GET(self) -> None:  # noqa: N802 - stdlib name
            if len(self.path) > MAX_URL_CHARS:
                return self._send(HTTPStatus.REQUEST_URI_TOO_LONG, b"URL too long", "text/plain; charset=utf-8")
            try:
                return self._get()
            except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError):
                return None
            except Exception as exc:  # noqa: BLE001 - one bad request must not stop the preview
                message = "".join(traceback.format_exception_only(exc)).strip()
                print(f"[sitegen] request {self.path[:200]} failed: {message}", file=sys.stderr, flush=True)
                return self._send(HTTPStatus.INTERNAL_SERVER_ERROR, message.encode(), "text/plain; charset=utf-8")

        def _get(self) -> None:
            path = urlsplit(self.path).path
            if path == EVENTS_PATH:
                return self._events()
            if path == CLIENT_PATH:
                return self._send(HTTPStatus.OK, CLIENT_JS.encode(), "text/javascript; charset=utf-8")
            if builder.pending:
                builder.wait_until_rendered(relpath_of(unquote(path)))
            target = self._resolve(path)
            if target is None:
                return self._not_found()
            if target.is_dir():
                if not path.endswith("/"):
                    self.send_response(HTTPStatus.MOVED_PERMANENTLY)
                    self.send_header("Location", path + "/")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return None
                target = target / "index.html"
                if not target.is_file():
                    return self._not_found()
            ctype = self.guess_type(str(target))
            data = target.read_bytes()
            if target.suffix == ".html":
                data = self._inject(data)
                self._send(HTTPStatus.OK, data, ctype)
                builder.page_served(relpath_of(unquote(path)))
                return None
            return self._send(HTTPStatus.OK, data, ctype)

        def do_HEAD(self) -> None:  # noqa: N802
            self.do_GET()

        def _resolve(self, url_path: str) -> Path | None:
            """The file for a URL path, or None when it is missing or outside the site."""
            relative = unquote(url_path).lstrip("/")
            if "\x00" in relative:
                return None
            root = Path(site_dir).resolve()
            try:
                candidate = (root / relative).resolve()
                if candidate != root and root not in candidate.parents:
                    return None
                return candidate if candidate.exists() else None
            except (OSError, ValueError):  # a name too long for the file system, say
                return None

        def _inject(self, html: bytes) -> bytes:
            index = html.rfind(b"</body>")
            return html[:index] + CLIENT_TAG + html[index:] if index != -1 else html + CLIENT_TAG

        def _not_found(self) -> None:
            page = Path(site_dir) / "404.html"
            body = self._inject(page.read_bytes()) if page.is_file() else b"<!doctype html><title>404</title><body>404</body>"
            if builder.state.error and not page.is_file():
                body = self._inject(b"<!doctype html><html lang=\"zh-CN\"><title>sitegen</title><body></body></html>")
            self._send(HTTPStatus.NOT_FOUND, body, "text/html; charset=utf-8")

        def _send(self, status: HTTPStatus, body: bytes, ctype: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            if ctype.startswith("text/html") or ctype.startswith("text/javascript"):
                self.send_header("Cache-Control", "no-store")
            else:
                self.send_header("Cache-Control", "no-cache")
            self.send_header("X-Content-Type-Options", "nosniff")
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def _events(self) -> None:
            page = parse_qs(urlsplit(self.path).query).get("page", [""])[0]
            self.send_response(HTTPStatus.OK)
            self.send_header("Content-Type", "text/event-stream; charset=utf-8")
            self.send_header("Cache-Control", "no-store")
            self.send_header("Connection", "keep-alive")
            self.end_headers()
            state = builder.state
            if page:
                builder.open_pages[page] = builder.open_pages.get(page, 0) + 1
            try:
                self.wfile.write(f"event: state\ndata: {state.to_json()}\n\n".encode())
                self.wfile.flush()
                while True:
                    new_state = builder.wait_for_change(state.version, timeout=15)
                    if new_state.version == state.version:
                        self.wfile.write(b": keep-alive\n\n")
                    else:
                        state = new_state
                        self.wfile.write(f"event: state\ndata: {state.to_json()}\n\n".encode())
                    self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError):
                return
            finally:
                if page:
                    builder.open_pages[page] -= 1
                    if builder.open_pages[page] <= 0:
                        del builder.open_pages[page]

    return Handler


def serve_site(root: Path, host: str = "127.0.0.1", port: int = 8000, open_browser: bool = False,
               search: bool = True) -> None:
    """Build, serve and watch until interrupted."""
    root = root.resolve()
    for needed in ("content", "templates"):
        if not (root / needed).is_dir():
            from sitegen.errors import UsageError

            raise UsageError(f"no {needed}/ folder in {root} (run sitegen from the site root or pass --root)")

    def stop(signum: int, frame: object) -> None:  # `kill` or a closed terminal: stop as Ctrl+C does
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    if hasattr(signal, "SIGHUP"):
        signal.signal(signal.SIGHUP, stop)
    work = Path(tempfile.mkdtemp(prefix="sitegen-serve-"))
    builder: SiteBuilder | None = None
    debouncer = observer = server = None
    try:
        builder = SiteBuilder(root, work / "site", search)
        first_progress = progress_for(sys.stderr)  # the first build of a big site takes a while; rebuilds are logged
        try:
            builder.build(progress=first_progress)
        finally:
            first_progress.clear()
        debouncer = _Debouncer(builder.build)
        watched_builder = builder

        def on_change(path: str | None) -> None:
            if watched_builder.first_event_at is None:
                watched_builder.first_event_at = time.time()
            watched_builder.stop_indexing()
            debouncer.trigger(path)

        observer = start_watcher(root, on_change)
        server = _PreviewServer((host, port), make_handler(builder))
        server.daemon_threads = True
        url = f"http://{host}:{server.server_address[1]}/"
        print(f"[sitegen] serving {root} at {url} (Ctrl+C to stop)", flush=True)
        if open_browser:
            webbrowser.open(url)
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        print("\n[sitegen] stopped", flush=True)
    finally:
        if debouncer is not None:
            debouncer.cancel()
        if builder is not None:
            builder.close()
        if observer is not None:
            observer.stop()  # type: ignore[attr-defined]
        if server is not None:
            server.server_close()
        shutil.rmtree(work, ignore_errors=True)
