"""Index jobs: the indexer that brings the search index up to date (issue 5).

Other parts call ``request_index()`` after committing changes that the index must show (a new
``ready`` document, a filed or changed one); the indexer itself reads what is dirty from the
database, so repeated requests coalesce into one batch.

Only one worker indexes at a time (a Huey lock). A run that finds the lock taken while another
process really is writing the index comes back a moment later: the other run may have read the
dirty rows before this request's were committed. A lock left behind by a worker that died is
recognised (nobody holds the index's own write lock) and taken over. While something else holds
the index's write lock (a rebuild), runs come back every few seconds instead of blocking a
worker.
"""

from __future__ import annotations

from datetime import timedelta

from huey import crontab
from huey.exceptions import RetryTask, TaskLockedException

from eakte.jobs.context import runtime
from eakte.jobs.periodic import periodic
from eakte.jobs.queue import huey

INDEX_LOCK = "eakte-index"
RETRY_DELAY_S = 0.5
BUSY_RETRY_DELAY_S = 5.0


@huey.task()
def index_pending_task() -> int:
    from eakte.services.indexer import index_pending  # the indexer service

    rt = runtime()
    lock = huey.lock_task(INDEX_LOCK)
    try:
        lock.acquire()
    except TaskLockedException:
        if rt.search.busy():
            raise RetryTask(delay=RETRY_DELAY_S) from None
        lock.clear()  # stale: its holder died; the index lock (flock) guards the writing
        try:
            lock.acquire()
        except TaskLockedException:
            raise RetryTask(delay=RETRY_DELAY_S) from None
    try:
        if rt.search.busy():  # e.g. "eakte reindex" is rebuilding the index
            raise RetryTask(delay=BUSY_RETRY_DELAY_S)
        return index_pending(rt)
    finally:
        lock.release()


@periodic(crontab(minute="*"), every=timedelta(minutes=1))
def index_catch_up() -> None:
    """A safety net for changes no one asked the indexer about (e.g. made by a CLI command):
    at most a minute late."""
    index_pending_task()


def request_index() -> None:
    """Enqueue an indexer run (cheap; safe to call after every commit)."""
    index_pending_task()
