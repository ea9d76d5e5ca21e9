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
from urllib.parse import unquote, urlsplit

from sitegen.build import BuildOptions, build_site
from sitegen.config import CONFIG_FILE
from sitegen.errors import Diagnostics, SitegenError
from sitegen.output import exchange_paths

DEBOUNCE_SECONDS = 0.1
EVENTS_PATH = "/__sitegen/events"
CLIENT_PATH = "/__sitegen/livereload.js"
CLIENT_TAG = f'<script src="{CLIENT_PATH}" defer></script>'.encode()
WATCHED_DIRS = ("content", "templates", "static")

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
  const source = new EventSource("/__sitegen/events");
  source.addEventListener("state", (event) => {
    const state = JSON.parse(event.data);
    if (state.error) { show(state.error); version = state.version; return; }
    const wasBroken = !!document.getElementById("sitegen-error-overlay");
    hide();
    if (version !== null && state.version !== version) {
      // reload only a page that changed; a stylesheet edit swaps the stylesheet in place
      if (state.changed.includes(here()) || (wasBroken && state.changed.length)) { location.reload(); }
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


def url_of(relpath: str) -> str:
    """The URL path a browser shows for an output file."""
    if relpath == "index.html":
        return "/"
    if relpath.endswith("/index.html"):
        return "/" + relpath[: -len("index.html")]
    return "/" + relpath


class SiteBuilder:
    """Runs builds one at a time and publishes their outcome to waiting clients."""

    def __init__(self, root: Path, out: Path, search: bool) -> None:
        self.root = root
        self.out = out
        self.search = search
        self.state = BuildState(0)
        self.changed = threading.Condition()
        self._lock = threading.Lock()
        self._digests: dict[str, str] = {}
        self._index_generation = 0

    def _changes(self, digests: dict[str, str], assets: dict[str, str]) -> tuple[tuple[str, ...], tuple[tuple[str, str], ...]]:
        old = self._digests
        paths = sorted({p for p in digests if old.get(p) != digests[p]} | (set(old) - set(digests)))
        self._digests = digests
        css = tuple(sorted((name, url) for name, url in assets.items()
                           if name.endswith(".css") and any(p.startswith("static/" + name[:-4] + ".") for p in paths)))
        return tuple(url_of(p) for p in paths if p.endswith(".html") or not p.startswith("static/")), css

    def _index_in_background(self) -> None:
        """Re-index search after a rebuild without holding up the reload: a separate
        low-priority process reads the built site (so it never competes for this process's
        GIL); a newer build supersedes an index still being made."""
        self._index_generation += 1
        generation = self._index_generation
        snapshot = Path(tempfile.mkdtemp(prefix="sitegen-snapshot-", dir=self.out.parent)) / "site"
        shutil.copytree(self.out, snapshot, copy_function=os.link, ignore=shutil.ignore_patterns("pagefind"))

        def work() -> None:
            fresh = Path(tempfile.mkdtemp(prefix="sitegen-index-", dir=self.out.parent)) / "pagefind"
            try:
                with self._lock:
                    superseded = generation != self._index_generation
                if superseded:
                    return
                finished = subprocess.run([sys.executable, "-m", "sitegen.search", str(snapshot), str(fresh)],
                                          capture_output=True, text=True, check=False)
                if finished.returncode != 0:
                    raise RuntimeError((finished.stderr or finished.stdout).strip()[-300:])
                with self._lock:
                    if generation != self._index_generation or not self.out.is_dir():
                        return
                    target = self.out / "pagefind"
                    if not (target.exists() and exchange_paths(fresh, target)):
                        if target.exists():
                            os.replace(target, fresh.parent / "old")
                        os.replace(fresh, target)
            except Exception as exc:  # noqa: BLE001 - a failed index must not stop the preview
                print(f"[sitegen] search index failed: {exc}", file=sys.stderr, flush=True)
            finally:
                shutil.rmtree(fresh.parent, ignore_errors=True)
                shutil.rmtree(snapshot.parent, ignore_errors=True)

        threading.Thread(target=work, name="sitegen-index", daemon=True).start()

    def build(self) -> BuildState:
        """Build now; on failure keep the previous output and record the error."""
        with self._lock:
            started = time.perf_counter()
            error: dict[str, str] | None = None
            changed: tuple[str, ...] = ()
            css: tuple[tuple[str, str], ...] = ()
            try:
                first = not self._digests
                options = BuildOptions(root=self.root, out=self.out, search=self.search,
                                       background_search=self.search and not first, record_digests=True)
                result = build_site(options, Diagnostics())
                changed, css = self._changes(result.digests, result.assets)
                print(f"[sitegen] {result.summary()}", flush=True)
                if options.background_search:
                    self._index_in_background()
            except SitegenError as exc:
                error = {"message": exc.message, "location": exc.location()}
                print(f"[sitegen] build failed: {exc}", file=sys.stderr, flush=True)
            except Exception as exc:  # noqa: BLE001 - the preview must survive any failure
                error = {"message": "".join(traceback.format_exception_only(exc)).strip(), "location": ""}
                print(f"[sitegen] build crashed: {error['message']}", file=sys.stderr, flush=True)
            with self.changed:
                self.state = BuildState(self.state.version + 1, error, changed, css)
                self.changed.notify_all()
            if error is None:
                print(f"[sitegen] rebuilt in {time.perf_counter() - started:.2f}s", flush=True)
            return self.state

    def wait_for_change(self, version: int, timeout: float) -> BuildState:
        """Block until the state's version differs from ``version`` (or ``timeout``)."""
        with self.changed:
            self.changed.wait_for(lambda: self.state.version != version, timeout=timeout)
            return self.state


class _Debouncer:
    """Collapses a burst of file events into one build after a quiet period."""

    def __init__(self, action, delay: float = DEBOUNCE_SECONDS) -> None:
        self.action = action
        self.delay = delay
        self._timer: threading.Timer | None = None
        self._lock = threading.Lock()

    def trigger(self) -> None:
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
            self._timer = threading.Timer(self.delay, self.action)
            self._timer.daemon = True
            self._timer.start()

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
            paths = [event.src_path, getattr(event, "dest_path", "") or ""]
            if any(p and _is_relevant(os.fsdecode(p), root) for p in paths):
                on_change()

    observer = Observer()
    for name in WATCHED_DIRS:
        if (root / name).is_dir():
            observer.schedule(Handler(), str(root / name), recursive=True)
    observer.schedule(Handler(), str(root), recursive=False)
    observer.daemon = True
    observer.start()
    return observer


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
            path = urlsplit(self.path).path
            if path == EVENTS_PATH:
                return self._events()
            if path == CLIENT_PATH:
                return self._send(HTTPStatus.OK, CLIENT_JS.encode(), "text/javascript; charset=utf-8")
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
            return self._send(HTTPStatus.OK, data, ctype)

        def do_HEAD(self) -> None:  # noqa: N802
            self.do_GET()

        def _resolve(self, url_path: str) -> Path | None:
            """The file for a URL path, or None when it is missing or outside the site."""
            relative = unquote(url_path).lstrip("/")
            if "\x00" in relative:
                return None
            root = Path(site_dir).resolve()
            candidate = (root / relative).resolve()
            if candidate != root and root not in candidate.parents:
                return None
            return candidate if candidate.exists() else None

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
            self.send_response(HTTPStatus.OK)
            self.send_header("Content-Type", "text/event-stream; charset=utf-8")
            self.send_header("Cache-Control", "no-store")
            self.send_header("Connection", "keep-alive")
            self.end_headers()
            state = builder.state
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

    return Handler


def serve_site(root: Path, host: str = "127.0.0.1", port: int = 8000, open_browser: bool = False,
               search: bool = True) -> None:
    """Build, serve and watch until interrupted."""
    root = root.resolve()
    for needed in ("content", "templates"):
        if not (root / needed).is_dir():
            from sitegen.errors import UsageError

            raise UsageError(f"no {needed}/ folder in {root} (run sitegen from the site root or pass --root)")
    work = Path(tempfile.mkdtemp(prefix="sitegen-serve-"))
    builder = SiteBuilder(root, work / "site", search)
    builder.build()
    debouncer = _Debouncer(builder.build)
    observer = start_watcher(root, debouncer.trigger)
    server = ThreadingHTTPServer((host, port), make_handler(builder))
    server.daemon_threads = True
    url = f"http://{host}:{server.server_address[1]}/"
    print(f"[sitegen] serving {root} at {url} (Ctrl+C to stop)", flush=True)
    if open_browser:
        webbrowser.open(url)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        print("\n[sitegen] stopped", flush=True)
    finally:
        debouncer.cancel()
        observer.stop()  # type: ignore[attr-defined]
        server.server_close()
        shutil.rmtree(work, ignore_errors=True)
