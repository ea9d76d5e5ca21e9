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
leftovers of a killed build are swept by the next one. A build that starts from the current
site (:meth:`StagedSite.keep_previous`) keeps the site it replaced as a *spare* for the next
one, which then links again only the files that differ instead of the whole tree.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import fcntl
import hashlib
import os
import pickle
import shutil
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
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


def file_digest(data: bytes) -> str:
    """What a build records of each file it writes, to know it again by its bytes when its
    times are lost (an output folder restored from a CI cache): a 128-bit BLAKE2b."""
    return hashlib.blake2b(data, digest_size=16).hexdigest()


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


class FolderTimes:
    """When each folder of a site last changed (its ``st_mtime_ns``), as a walk of the site
    saw them, each noted before the folder is listed: a folder whose time is the
    same later still holds the names the walk saw (adding, removing or replacing a name
    changes it). A folder changed less than :data:`SETTLING_NS` before the walk began is
    noted as unknown: a change just after the walk could leave it the same time (a file
    system's clock ticks in milliseconds; git's "racily clean" files)."""

    def __init__(self) -> None:
        self.settled_before = time.time_ns() - SETTLING_NS
        self.times: dict[str, int | None] = {}  # folder ("" at the top, else ``a/b``) -> its time

    def note(self, folder: str, mtime_ns: int) -> None:
        """Note the time of ``folder``, read just before it is listed."""
        self.times[folder] = mtime_ns if mtime_ns < self.settled_before else None

    @classmethod
    def of_own(cls, times: Mapping[str, int]) -> FolderTimes:
        """The times of folders that nothing but this build changes (folders it just made,
        under its lock), trusted however recent: no change can follow unseen."""
        found = cls()
        found.times.update(times)
        return found


SETTLING_NS = 1_000_000_000
"""How long before a walk a folder must have last changed for its time to be trusted."""


def _folder_tree(listing: Mapping[str, int]) -> dict[str, dict[str, int | None]]:
    """The folders of a site's ``listing`` (relative path -> inode of each file): each
    folder ("" at the top, else ``a/b``) -> each name in it -> its file's inode, or None
    for a folder. The marker at the top is left out."""
    tree: dict[str, dict[str, int | None]] = {}
    for relpath, inode in listing.items():
        folder, _, name = relpath.rpartition("/")
        if not folder and name == MARKER:
            continue
        names = tree.get(folder)
        if names is None:
            names = tree[folder] = {}
            child = folder  # the folders above it: each in its parent
            while child:
                parent, _, child_name = child.rpartition("/")
                above = tree.setdefault(parent, {})
                if child_name in above:
                    break
                above[child_name] = None
                child = parent
        names[name] = inode
    return tree


_ABSENT = object()


class _SpareRecord:
    """What the spare held when it was kept: its folders' names (:func:`_folder_tree`) and
    their :class:`FolderTimes`, in a file beside it. Read once (the file is removed as the
    spare is taken) and only for the folder it was made for; a folder whose time differs
    is listed again."""

    _FORMAT = 1

    def __init__(self, tree: dict[str, dict[str, int | None]] | None = None,
                 times: dict[str, int | None] | None = None) -> None:
        self.tree = tree or {}
        self.times = times or {}

    def names(self, folder: str, path: str) -> tuple[dict[str, int | None], int] | None:
        """The names recorded in ``folder`` (at ``path``) and its time, when it is
        unchanged since."""
        recorded = self.times.get(folder)
        if recorded is None:
            return None
        try:
            same = os.stat(path, follow_symlinks=False).st_mtime_ns == recorded
        except OSError:
            return None
        return (self.tree.get(folder, {}), recorded) if same else None

    @staticmethod
    def _path(spare: Path) -> Path:
        return spare.with_name(spare.name + "-record")

    @staticmethod
    def _identity(spare: Path) -> tuple[int, int]:
        status = os.stat(spare, follow_symlinks=False)
        return status.st_dev, status.st_ino

    @classmethod
    def keep(cls, spare: Path, tree: dict[str, dict[str, int | None]], times: FolderTimes) -> None:
        """Record that ``spare`` (just renamed from the output folder) holds what a walk of
        that folder found: its files' ``tree`` (:func:`_folder_tree`, which gains the empty
        folders of ``times``) and ``times``. Its top folder was renamed: listed."""
        for folder in times.times:  # the empty folders too
            child = folder
            while child and child not in tree:
                tree[child] = {}
                parent, _, child_name = child.rpartition("/")
                tree.setdefault(parent, {})[child_name] = None
                child = parent
        settled = {folder: mtime for folder, mtime in times.times.items() if folder}
        try:
            atomic_write(cls._path(spare), pickle.dumps((cls._FORMAT, cls._identity(spare), tree, settled),
                                                        protocol=pickle.HIGHEST_PROTOCOL))
        except OSError:
            cls.forget(spare)

    @classmethod
    def take(cls, spare: Path) -> _SpareRecord:
        """The record of ``spare`` (about to be renamed), removed; empty when there is
        none, or it is not this folder's."""
        path = cls._path(spare)
        try:
            made_as, identity, tree, times = pickle.loads(path.read_bytes())
            if made_as != cls._FORMAT or identity != cls._identity(spare):
                return cls()
            return cls(tree, times)
        except Exception:  # noqa: BLE001 - no record, or a damaged one: every folder is listed
            return cls()
        finally:
            cls.forget(spare)

    @classmethod
    def forget(cls, spare: Path) -> None:
        """Remove the record of ``spare``, if any."""
        try:
            os.unlink(cls._path(spare))
        except OSError:
            pass


