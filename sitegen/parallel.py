"""Work spread over forked worker processes that inherit what they read."""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections.abc import Callable, Generator, Iterable
from typing import Any, TypeVar

Shared = TypeVar("Shared")
Task = TypeVar("Task")
Result = TypeVar("Result")

_SHARED: tuple[Callable[[Any, Any], Any], Any] | None = None  # set in the parent just before forking


def fork_workers(tasks: int, at_most: int = 4) -> int:
    """How many forked workers to use for ``tasks`` pieces of work: 1 (do it here) unless the
    machine has several cores, the platform can fork, and no other thread is running (a
    forked child could inherit a lock another thread holds)."""
    cores = os.cpu_count() or 1
    if tasks < 2 or cores < 2 or threading.active_count() != 1:
        return 1
    if "fork" not in multiprocessing.get_all_start_methods():
        return 1
    return min(tasks, cores, at_most)


def forked_map(function: Callable[[Shared, Task], Result], shared: Shared, tasks: Iterable[Task],
               workers: int) -> Generator[Result, None, None]:
    """``function(shared, task)`` for each task, in order, computed by ``workers`` forked
    processes. ``shared`` (a model, the site's plans, a list of pages…) is inherited by the
    workers, never pickled; only tasks and results cross between processes. The workers are
    forked on the first ``next()`` and stopped when the iterator ends or is closed."""
    global _SHARED
    _SHARED = (function, shared)
    try:
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            yield from pool.imap(_call_shared, tasks)
    finally:
        _SHARED = None


def _call_shared(task: Any) -> Any:
    assert _SHARED is not None
    function, shared = _SHARED
    return function(shared, task)
