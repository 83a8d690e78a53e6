"""Index jobs: the indexer that brings the search index up to date (issue 5).

Other parts ask ``runtime.jobs.index_soon()`` (or ``index_now()``) after committing changes
that the index must show (a new ``ready`` document, a filed or changed one); the indexer itself
reads what is dirty from the database, so repeated requests coalesce into one batch.

Only one worker indexes at a time (a Huey lock). A run that finds the lock taken while another
process really is writing the index comes back a moment later: the other run may have read the
dirty rows before this request's were committed. A lock left behind by a worker that died is
recognised (nobody holds the index's own write lock) and taken over. While something else holds
the index's write lock (a rebuild), runs come back every few seconds instead of blocking a
worker.

Task bodies take the runtime and the queue; ``eakte.jobs.factory`` binds them.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from huey import Huey
from huey.exceptions import RetryTask, TaskLockedException

from eakte.services.indexer import index_pending

if TYPE_CHECKING:
    from eakte.runtime import Runtime

INDEX_LOCK = "eakte-index"
RETRY_DELAY_S = 0.5
BUSY_RETRY_DELAY_S = 5.0
INDEX_WINDOW_S = 1.0  # coalesces bulk imports, keeps an upload searchable within 2 s


def index_pending_task(rt: Runtime, queue: Huey) -> int:
    index = rt.search
    lock = queue.lock_task(INDEX_LOCK)
    try:
        lock.acquire()
    except TaskLockedException:
        if index.busy():
            raise RetryTask(delay=RETRY_DELAY_S) from None
        lock.clear()  # stale: its holder died; the index lock (flock) guards the writing
        try:
            lock.acquire()
        except TaskLockedException:
            raise RetryTask(delay=RETRY_DELAY_S) from None
    try:
        if index.busy():  # e.g. "eakte reindex" is rebuilding the index
            raise RetryTask(delay=BUSY_RETRY_DELAY_S)
        return index_pending(rt)
    finally:
        lock.release()


def index_catch_up(run_now: Callable[[], object]) -> None:
    """A safety net for changes no one asked the indexer about (e.g. made by a CLI command):
    at most a minute late."""
    run_now()


class IndexWindow:
    """At most one indexer run per ``INDEX_WINDOW_S`` from this process: the indexer reads
    every dirty document anyway, so a burst of changes needs one run, not one each. The first
    request after a quiet spell runs at once (a web upload is searchable right away); within a
    burst a run is scheduled for the end of the window, so the last changes are never left
    out."""

    def __init__(self, run_now: Callable[[], object], run_later: Callable[[float], object]) -> None:
        self._run_now, self._run_later = run_now, run_later
        self._lock = threading.Lock()
        self._last = float("-inf")
        self._trailing = False

    def request(self) -> None:
        now = time.monotonic()
        with self._lock:
            waited = now - self._last
            if waited >= INDEX_WINDOW_S:
                self._last, self._trailing, delay = now, False, None
            elif not self._trailing:
                self._trailing, delay = True, INDEX_WINDOW_S - waited
            else:
                return
        if delay is None:
            self._run_now()
        else:
            self._run_later(delay)
