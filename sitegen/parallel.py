"""When work may be spread over forked worker processes."""

from __future__ import annotations

import multiprocessing
import os
import threading


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
