"""Work spread over worker processes: forked ones that inherit what they read, or new
ones fed as a pipeline."""

from __future__ import annotations

import collections
import gc
import json
import multiprocessing
import os
import pickle
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Generator, Iterable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

Shared = TypeVar("Shared")
Task = TypeVar("Task")
Result = TypeVar("Result")

_SHARED: tuple[Callable[[Any, Any], Any], Any] | None = None  # set in the parent just before forking


def worker_count(tasks: int, at_most: int = 4) -> int:
    """How many worker processes to use for ``tasks`` pieces of work: 1 (do it here) unless
    the machine has several cores."""
    cores = os.cpu_count() or 1
    return 1 if tasks < 2 or cores < 2 else min(tasks, cores, at_most)


def fork_workers(tasks: int, at_most: int = 4) -> int:
    """How many forked workers to use for ``tasks`` pieces of work: :func:`worker_count`,
    or 1 when the platform cannot fork or another thread is running (a forked child could
    inherit a lock another thread holds)."""
    if threading.active_count() != 1 or "fork" not in multiprocessing.get_all_start_methods():
        return 1
    return worker_count(tasks, at_most)


def forked_map(function: Callable[[Shared, Task], Result], shared: Shared, tasks: Iterable[Task],
               workers: int) -> Generator[Result, None, None]:
    """``function(shared, task)`` for each task, in order, computed by ``workers`` forked
    processes. ``shared`` (a model, the site's plans, a list of pages…) is inherited by the
    workers, never pickled; only tasks and results cross between processes. The workers are
    forked on the first ``next()`` and stopped when the iterator ends or is closed."""
    global _SHARED
    _SHARED = (function, shared)
    try:
        with multiprocessing.get_context("fork").Pool(workers, initializer=gc.freeze) as pool:
            yield from pool.imap(_call_shared, tasks)
    finally:
        _SHARED = None


def _call_shared(task: Any) -> Any:
    assert _SHARED is not None
    function, shared = _SHARED
    return function(shared, task)


@contextmanager
def forked_call(function: Callable[[Task], Result], argument: Task) -> Iterator[Callable[[], Result]]:
    """Compute ``function(argument)`` in a forked process while the caller goes on: the
    context gives what waits for the result (pickled back through an unnamed temporary
    file, read once the child has ended: neither process holds the result's bytes while
    the other holds its objects; an error in the child is raised there). When the platform
    cannot fork, or another thread runs (:func:`fork_workers`), the result is computed when
    it is first asked for. A child whose result is not asked for is stopped when the
    context ends."""
    if fork_workers(2) == 1:
        yield lambda: function(argument)
        return
    answer = tempfile.TemporaryFile()
    pid = os.fork()
    if pid == 0:  # the child: compute, answer, leave without running the parent's clean-ups
        status = 0
        try:
            try:
                value = function(argument)
            except BaseException as error:  # noqa: BLE001 - sent to the parent, which raises it
                pickle.dump((True, error), answer, protocol=pickle.HIGHEST_PROTOCOL)
            else:
                pickle.dump((False, value), answer, protocol=pickle.HIGHEST_PROTOCOL)
            answer.flush()
        except BaseException:  # noqa: BLE001 - the parent sees no answer
            status = 1
        finally:
            os._exit(status)
    answered: list[Result] = []
    reaped: list[bool] = []

    def result() -> Result:
        if not answered:
            if not reaped:
                os.waitpid(pid, 0)
                reaped.append(True)
            answer.seek(0)
            try:
                failed, value = pickle.load(answer)
            except (EOFError, pickle.UnpicklingError):
                raise RuntimeError("a forked process ended without an answer") from None
            if failed:
                raise value
            answered.append(value)
        return answered[0]

    try:
        yield result
    finally:
        answer.close()
        if not reaped:
            try:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
            except (ProcessLookupError, ChildProcessError):
                pass


def piped_pipeline(function: Callable[[Shared, Task], Result], shared: Shared, tasks: Iterable[Task],
                   workers: int) -> Generator[tuple[Task, Result], None, None]:
    """``(task, function(shared, task))`` for each task, in order, computed by ``workers``
    new Python processes while the caller makes the next tasks (as in a shell pipeline):
    ``tasks`` is drawn in the caller's thread, one task at a time for each worker. The
    workers are started afresh, not forked, so they hold none of the caller's memory (a
    forked child keeps every page of memory its parent changes afterwards, and the parent
    goes on working), nor do they run the caller's main module as multiprocessing's own
    fresh workers do. ``function`` and ``shared`` are pickled once for each worker; a
    worker's error is raised here."""
    preamble = pickle.dumps((function, shared), protocol=pickle.HIGHEST_PROTOCOL)
    started: list[_PipedWorker] = []
    try:
        for _ in range(workers):  # (started inside: one that fails to start ends those before it)
            started.append(_PipedWorker(preamble))
        idle = collections.deque(started)
        busy: collections.deque[tuple[Task, _PipedWorker]] = collections.deque()
        for task in tasks:
            if not idle:
                done, worker = busy.popleft()
                yield done, worker.result()
                idle.append(worker)
            worker = idle.popleft()
            worker.send(task)
            busy.append((task, worker))
        while busy:
            done, worker = busy.popleft()
            yield done, worker.result()
    finally:
        for worker in started:
            worker.close()


class _PipedWorker:
    """A Python process that answers tasks sent down its standard input (:func:`_serve`)."""

    def __init__(self, preamble: bytes) -> None:
        code = "import sys, json; sys.path[:] = json.loads(sys.argv[1]); import sitegen.parallel as p; p._serve()"
        self.process = subprocess.Popen([sys.executable, "-c", code, json.dumps(sys.path)],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        assert self.process.stdin is not None and self.process.stdout is not None
        self.stdin, self.stdout = self.process.stdin, self.process.stdout
        self.stdin.write(preamble)

    def send(self, task: Any) -> None:
        """Give the worker its next task."""
        pickle.dump(task, self.stdin, protocol=pickle.HIGHEST_PROTOCOL)
        self.stdin.flush()

    def result(self) -> Any:
        """The result of the task last sent (its error raised)."""
        try:
            failed, value = pickle.load(self.stdout)
        except (EOFError, pickle.UnpicklingError):
            raise RuntimeError(f"a worker process ended without an answer (exit status {self.process.wait()})") from None
        if failed:
            raise value
        return value

    def close(self) -> None:
        """End the worker (at once, if it is still working)."""
        try:
            self.stdin.close()
            self.process.wait(timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            self.process.kill()
            self.process.wait()
        self.stdout.close()


def _serve() -> None:
    """A piped worker's main loop: after the pickled ``(function, shared)``, answer each
    pickled task with ``(False, result)`` or ``(True, error)`` until its input ends."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the caller ends the work (Ctrl-C reaches it too)
    answers = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # anything printed goes to standard error, not into the answers
    requests = sys.stdin.buffer
    function, shared = pickle.load(requests)
    while True:
        try:
            task = pickle.load(requests)
        except EOFError:
            return
        try:
            answer: tuple[bool, Any] = (False, function(shared, task))
        except Exception as error:  # noqa: BLE001 - handed to the caller, who raises it
            answer = (True, error)
        try:
            data = pickle.dumps(answer, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception:  # noqa: BLE001 - an error that cannot be pickled
            data = pickle.dumps((True, RuntimeError(repr(answer[1]))))
        answers.write(data)
        answers.flush()
