"""The only code that writes the output folder: a new site staged and swapped in
(:class:`StagedSite`), changes applied in place to a served site (:func:`write_in_place`,
:func:`replace_folder`), and the checks and lock that keep a build from replacing anything
that is not its own (:func:`check_out_dir`, :class:`OutputLock`).

Every output path goes through an :class:`OutputSet` (which refuses unsafe paths and refuses
to write one path twice). A :class:`StagedSite` is a fresh staging folder beside the output:
a build writes each page into it as soon as it is rendered (nothing is held in memory),
adds the search index, and :meth:`StagedSite.publish` swaps it in with one atomic
``renameat2(RENAME_EXCHANGE)``; :func:`write_site` does the same for files gathered first
(the live preview). A failed or killed build leaves the previous output exactly as it was;
leftovers of a killed build are swept by the next one.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import fcntl
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path, PurePosixPath

from sitegen.errors import ContentError, SitegenError, UsageError
from sitegen.files import atomic_write

_UNSAFE_PARTS = frozenset({"", ".", ".."})


def safe_relpath(relpath: str) -> str:
    """Normalise an output path; refuse absolute paths, ``..``, backslashes and NULs."""
    if not relpath or "\x00" in relpath or "\\" in relpath:
        raise ContentError(f"unsafe output path {relpath!r}")
    if relpath[0] != "/" and not any(part in _UNSAFE_PARTS for part in relpath.split("/")):
        return relpath  # already normal: the common case, checked without pathlib
    path = PurePosixPath(relpath)
    if path.is_absolute() or any(part in {"..", "."} for part in path.parts) or not path.parts:
        raise ContentError(f"unsafe output path {relpath!r}")
    return str(path)


class OutputSet:
    """Output files by relative path, each written once. With a ``sink`` (a build) each file
    is handed to ``sink(relpath, data, extra)`` as it is added instead of being kept."""

    def __init__(self, sink: Callable[[str, bytes, object], None] | None = None) -> None:
        self.files: dict[str, bytes] = {}
        self.sources: dict[str, str] = {}
        self.sink = sink

    def add(self, relpath: str, data: bytes | str, source: str, extra: object = None) -> None:
        """Add a file; a second file for the same path is an error naming both sources.
        ``extra`` goes to the sink with it (a build's search-index request for the page)."""
        relpath = safe_relpath(relpath)
        if relpath in self.sources:
            raise ContentError(f"two pages want the output path /{relpath}: {self.sources[relpath]} and {source}", source)
        data = data.encode("utf-8") if isinstance(data, str) else data
        self.sources[relpath] = source
        if self.sink is not None:
            self.sink(relpath, data, extra)
        else:
            self.files[relpath] = data

    def __len__(self) -> int:
        return len(self.sources)


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def exchange_paths(a: Path, b: Path) -> bool:
    """Swap two paths in one atomic step (Linux ``renameat2(RENAME_EXCHANGE)``); False when
    the system cannot, in which case the caller falls back to two renames."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    return bool(renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0)


MARKER = ".sitegen-output"
"""A file in every output folder sitegen makes: the proof that replacing the folder deletes
nothing of the user's."""
_MARKER_TEXT = b"This folder is made by `sitegen build` and replaced by every build: do not keep files here.\n"


def check_out_dir(out: Path, root: Path, sources: tuple[Path, ...], ours: bool = False) -> None:
    """Refuse an output folder that is, holds or lies inside the site's sources (``sources``:
    content, templates, static, settings, cache) or the site itself, a file, or a folder with
    something in it that sitegen did not make (no :data:`MARKER`, and ``ours`` false: no
    record of an earlier build there)."""
    resolved = out.resolve()
    site = root.resolve()
    if site.is_relative_to(resolved) or resolved in {Path.home().resolve(), Path("/")}:
        raise UsageError(f"refusing to use {out} as the output folder: it would replace sources (it holds the site; "
                         "every build replaces the output folder: use one of its own, such as public/)")
    for source in sources:
        if resolved.is_relative_to(source.resolve()):
            raise UsageError(f"refusing to use {out} as the output folder: it would replace sources (it is "
                             f"inside {source}; every build replaces the output folder)")
    if out.exists() and not out.is_dir():
        raise UsageError(f"output path {out} exists and is not a folder")
    if out.is_dir() and not ours and not (out / MARKER).is_file() and any(out.iterdir()):
        raise UsageError(f"refusing to replace {out}: it is not empty and was not made by sitegen (it has no "
                         f"{MARKER} file); choose another --out or empty it")


class OutputLock:
    """An exclusive lock held for a whole build into ``out``: a second build into the same
    folder waits for the first (``on_wait`` is told once). The lock is on the folder that
    holds ``out`` (``flock`` on the folder itself), so nothing is left behind."""

    def __init__(self, out: Path, on_wait: Callable[[], None] | None = None) -> None:
        self.out = out
        self.on_wait = on_wait
        self.fd: int | None = None

    def __enter__(self) -> OutputLock:
        parent = self.out.absolute().parent
        parent.mkdir(parents=True, exist_ok=True)
        self.fd = os.open(parent, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if self.on_wait is not None:
                self.on_wait()
            fcntl.flock(self.fd, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self.fd is not None:
            os.close(self.fd)  # releases the lock
            self.fd = None


class StagedSite:
    """A new site written into a staging folder beside ``out`` and swapped in by
    :meth:`publish`; leaving the ``with`` block without publishing (an error, Ctrl+C)
    removes it and leaves ``out`` as it was. Hold an :class:`OutputLock` meanwhile."""

    def __init__(self, out: Path) -> None:
        self.out = out
        out.parent.mkdir(parents=True, exist_ok=True)
        self.path = Path(tempfile.mkdtemp(prefix=f".{out.name}.staging-", dir=out.parent))
        self.published = False
        self._folders: set[str] = {str(self.path)}  # folders known to exist (a big site has 20,000)
        self._linked: set[str] = set()  # files linked from the previous site: replaced, never written into
        self._written: set[str] = set()  # files written here
        self.write(MARKER, _MARKER_TEXT)

    def __enter__(self) -> StagedSite:
        return self

    def __exit__(self, *exc_info: object) -> None:
        if not self.published:
            shutil.rmtree(self.path, ignore_errors=True)

    def write(self, relpath: str, data: bytes) -> None:
        """Write one file (``relpath`` as checked by :class:`OutputSet`), replacing a file
        :meth:`keep_previous` linked there (never writing into it: it is the previous site's)."""
        target = self.path / relpath
        folder = str(target.parent)
        if folder not in self._folders:
            target.parent.mkdir(parents=True, exist_ok=True)
            self._folders.add(folder)
        if relpath in self._linked:
            self._linked.discard(relpath)
            target.unlink()
        self._written.add(relpath)
        target.write_bytes(data)  # a file written twice is this site's own

    def remove(self, relpath: str) -> None:
        """Take out a file :meth:`keep_previous` linked (``relpath`` as checked by
        :class:`OutputSet`), and the folders it leaves empty."""
        target = self.path / safe_relpath(relpath)
        try:
            target.unlink()
        except FileNotFoundError:
            return
        self._linked.discard(relpath)
        self._written.discard(relpath)
        parent = target.parent
        while parent != self.path and not any(parent.iterdir()):
            parent.rmdir()
            self._folders.discard(str(parent))
            parent = parent.parent

    def keep_previous(self, skip: str) -> None:
        """Start from the current site: every file of ``out`` but those under the folder
        ``skip`` is linked into the staging folder (hard links: a file written later replaces
        its link, the previous site is never changed)."""
        self._link(self.out, self.path, left_out={skip, MARKER})

    def link_tree(self, source: Path, relpath: str) -> None:
        """Put a copy of folder ``source`` at ``relpath`` (hard links: the files are never
        changed in place, only replaced)."""
        self._link(source, self.path / relpath)

    def _link(self, source: Path, target: Path, left_out: frozenset[str] | set[str] = frozenset()) -> None:
        """Hard-link every file under ``source`` to the same place under ``target``, but the
        files and folders of ``source`` itself named in ``left_out`` (one walk, one
        ``mkdir`` a folder: the staging folder of a big site is made of 20,000 folders)."""
        for folder, folders, files in os.walk(source):
            relative = os.path.relpath(folder, source)
            if relative == ".":
                folders[:] = [name for name in folders if name not in left_out]
                files = [name for name in files if name not in left_out]
            into = os.path.normpath(os.path.join(target, relative))
            os.makedirs(into, exist_ok=True)
            self._folders.add(into)
            prefix = os.path.relpath(into, self.path).replace(os.sep, "/")
            for name in files:
                os.link(os.path.join(folder, name), os.path.join(into, name))
                self._linked.add(name if prefix == "." else f"{prefix}/{name}")

    @property
    def written(self) -> int:
        """How many files the staging folder holds (linked or written)."""
        return len(self._linked) + len(self._written)

    def publish(self) -> None:
        """Make the staging folder the site, in one atomic step where the system allows.
        The staging folder must hold every file written into it (nothing else removed any)."""
        out, staging = self.out, self.path
        found = 0
        for dirpath, _dirnames, filenames in os.walk(staging):
            os.chmod(dirpath, 0o755)
            for name in filenames:
                os.chmod(os.path.join(dirpath, name), 0o644)
            found += len(filenames)
        if found != self.written:
            raise SitegenError(f"the new site lost files while it was written ({found:,} of {self.written:,} in "
                               f"{staging}); {out} was left as it was")
        _sweep_leftovers(out, keep=staging)
        previous = None
        if out.exists() and exchange_paths(staging, out):
            previous = staging  # one atomic step: ``out`` is the new site, ``staging`` the previous one
        else:
            if out.exists():
                previous = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
                os.rmdir(previous)
                os.replace(out, previous)
            os.replace(staging, out)
        self.published = True
        if previous is not None:
            _remove(previous, background=self.written >= BACKGROUND_REMOVAL)


def write_site(outputs: OutputSet, out: Path, post: Callable[[StagedSite], None] | None = None) -> None:
    """Write ``outputs`` to a staging folder, run ``post`` on it, then swap it into ``out``."""
    with StagedSite(out) as staged:
        for relpath in sorted(outputs.files):
            staged.write(relpath, outputs.files[relpath])
        if post is not None:
            post(staged)
        staged.publish()


BACKGROUND_REMOVAL = 10_000
"""A previous site of this many files or more is deleted by a process of its own, so the
build ends as soon as the new one is in place (at 10,000 items, 25,000 files and 20,000
folders take 4-8 s to delete on a slow disk); a smaller one at once."""


def _remove(folder: Path, background: bool) -> None:
    """Delete ``folder`` (a previous site), now or in a process that outlives this one
    (should it die, the next build sweeps the folder away)."""
    if background:
        try:
            subprocess.Popen(["rm", "-rf", "--", str(folder)], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, start_new_session=True)
            return
        except OSError:
            pass
    shutil.rmtree(folder, ignore_errors=True)


def _sweep_leftovers(out: Path, keep: Path) -> None:
    """Remove the staging and old folders of builds that were killed (and previous sites
    whose deletion did not finish), all but ``keep``."""
    for stale in out.parent.glob(f".{out.name}.*-*"):
        if stale != keep and stale.is_dir() and (".staging-" in stale.name or ".old-" in stale.name):
            shutil.rmtree(stale, ignore_errors=True)


def write_in_place(out: Path, files: dict[str, bytes], removed: list[str]) -> None:
    """Apply changes to a folder being served (the live preview): each file replaced
    atomically (a reader sees the old page or the new one), removed files deleted, and the
    folders they leave empty."""
    for relpath in sorted(files):
        atomic_write(out / safe_relpath(relpath), files[relpath])
    for relpath in removed:
        target = out / safe_relpath(relpath)
        target.unlink(missing_ok=True)
        parent = target.parent
        while parent != out and parent.is_dir() and not any(parent.iterdir()):
            parent.rmdir()
            parent = parent.parent


def replace_folder(out: Path, relpath: str, fresh: Path) -> None:
    """Put the folder ``fresh`` at ``out/relpath`` in one step (the previous one, if any, is
    swapped out and deleted): the live preview's new search index."""
    target = out / safe_relpath(relpath)
    if target.exists() and exchange_paths(fresh, target):
        shutil.rmtree(fresh, ignore_errors=True)
        return
    if target.exists():
        old = fresh.with_name(fresh.name + ".old")
        os.replace(target, old)
        os.replace(fresh, target)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(fresh, target)
