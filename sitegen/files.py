"""Reading and writing single files safely: the one place that opens a user's file for
reading (bounded, regular files only) and the one atomic write.

A FIFO blocks a reader forever and ``/dev/zero`` never ends, whatever ``stat`` said of the
name, so :func:`read_regular_file` opens without blocking, checks what it actually opened and
reads at most one byte past the limit. :func:`atomic_write` never leaves a half-written file
under the target's name.
"""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from sitegen.errors import ContentError

_KINDS = {stat.S_IFIFO: "a FIFO", stat.S_IFCHR: "a device", stat.S_IFBLK: "a device", stat.S_IFSOCK: "a socket",
          stat.S_IFDIR: "a folder"}


def describe_mode(mode: int) -> str:
    """What a non-regular file is, in words (``a FIFO``, ``a device``…)."""
    return _KINDS.get(stat.S_IFMT(mode), "not a regular file")


def read_regular_file(path: Path | str, max_bytes: int, too_large: str | None = None) -> bytes:
    """The bytes of the regular file at ``path`` (symlinks followed), at most ``max_bytes``.

    Anything else (a FIFO, a device, a socket, a symlink loop), an unreadable file or a file
    over the limit raises :class:`ContentError` naming the file; ``too_large`` is the hint
    added to the size error."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        raise  # gone: the caller decides (a page deleted while the site was read is no error)
    except OSError as exc:
        raise ContentError(f"cannot read: {exc.strerror}", path) from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise ContentError(f"not a regular file ({describe_mode(mode)})", path)
        if os.fstat(fd).st_size > max_bytes:
            raise ContentError(f"too large: {_size(os.fstat(fd).st_size)} (at most {_size(max_bytes)})"
                               + (f": {too_large}" if too_large else ""), path)
        chunks: list[bytes] = []
        size = 0
        while size <= max_bytes:
            chunk = os.read(fd, min(1 << 20, max_bytes + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError as exc:
        raise ContentError(f"cannot read: {exc.strerror}", path) from None
    finally:
        os.close(fd)
    if size > max_bytes:  # it grew while we read it
        raise ContentError(f"too large: over {_size(max_bytes)}" + (f": {too_large}" if too_large else ""), path)
    return b"".join(chunks)


def _size(count: int) -> str:
    return f"{count / 1024 / 1024:.0f} MB" if count >= 1024 * 1024 else f"{count:,} bytes"


def read_text_file(path: Path | str, max_bytes: int = 5 * 1024 * 1024) -> str:
    """A small UTF-8 text file (settings, data files): bounded, regular, decoding errors
    named with the file and line."""
    data = read_regular_file(path, max_bytes)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ContentError(f"not valid UTF-8 (byte {exc.start}): save the file as UTF-8", path, line) from None


def atomic_write(path: Path, data: bytes, mode: int = 0o644) -> None:
    """Write ``data`` to ``path`` so that readers see the old file or the new one, never a
    part (a temporary file beside it, renamed over it). Folders are made as needed."""
    with atomic_writer(path, mode) as handle:
        handle.write(data)


@contextmanager
def atomic_writer(path: Path, mode: int = 0o644) -> Iterator[BinaryIO]:
    """A stream whose bytes replace ``path`` atomically when the ``with`` block ends (as
    :func:`atomic_write`, for what is written in parts); nothing changes if it fails."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
