"""``sitegen serve``: the editor's live preview.

Builds the site into a private folder (:mod:`.builder`), serves it on 127.0.0.1
(:mod:`.http`), watches ``content/``, ``templates/``, ``static/`` and ``sitegen.yaml``
(:mod:`.watch`), rebuilds after a short debounce, and tells open pages over Server-Sent
Events to reload (:mod:`.livereload`). A failed rebuild keeps the last good site served and
shows the error (file, line, message) as an overlay in the page; the next good build removes
it.
"""

from __future__ import annotations

import shutil
import signal
import sys
import tempfile
import threading
import time
import webbrowser
from pathlib import Path
from typing import TYPE_CHECKING

from sitegen.progress import progress_for
from sitegen.serve.builder import SiteBuilder
from sitegen.serve.http import PreviewServer, make_handler
from sitegen.serve.watch import Debouncer, start_watcher
from sitegen.site.session import require_site
from sitegen.theme import theme_folders

if TYPE_CHECKING:
    from watchdog.observers.api import BaseObserver

__all__ = ["SiteBuilder", "serve_site"]


def serve_site(root: Path, host: str = "127.0.0.1", port: int = 8000, open_browser: bool = False,
               search: bool = True) -> None:
    """Build, serve and watch until interrupted."""
    root = root.resolve()
    require_site(root)
    stopping = threading.Event()
    serving: list[PreviewServer] = []

    def stop(signum: int, frame: object) -> None:
        """Ctrl+C, `kill` or a closed terminal. While serving, the server is told to stop from
        a thread of its own: a KeyboardInterrupt raised wherever the main thread happens to be
        can land in a garbage collector's callback, where Python drops it, and the preview
        would go on running. During the first build the build is cut short."""
        stopping.set()
        if serving:
            threading.Thread(target=serving[0].shutdown, name="sitegen-stop", daemon=True).start()
        else:
            raise KeyboardInterrupt

    for name in ("SIGINT", "SIGTERM", "SIGHUP"):
        number = getattr(signal, name, None)
        if number is not None and signal.getsignal(number) is not signal.SIG_IGN:  # a background job ignores ^C
            signal.signal(number, stop)
    work = Path(tempfile.mkdtemp(prefix="sitegen-serve-"))
    builder: SiteBuilder | None = None
    debouncer: Debouncer | None = None
    observer: BaseObserver | None = None
    server: PreviewServer | None = None
    try:
        builder = SiteBuilder(root, work / "site", search)
        first_progress = progress_for(sys.stderr)  # the first build of a big site takes a while; rebuilds are logged
        try:
            builder.build(progress=first_progress)
        finally:
            first_progress.clear()
        debouncer = Debouncer(builder.build)
        watched_builder = builder

        def on_change(path: str | None) -> None:
            if watched_builder.first_event_at is None:
                watched_builder.first_event_at = time.time()
            watched_builder.stop_indexing()
            debouncer.trigger(path)

        observer = start_watcher(root, theme_folders(root).all, on_change)
        server = PreviewServer((host, port), make_handler(builder))
        server.daemon_threads = True
        serving.append(server)
        if stopping.is_set():  # a stop asked for during the first build that did not land
            raise KeyboardInterrupt
        url = f"http://{host}:{server.server_address[1]}/"
        print(f"[sitegen] serving {root} at {url} (Ctrl+C to stop)", flush=True)
        if open_browser:
            webbrowser.open(url)
        server.serve_forever(poll_interval=0.2)  # returns when stop() shuts it down
        print("\n[sitegen] stopped", flush=True)
    except KeyboardInterrupt:
        print("\n[sitegen] stopped", flush=True)
    finally:
        if debouncer is not None:
            debouncer.cancel()
        if builder is not None:
            builder.close()
        if observer is not None:
            observer.stop()
        if server is not None:
            server.server_close()
        shutil.rmtree(work, ignore_errors=True)
