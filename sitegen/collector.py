"""When Python's cyclic garbage collector may run while a site is modelled.

A build reads, groups and plans a model of millions of objects (every article, entity and
page plan) that all live until the model is released. The collector finds no garbage in
them, but a collection visits every object it tracks: at 24,000 items planning the pages
took 2.0 s with the collector running and 1.0 s without. A stage that makes only objects
that live on runs :func:`paused`; a build also freezes (:func:`gc.freeze`) what its stages
made, so that later collections do not visit it (see :mod:`sitegen.site.build`).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["paused"]


@contextmanager
def paused() -> Iterator[None]:
    """No garbage collection inside the block; afterwards the collector is as it was (a
    block inside another stays paused)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
