"""``pagefind --service``: Pagefind's own protocol, the one its Node and Python APIs speak.

Requests are base64 JSON separated by commas on stdin, answered in order on stdout. Pages are
indexed in the order they are sent, whatever the file system, and the bundle comes back in
memory; nothing is written to disk on the way.
"""

from __future__ import annotations

import base64
import io
import json
import queue
import subprocess
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path

from sitegen.search.bundle import PAGEFIND_VERSION, SearchIndexError


def pagefind_executable() -> Path:
    """The Pagefind binary shipped by the ``pagefind[bin]`` package, of the version the
    bundle code reads."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        from pagefind_bin import get_executable

        installed = version("pagefind_bin")
    except (ImportError, PackageNotFoundError) as exc:  # pragma: no cover - dependency missing
        raise SearchIndexError(f"the pagefind binary is not installed (pip install 'pagefind[bin]=={PAGEFIND_VERSION}')") from exc
    if installed != PAGEFIND_VERSION:
        raise SearchIndexError(f"Pagefind {installed} is installed, but sitegen reads the bundle format of Pagefind "
                               f"{PAGEFIND_VERSION}: pip install 'pagefind[bin]=={PAGEFIND_VERSION}'")
    return Path(get_executable())


def message(message_id: int, payload: dict[str, object]) -> bytes:
    """One request to ``pagefind --service``: base64 of its JSON, then a comma."""
    text = json.dumps({"message_id": message_id, "payload": payload}, ensure_ascii=False)
    return base64.b64encode(text.encode("utf-8")) + b","


class PagefindService:
    """A running ``pagefind --service``: requests go in with :meth:`send` and are written
    to it by a thread (so that the caller can go on to another run while this one still
    reads: two runs index at once), answers are read by another and waited for with
    :meth:`wait`."""

    def __init__(self) -> None:
        self.log = tempfile.TemporaryFile()  # its messages, never enough to fill a pipe nobody reads
        self.process = subprocess.Popen([str(pagefind_executable()), "--service"], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, stderr=self.log)
        self.answers: dict[int, dict[str, object]] = {}
        self.arrived = threading.Condition()
        self.closed = False
        self.reader = threading.Thread(target=self._read, name="pagefind-answers", daemon=True)
        self.reader.start()
        self._outbox: queue.SimpleQueue[bytes | None] = queue.SimpleQueue()  # None: no more
        self._stopping = False
        self._broken = False  # Pagefind stopped reading
        self.writer = threading.Thread(target=self._write, name="pagefind-requests", daemon=True)
        self.writer.start()

    def _write(self) -> None:
        stdin = self.process.stdin
        assert stdin is not None
        while (request := self._outbox.get()) is not None:
            if self._broken or self._stopping:
                continue  # (dropped: the caller learns of it from send or wait)
            try:
                stdin.write(request)
                if self._outbox.empty():
                    stdin.flush()
            except (BrokenPipeError, ValueError):
                self._broken = True

    def _read(self) -> None:
        stdout = self.process.stdout
        assert isinstance(stdout, io.BufferedReader)
        pending: list[bytes] = []  # pieces of an answer not ended yet (the last one is ~100 MB)
        while chunk := stdout.read1(1 << 20):
            if b"," not in chunk:
                pending.append(chunk)
                continue
            *complete, rest = chunk.split(b",")
            pending.append(complete[0])
            complete[0] = b"".join(pending)
            pending = [rest] if rest else []
            complete.reverse()
            with self.arrived:
                while complete:  # each answer's text is dropped as soon as it is read (the bundle's is big)
                    answer = json.loads(base64.b64decode(complete.pop()))
                    message_id = answer.get("message_id")  # none when Pagefind could not read the request
                    self.answers[-1 if message_id is None else message_id] = answer.pop("payload")
                self.arrived.notify_all()
        with self.arrived:
            self.closed = True
            self.arrived.notify_all()

    def send(self, message: bytes) -> None:
        """Send one encoded request (queued: written to Pagefind as it reads, in order)."""
        if self._broken:
            raise SearchIndexError(f"pagefind stopped: {self._stderr()}")
        self._outbox.put(message)

    def wait(self, message_id: int, tick: Callable[[int], None] | None = None) -> dict[str, object]:
        """The answer to request ``message_id`` (after every earlier answer arrived);
        ``tick(answers so far)`` is called a few times a second meanwhile."""
        while True:
            with self.arrived:
                if self.arrived.wait_for(lambda: message_id in self.answers or self.closed,
                                         timeout=None if tick is None else 0.2):
                    return self.answers.get(message_id) or {"type": "Error", "message": f"no answer: {self._stderr()}"}
                answered = len(self.answers)
            assert tick is not None
            tick(answered)

    def errors(self) -> dict[int, str]:
        """The requests Pagefind refused, with its message."""
        with self.arrived:
            return {i: str(a.get("message")) for i, a in self.answers.items() if a.get("type") == "Error"}

    def _stderr(self) -> str:
        self.process.kill()
        self.process.wait()
        self.log.seek(0)
        return self.log.read().decode("utf-8", "replace").strip()[-300:] or "no message"

    def close(self) -> None:
        """End the service (end of its input: it exits at once, even while working; requests
        not written yet are dropped) and wait for it."""
        self._stopping = True
        self._outbox.put(None)
        self.writer.join()
        if self.process.poll() is None:
            assert self.process.stdin is not None
            try:
                self.process.stdin.close()
            except BrokenPipeError:
                pass
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.reader.join()
        self.log.close()
        self.answers.clear()  # read by now; a shard's answers are dropped when its run ends


