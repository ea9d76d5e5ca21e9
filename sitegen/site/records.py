"""What a build keeps in ``.sitegen-cache/`` for each output folder it builds into, and when
that goes.

An output folder's records share one stem, ``build-`` and a digest of the folder's path
(from the site's root when inside it: :func:`sitegen.site.build._out_name`): the manifest
(``.json``, written last, naming the folder), the last build's state, the files' digests,
the site's model, the search shards, the spare site and its record. A build holds its
stem's :class:`RecordsLock` from start to end, and ends by dropping the records of the
output folders that are gone (:func:`drop_records_of_gone_outputs`): at 10,000 items they
are about 200 MB, and the spare alone holds the deleted site's bytes.
"""

from __future__ import annotations

import fcntl
import json
import os
import tempfile
from pathlib import Path

from sitegen.output import made_by_sitegen, remove_tree

STEM_PREFIX = "build-"
LOCK_SUFFIX = ".lock"
_DROPPED = ".gone-"
"""What the folder records are put aside in, to be removed, has in its name."""


class RecordsLock:
    """An exclusive lock on one output folder's records (``flock`` on the file
    ``<stem>.lock`` beside them), held by the build into that folder for its whole run and
    taken without waiting by a build that would drop them. The file goes with the records:
    a lock taken on a file removed meanwhile is taken again on the new one."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.fd: int | None = None

    def __enter__(self) -> RecordsLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.fd = _lock(self.path, wait=True)
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self.fd is not None:
            os.close(self.fd)  # releases the lock
            self.fd = None


def _lock(path: Path, wait: bool) -> int | None:
    """A descriptor of ``path`` (made if missing) holding its exclusive lock; None when
    another holds it and ``wait`` is false."""
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            os.close(fd)
            return None
        try:
            if os.stat(path).st_ino == os.fstat(fd).st_ino:
                return fd
        except FileNotFoundError:
            pass  # removed by the build that held it, with the records: locked in vain
        os.close(fd)


def drop_records_of_gone_outputs(cache: Path, ours: str) -> None:
    """Remove from ``cache`` the records of every output folder but ``ours`` (a stem) that
    is gone or no longer a site sitegen made, as its manifest names it, and those whose
    manifest is gone (a build that failed before writing it): each set put aside at once,
    then deleted in the background, unless a build holds their lock. Left: records whose
    manifest names no folder (an earlier version's), and a spare that is not a site. What is
    left of such removals cut short is swept first."""
    try:
        names = sorted(os.listdir(cache))
    except OSError:
        return
    stems = set()
    for name in names:
        if not name.startswith(STEM_PREFIX):
            continue
        if _DROPPED in name:
            remove_tree(cache / name, background=True)  # (a removal cut short)
        else:
            stems.add(name.split(".", 1)[0])
    for stem in sorted(stems - {ours}):
        if not _output_gone(cache / f"{stem}.json"):
            continue
        fd = _lock(cache / f"{stem}{LOCK_SUFFIX}", wait=False)
        if fd is None:
            continue  # a build into that folder is running
        try:
            if _output_gone(cache / f"{stem}.json"):  # (still, now that no build can change it)
                _drop(cache, stem)
        finally:
            os.close(fd)


def _output_gone(manifest_path: Path) -> bool:
    """Whether the output folder ``manifest_path`` names is gone or not a site sitegen
    made; true when the manifest itself is gone or damaged, false when it names no folder."""
    try:
        manifest = json.loads(manifest_path.read_text("utf-8"))
    except (OSError, ValueError):
        return True
    if not isinstance(manifest, dict):
        return True
    out = manifest.get("out")
    if not isinstance(out, str):
        return False  # an earlier version's: which folder it made is not known
    return not made_by_sitegen(manifest_path.parent.parent / out)  # (a relative path is from the site's root)


def _drop(cache: Path, stem: str) -> None:
    """Put ``stem``'s records aside in one folder (no longer found should the removal be
    cut short), remove its lock file (held by the caller) and delete the folder in the
    background."""
    try:
        aside = Path(tempfile.mkdtemp(prefix=f"{stem}{_DROPPED}", dir=cache))
    except OSError:
        return
    lock = f"{stem}{LOCK_SUFFIX}"
    for name in sorted(os.listdir(cache)):
        if name.split(".", 1)[0] != stem or _DROPPED in name or name == lock:
            continue
        if name.endswith(".spare") and not made_by_sitegen(cache / name):
            continue  # named like a spare, but not a site sitegen made
        try:
            os.rename(cache / name, aside / name)
        except OSError:
            pass
    try:
        os.unlink(cache / lock)
    except OSError:
        pass
    remove_tree(aside, background=True)