_LEDGER = ("_folders", "_settled", "_made", "_linked", "_written", "_digests", "_from_spare", "_previous")
"""The attributes of a :class:`StagedSite` that follow what was written."""


class StagedSite:
    """A new site written into a staging folder beside ``out`` and swapped in by
    :meth:`publish`; leaving the ``with`` block without publishing (an error, Ctrl+C)
    removes it and leaves ``out`` as it was. Hold an :class:`OutputLock` meanwhile.
    ``spare``: where the site replaced is kept for the next build (on the same file system
    as ``out``; else none is kept)."""

    def __init__(self, out: Path, spare: Path | None = None) -> None:
        self.out = out
        out.parent.mkdir(parents=True, exist_ok=True)
        self.path = Path(tempfile.mkdtemp(prefix=f".{out.name}.staging-", dir=out.parent))
        self.spare = spare if spare is not None and _same_device(spare.parent, out.parent) else None
        self.published = False
        self._folders: set[str] = {str(self.path)}  # folders known to exist (a big site has 20,000)
        self._settled: dict[str, tuple[int, int]] = {}  # folder -> its time and file count, unchanged since kept
        self._made: set[str] = {str(self.path)}  # folders made here (their mode is set on publishing)
        self._linked: set[str] = set()  # files linked from the previous site: replaced, never written into
        self._written: set[str] = set()  # files written here
        self._digests: dict[str, str] = {}  # of each file written here (:func:`file_digest`)
        self._from_spare = False  # the staging folder is the spare (:meth:`keep_previous`)
        self._previous: tuple[dict[str, dict[str, int | None]], FolderTimes] | None = None  # out as walked: the spare's record
        self.write(MARKER, _MARKER_TEXT)

    def __enter__(self) -> StagedSite:
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self.published:
            return
        if self._from_spare and self.spare is not None and not self.spare.exists():
            try:  # still a spare: the next build links again only what differs from the site
                os.rename(self.path, self.spare)
                return
            except OSError:
                pass
        shutil.rmtree(self.path, ignore_errors=True)

    def ledger(self) -> dict[str, object]:
        """What this object knows of the staging folder's files and folders: a forked
        process that wrote into the folder hands it back (:meth:`adopt`)."""
        return {name: getattr(self, name) for name in _LEDGER}

    def adopt(self, ledger: Mapping[str, object]) -> None:
        """Take the :meth:`ledger` of a forked process that wrote into this staging folder."""
        for name in _LEDGER:
            setattr(self, name, ledger[name])

    def write(self, relpath: str, data: bytes) -> None:
        """Write one file (``relpath`` as checked by :class:`OutputSet`), replacing a file
        :meth:`keep_previous` linked there (never writing into it: it is the previous site's)."""
        target = self.path / relpath
        folder = str(target.parent)
        if folder not in self._folders:
            self._make_folders(folder)
            self._folders.add(folder)
        if relpath in self._linked:
            self._linked.discard(relpath)
            target.unlink()
        self._written.add(relpath)
        self._digests[relpath] = file_digest(data)
        target.write_bytes(data)  # a file written twice is this site's own

    def _make_folders(self, folder: str) -> None:
        """Make ``folder`` and the folders above it that are missing, each noted as made."""
        missing = []
        while folder not in self._folders and not os.path.isdir(folder):
            missing.append(folder)
            folder = os.path.dirname(folder)
        for path in reversed(missing):
            os.mkdir(path)
            self._made.add(path)
            self._folders.add(path)

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
        self._digests.pop(relpath, None)
        self._remove_if_empty(target.parent)

    def _remove_if_empty(self, folder: Path) -> None:
        """Remove ``folder`` and the folders above it that it leaves empty (``rmdir`` fails on
        a folder with files: a folder of 20,000 fragments is not listed to find out)."""
        while folder != self.path:
            try:
                folder.rmdir()
            except OSError:
                return
            self._folders.discard(str(folder))
            folder = folder.parent

    def keep_previous(self, listing: Mapping[str, int], times: FolderTimes | None = None) -> None:
        """Start from the current site, whose every file is in ``listing`` (relative path ->
        inode, as the caller just walked ``out``, noting its folders' ``times``): every file
        of ``out`` is linked into the staging folder (hard links: a file written later
        replaces its link, the previous site is never changed). When the site ``out``
        replaced was kept as the ``spare`` (see :meth:`publish`), that folder becomes the
        staging folder and only the files that differ from ``out`` are linked again: no
        20,000 folders made anew. A folder of the spare whose time is the one recorded when
        it became the spare is known without listing it (:class:`FolderTimes`)."""
        assert self._written == {MARKER} and not self._linked, "keep the previous site first"
        tree = _folder_tree(listing)
        if times is not None:
            self._previous = (tree, times)
        recorded = self._take_spare()
        if recorded is not None:
            self._from_spare = True
            self._mirror(tree, listing, recorded)
        else:
            self._link(self.out, self.path, left_out={MARKER})

    def keeps(self, relpath: str) -> bool:
        """Whether ``relpath`` is the previous site's file, linked by :meth:`keep_previous`
        and not written since (a caller that knows it holds the bytes it would write, from
        its record of the previous site, need not write it)."""
        return relpath in self._linked

    def remove_linked_under(self, prefix: str, keep: set[str]) -> None:
        """Take out every file under ``prefix`` (a folder path ending in ``/``) that was
        linked from the previous site and is not in ``keep`` (:meth:`remove`)."""
        folders: set[Path] = set()
        for relpath in sorted(r for r in self._linked if r.startswith(prefix) and r not in keep):
            target = self.path / relpath
            target.unlink()
            self._linked.discard(relpath)
            folders.add(target.parent)
        for folder in sorted(folders, key=lambda f: len(f.parts), reverse=True):
            self._remove_if_empty(folder)

    def _take_spare(self) -> _SpareRecord | None:
        """Make the spare folder the staging folder (with this folder's marker); returns
        what was recorded of the spare when it was kept (empty when nothing was, or it is
        not this folder's), None when there is no spare of ours."""
        if self.spare is None or not made_by_sitegen(self.spare):
            return None
        recorded = _SpareRecord.take(self.spare)
        marker = self.path / MARKER
        marker.unlink()
        os.rmdir(self.path)
        try:
            os.rename(self.spare, self.path)
        except OSError:
            os.mkdir(self.path, 0o700)
            return None
        finally:
            marker.write_bytes(_MARKER_TEXT)  # the spare's own is the replaced site's
        return recorded

    def _mirror(self, tree: dict[str, dict[str, int | None]], listing: Mapping[str, int],
                recorded: _SpareRecord) -> None:
        """Make the staging folder (the spare: an earlier site) hold exactly the files
        ``listing`` names (their ``tree``), each a hard link to the file of ``out``: a file
        already linked there (the same inode) stays, any other is replaced or removed (the
        marker at the top is the staging folder's own). A folder is listed unless its names are
        ``recorded`` (and it is unchanged since)."""
        root = str(self.path)
        pending = [""]
        while pending:
            folder = pending.pop()
            target = f"{root}/{folder}" if folder else root
            wanted = tree.get(folder, {})
            known = recorded.names(folder, target)
            if known is not None and known[0] == wanted:
                self._settled[target] = (known[1], sum(1 for inode in wanted.values() if inode is not None))
            else:
                if known is not None:
                    present = known[0]
                else:
                    with os.scandir(target) as entries:
                        present = {entry.name: None if entry.is_dir(follow_symlinks=False) else entry.inode()
                                   for entry in entries if entry.name != MARKER or folder}
                if present != wanted:
                    self._reconcile(target, folder, wanted, present)
            pending.extend(f"{folder}/{name}" if folder else name for name, inode in wanted.items() if inode is None)
        self._folders.update(f"{root}/{folder}" for folder in tree if folder)
        self._linked.update(listing.keys() - {MARKER})

    def _reconcile(self, target: str, folder: str, wanted: dict[str, int | None],
                   present: dict[str, int | None]) -> None:
        """Make ``target`` (``folder`` of the staging folder, holding the names ``present``:
        each its file's inode, None for a folder) hold the names ``wanted``, each file a
        hard link to the file of ``out``."""
        for name, inode in present.items():
            if name not in wanted or (wanted[name] is None) != (inode is None):
                path = os.path.join(target, name)
                if inode is None:
                    shutil.rmtree(path)
                else:
                    os.unlink(path)
        for name, inode in wanted.items():
            kept = present.get(name, _ABSENT)
            if kept == inode:
                continue  # the same folder, or the same file
            path = os.path.join(target, name)
            if kept is not _ABSENT and kept is not None and inode is not None:
                os.unlink(path)  # another file
            elif inode is None:
                os.mkdir(path)
                self._made.add(path)
                continue
            os.link(os.path.join(self.out, f"{folder}/{name}" if folder else name), path)

    def _aside(self, folder: str) -> Path:
        """Move ``folder`` (a spare not taken) out of the way to be deleted: beside the
        output, named as a killed build's leftovers are, so the next build sweeps it should
        its deletion not finish."""
        aside = Path(tempfile.mkdtemp(prefix=f".{self.out.name}.old-", dir=self.out.parent))
        os.rename(folder, aside / "folder")
        return aside

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
            self._made.add(into)
            prefix = os.path.relpath(into, self.path).replace(os.sep, "/")
            for name in files:
                os.link(os.path.join(folder, name), os.path.join(into, name))
                self._linked.add(name if prefix == "." else f"{prefix}/{name}")

    @property
    def written(self) -> int:
        """How many files the staging folder holds (linked or written)."""
        return len(self._linked) + len(self._written)

    @property
    def linked(self) -> frozenset[str]:
        """The files linked from the previous site and not written since."""
        return frozenset(self._linked)

    @property
    def written_paths(self) -> frozenset[str]:
        """The files written into the staging folder."""
        return frozenset(self._written)

    @property
    def written_digests(self) -> Mapping[str, str]:
        """The :func:`file_digest` of each file written into the staging folder."""
        return self._digests

    def _count_files(self) -> int:
        """How many files the staging folder holds: in each folder still at the time it had
        when its names were known from the spare's record, as many as it had then; the
        others listed (and any folder found that this site did not make, walked)."""
        found = 0
        for folder in self._folders:
            settled = self._settled.get(folder)
            try:
                if settled is not None and os.stat(folder, follow_symlinks=False).st_mtime_ns == settled[0]:
                    found += settled[1]
                    continue
                with os.scandir(folder) as entries:
                    for entry in entries:
                        if not entry.is_dir(follow_symlinks=False):
                            found += 1
                        elif entry.path not in self._folders:
                            found += _files_under(entry.path)
            except OSError:
                continue  # gone: its files are missing from the count
        return found

    def publish(self) -> None:
        """Make the staging folder the site, in one atomic step where the system allows.
        The staging folder must hold every file written into it (nothing else removed any).
        The files written and the folders made here are made readable by all (whatever the
        umask); a file linked from the previous site was made so when that site was
        published (setting every file's mode took most of a build's publishing: 25,000
        files at 10,000 items)."""
        out, staging = self.out, self.path
        found = self._count_files()
        if found != self.written:
            raise SitegenError(f"the new site lost files while it was written ({found:,} of {self.written:,} in "
                               f"{staging}); {out} was left as it was")
        for folder in self._made:
            if os.path.isdir(folder):  # (not taken away since as an empty folder)
                os.chmod(folder, 0o755)
        for relpath in self._written:
            os.chmod(os.path.join(staging, relpath), 0o644)
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
        self._retire(previous)

    def _retire(self, previous: Path | None) -> None:
        """Delete the site just replaced (``previous``), or keep it as the spare the next
        build starts from when most of the new site's files are linked from it; when it is
        not kept (a first or cold build, one that rewrote most files), the spare is a copy
        of the site just published (:func:`_copy_as_spare`). A spare not taken is out of
        date: deleted."""
        spare = self.spare
        if spare is not None:
            _SpareRecord.forget(spare)
            if made_by_sitegen(spare):
                remove_tree(self._aside(str(spare)), background=True)
        if previous is not None:
            if spare is not None and not os.path.lexists(spare) and len(self._linked) >= self.written * SPARE_SHARE:
                try:
                    spare.parent.mkdir(parents=True, exist_ok=True)
                    os.rename(previous, spare)
                except OSError:
                    pass
                else:
                    if self._previous is not None:
                        _SpareRecord.keep(spare, *self._previous)
                    return
            remove_tree(previous, background=self.written >= BACKGROUND_REMOVAL)
        if spare is not None and not os.path.lexists(spare):
            _copy_as_spare(self.out, spare)


