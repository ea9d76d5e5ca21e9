"""The live preview's HTTP server: the built folder, with the live-reload script injected,
held requests for pages still being rendered, and a 404 page."""

from __future__ import annotations

import sys
import traceback
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from sitegen.serve.builder import SiteBuilder
from sitegen.serve.livereload import CLIENT_JS, CLIENT_PATH, CLIENT_TAG, EVENTS_PATH
from sitegen.urls import relpath_of

MAX_URL_CHARS = 8192
"""Longer request targets are answered 414 (as most servers do)."""


class PreviewServer(ThreadingHTTPServer):
    """The preview's HTTP server: a request that fails is one line in the log, never a traceback
    (a browser that hangs up early is not worth a line)."""

    daemon_threads = True

    def handle_error(self, request: object, client_address: tuple[str, int]) -> None:
        error = sys.exc_info()[1]
        if isinstance(error, (BrokenPipeError, ConnectionResetError, ConnectionAbortedError, TimeoutError)):
            return
        message = "".join(traceback.format_exception_only(error)).strip() if error else "unknown error"
        print(f"[sitegen] request from {client_address[0]} failed: {message}", file=sys.stderr, flush=True)


def make_handler(builder: SiteBuilder) -> type[SimpleHTTPRequestHandler]:
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

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, directory=str(site_dir), **kwargs)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
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
