"""User-facing errors and warnings.

Every problem a user can cause (bad content, bad template, bad usage) is raised as a
:class:`SitegenError` subclass carrying the file and line it concerns and the exit code the
CLI should end with. The CLI prints the message without a traceback.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

EXIT_CONTENT = 1
EXIT_USAGE = 2


class SitegenError(Exception):
    """An error caused by the user's input; printed without a traceback."""

    exit_code = EXIT_CONTENT

    def __init__(self, message: str, path: Path | str | None = None, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.path = _shown(str(path)) if path is not None else None
        self.line = line

    def location(self) -> str:
        """``file:line`` (or just ``file``) of the problem, empty when unknown."""
        if self.path is None:
            return ""
        return f"{self.path}:{self.line}" if self.line else self.path

    def __str__(self) -> str:
        where = self.location()
        return f"{where}: {self.message}" if where else self.message


def _shown(path: str) -> str:
    """``path`` as a message names it: from the working folder when it lies below it (a
    site's files are named to messages by their absolute paths)."""
    if not os.path.isabs(path):
        return path
    try:
        shown = os.path.relpath(path)
    except (ValueError, OSError):  # on another drive, or the working folder is gone
        return path
    return path if shown == ".." or shown.startswith(".." + os.sep) else shown


class ContentError(SitegenError):
    """A content file (Markdown page, data file, raw document) is unusable."""


class TemplateError(SitegenError):
    """A Jinja2 template failed to load or render."""


class UsageError(SitegenError):
    """The command line or site layout is wrong."""

    exit_code = EXIT_USAGE


class StrictModeError(SitegenError):
    """Warnings were raised while ``--strict`` was in force."""


@dataclass
class Diagnostics:
    """Collects warnings of one run; each distinct warning is kept (and shown) once."""

    echo: bool = True
    warnings: list[str] = field(default_factory=list)
    _seen: set[str] = field(default_factory=set)
    before_echo: Callable[[], None] | None = None
    """Called before a warning is printed (to clear a progress line)."""

    def warn(self, message: str, path: Path | str | None = None, line: int | None = None) -> None:
        """Record a warning, printing it to stderr the first time it is seen."""
        text = str(SitegenError(message, path, line))
        if text in self._seen:
            return
        self._seen.add(text)
        self.warnings.append(text)
        self._show(text)

    def copy(self, echo: bool) -> Diagnostics:
        """A copy, with the warnings recorded so far, that shows what it records only when
        ``echo`` (a forked process's: :meth:`adopt` takes its warnings back)."""
        return Diagnostics(echo=echo, warnings=list(self.warnings), _seen=set(self._seen), before_echo=self.before_echo)

    def adopt(self, warnings: list[str], shown: bool = True) -> None:
        """Record the ``warnings`` another process recorded, and show them unless it did."""
        for text in warnings:
            if text not in self._seen:
                self._seen.add(text)
                self.warnings.append(text)
                if not shown:
                    self._show(text)

    def _show(self, text: str) -> None:
        if self.echo:
            if self.before_echo is not None:
                self.before_echo()
            print(f"warning: {text}", file=sys.stderr)

    def raise_if_strict(self, strict: bool) -> None:
        """Fail the run when ``strict`` is set and any warning was recorded."""
        if strict and self.warnings:
            raise StrictModeError(f"{len(self.warnings)} warning(s) and --strict is set")
