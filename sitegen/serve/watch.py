"""Watching a site's sources: watchdog events, filtered and collapsed into builds."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from sitegen.config import CONFIG_FILE

if TYPE_CHECKING:
    from watchdog.observers.api import BaseObserver

DEBOUNCE_SECONDS = 0.1
WATCHED_DIRS = ("content", "templates", "static")


class Debouncer:
    """Collapses a burst of file events into one build after a quiet period."""

    def __init__(self, action: Callable[[set[str] | None], object], delay: float = DEBOUNCE_SECONDS) -> None:
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


def _is_relevant(path: str, root: Path, theme: tuple[Path, ...] = ()) -> bool:
    """Whether a change at ``path`` can change the site: a file in the site's sources or the
    theme's folders that is not an editor's temporary file."""
    name = os.path.basename(path)
    if name.startswith((".#", ".tmp-")) or name.endswith(("~", ".swp", ".swx", ".tmp")) or name == "4913":
        return False
    if any(Path(path).resolve().is_relative_to(folder.resolve()) for folder in theme):
        return True
    try:
        rel = Path(path).resolve().relative_to(root.resolve())
    except ValueError:
        return False
    if not rel.parts:
        return False
    return rel.parts[0] in WATCHED_DIRS or rel.as_posix() == CONFIG_FILE


def start_watcher(root: Path, theme: tuple[Path, ...], on_change: Callable[[str | None], None]) -> BaseObserver:
    """Watch the site's sources and the theme's folders (``theme``: the site's own
    ``templates/`` and ``static/`` and the theme's) with watchdog; ``on_change`` runs for
    relevant events."""
    from watchdog.events import FileSystemEvent, FileSystemEventHandler
    from watchdog.observers import Observer

    class Handler(FileSystemEventHandler):
        def on_any_event(self, event: FileSystemEvent) -> None:
            if event.event_type in {"opened", "closed_no_write"}:
                return
            if event.is_directory and event.event_type == "modified":
                return  # comes with the events of the files inside, which say more
            created = Path(os.fsdecode(event.src_path))
            if event.is_directory and event.event_type == "created" and created.parent == root \
                    and created.name in WATCHED_DIRS:
                observer.schedule(Handler(), str(created), recursive=True)  # a site's own templates/ begun
            for path in (event.src_path, getattr(event, "dest_path", "") or ""):
                if path and _is_relevant(os.fsdecode(path), root, theme):
                    on_change(None if event.is_directory else os.fsdecode(path))

    observer = Observer()
    watched = [root / name for name in WATCHED_DIRS] + [f for f in theme if not f.resolve().is_relative_to(root.resolve())]
    for folder in watched:
        if folder.is_dir():
            observer.schedule(Handler(), str(folder), recursive=True)
    observer.schedule(Handler(), str(root), recursive=False)
    observer.daemon = True
    observer.start()
    return observer