def _copy_as_spare(out: Path, spare: Path) -> None:
    """Keep a copy of the site just published at ``out`` as the ``spare`` the next build
    starts from (every file hard-linked into a new folder, the marker its own, the folders'
    modes as published), with its record: its folders' times are trusted however recent,
    as this build made them under its lock. Without it, the first build after a cold one
    links the whole site into its staging folder (0.6 s of its 5.6 s at 10,000 items on a
    RAM disk) and lists every folder; made here, once the site is out, it costs the cold
    build about as much. Nothing is kept when anything fails (the folder left is then a
    killed build's leftover, swept)."""
    try:
        making = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))  # (swept if left)
    except OSError:
        return
    try:
        listing: dict[str, int] = {}  # relative path -> inode of each file
        folders: list[str] = []
        pending = [""]
        while pending:
            folder = pending.pop()
            source = os.path.join(out, folder) if folder else str(out)
            target = os.path.join(making, folder) if folder else str(making)
            with os.scandir(source) as entries:
                for entry in entries:
                    relpath = f"{folder}/{entry.name}" if folder else entry.name
                    if entry.is_dir(follow_symlinks=False):
                        os.mkdir(os.path.join(target, entry.name))
                        folders.append(relpath)
                        pending.append(relpath)
                    elif relpath != MARKER:
                        os.link(entry.path, os.path.join(target, entry.name))
                        listing[relpath] = entry.inode()
        times: dict[str, int] = {}
        for folder in folders:  # its modes as published, then its times (nothing changes it after)
            os.chmod(os.path.join(making, folder), stat.S_IMODE(os.stat(os.path.join(out, folder)).st_mode))
            times[folder] = os.stat(os.path.join(making, folder)).st_mtime_ns
        (making / MARKER).write_bytes(_MARKER_TEXT)  # its own, not the site's
        spare.parent.mkdir(parents=True, exist_ok=True)
        os.rename(making, spare)
    except OSError:
        shutil.rmtree(making, ignore_errors=True)
        return
    _SpareRecord.keep(spare, _folder_tree(listing), FolderTimes.of_own(times))


