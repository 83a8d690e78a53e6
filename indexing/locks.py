"""The writers' lock of an index, re-entrant within a thread, for every backend.

A backend's lock is held across processes (a ``flock`` for Whoosh, an advisory lock for
PostgreSQL); an indexer holds it around several batches whose writes take it again. Which
thread holds which index's lock, and how often, is kept here once: per thread, by a key naming
the index (its directory, its database), shared by every backend object of that index.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager


class ThreadHolds:
    """How deep each thread holds each index's lock."""

    def __init__(self) -> None:
        self._local = threading.local()

    def _depths(self) -> dict[str, int]:
        depths: dict[str, int] | None = getattr(self._local, "depths", None)
        if depths is None:
            depths = self._local.depths = {}
        return depths

    def held(self, key: str) -> bool:
        """This thread holds the lock of ``key``."""
        return bool(self._depths().get(key))

    @contextlib.contextmanager
    def hold(
        self, key: str, acquire: Callable[[], AbstractContextManager[object]]
    ) -> Iterator[None]:
        """Hold the lock of ``key``: taken by ``acquire()`` unless this thread holds it
        already (then only counted)."""
        depths = self._depths()
        if depths.get(key):
            depths[key] += 1
            try:
                yield
            finally:
                depths[key] -= 1
            return
        with acquire():
            depths[key] = 1
            try:
                yield
            finally:
                depths.pop(key, None)


# One per process: two objects for the same index in one thread share what the thread holds
# (taking a ``flock`` twice from one process would wait for itself).
HOLDS = ThreadHolds()
