"""Progress of long work (a cold build of a big site), on one line of a terminal.

A build calls :meth:`Progress.stage` when it starts a stage and :meth:`Progress.advance`
as it goes; :data:`NO_PROGRESS` (CI, tests, ``sitegen serve``) ignores both. The line is
drawn at most ten times a second and only once the work has lasted half a second, so a
small build prints nothing; :meth:`Progress.clear` removes it before anything else is
printed."""

from __future__ import annotations

import os
import threading
import time
from typing import TextIO

_FIRST_DRAW_S = 0.5
_REDRAW_S = 0.1


class Progress:
    """Ignores everything: the base of :class:`TerminalProgress`, and :data:`NO_PROGRESS`."""

    def stage(self, label: str, total: int | None = None) -> None:
        """A new stage of ``total`` steps (``None``: not counted)."""

    def advance(self, steps: int = 1) -> None:
        """``steps`` more steps of the current stage are done."""

    def set(self, done: int) -> None:
        """``done`` steps of the current stage are done."""

    def clear(self) -> None:
        """Remove the line (before other output, and at the end)."""


NO_PROGRESS = Progress()


class TerminalProgress(Progress):
    """``label  done/total (percent)`` on one line of ``stream``, redrawn in place."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.started = time.monotonic()
        self.drawn_at = 0.0
        self.shown = False
        self.label = ""
        self.total: int | None = None
        self.done = 0
        self.lock = threading.Lock()  # Pagefind's answers are counted on another thread

    def stage(self, label: str, total: int | None = None) -> None:
        with self.lock:
            self.label, self.total, self.done = label, total, 0
            self._draw(force=True)

    def advance(self, steps: int = 1) -> None:
        with self.lock:
            self.done += steps
            self._draw()

    def set(self, done: int) -> None:
        with self.lock:
            self.done = done
            self._draw()

    def clear(self) -> None:
        with self.lock:
            if self.shown:
                self.stream.write("\r\x1b[K")
                self.stream.flush()
                self.shown = False

    def line(self) -> str:
        """The text of the line as it stands."""
        elapsed = time.monotonic() - self.started
        if self.total:
            done = min(self.done, self.total)
            return f"{self.label} {done:,}/{self.total:,} ({100 * done // self.total}%) · {elapsed:.0f}s"
        return f"{self.label}… · {elapsed:.0f}s"

    def _draw(self, force: bool = False) -> None:
        now = time.monotonic()
        if now - self.started < _FIRST_DRAW_S or (not force and now - self.drawn_at < _REDRAW_S):
            return
        self.stream.write("\r\x1b[K" + self.line())
        self.stream.flush()
        self.drawn_at = now
        self.shown = True


def progress_for(stream: TextIO) -> Progress:
    """A :class:`TerminalProgress` on ``stream`` when it is a terminal that understands
    ``ESC [ K`` (not ``TERM=dumb``); otherwise (CI, a pipe, a log file) :data:`NO_PROGRESS`."""
    if stream.isatty() and os.environ.get("TERM") != "dumb":
        return TerminalProgress(stream)
    return NO_PROGRESS