def write_site(outputs: OutputSet, out: Path, post: Callable[[StagedSite], None] | None = None) -> None:
    """Write ``outputs`` to a staging folder, run ``post`` on it, then swap it into ``out``."""
    with StagedSite(out) as staged:
        for relpath in sorted(outputs.files):
            staged.write(relpath, outputs.files[relpath])
        if post is not None:
            post(staged)
        staged.publish()


SPARE_SHARE = 0.5
"""A site replaced by a build that linked at least this share of its files from it is kept
as the spare (:meth:`StagedSite.keep_previous`)."""


def _files_under(folder: str) -> int:
    """How many files (anything but a folder) there are under ``folder``."""
    count = 0
    with os.scandir(folder) as entries:
        for entry in entries:
            count += _files_under(entry.path) if entry.is_dir(follow_symlinks=False) else 1
    return count


def made_by_sitegen(folder: Path) -> bool:
    """Whether ``folder`` is a site sitegen made (a real folder holding :data:`MARKER`)."""
    return not folder.is_symlink() and (folder / MARKER).is_file()


def _same_device(a: Path, b: Path) -> bool:
    """Whether the nearest existing folders of ``a`` and ``b`` are on one file system (a
    folder renamed from one to the other stays whole, and hard links work)."""
    def device(path: Path) -> int:
        while not path.exists():
            path = path.parent
        return path.stat().st_dev

    return device(a) == device(b)


BACKGROUND_REMOVAL = 10_000
"""A previous site of this many files or more is deleted by a process of its own, so the
build ends as soon as the new one is in place (at 10,000 items, 25,000 files and 20,000
folders take 4-8 s to delete on a slow disk); a smaller one at once."""


def remove_tree(folder: Path, background: bool) -> None:
    """Delete ``folder`` (a previous site, or records put aside), now or in a process that
    outlives this one (should it die, the next build sweeps the folder away)."""
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
