"""Index jobs: the indexer that brings the search index up to date (issue 5).

Other parts call ``request_index()`` after committing changes that the index must show (a new
``ready`` document, a filed or changed one); the indexer itself reads what is dirty from the
database, so repeated requests coalesce into one batch.
"""

from __future__ import annotations

from eakte.jobs.context import runtime
from eakte.jobs.queue import huey


@huey.task()
def index_pending_task() -> int:
    from eakte.services.indexer import index_pending  # the indexer service (issue 5)

    return index_pending(runtime())


def request_index() -> None:
    """Enqueue an indexer run (cheap; safe to call after every commit)."""
    index_pending_task()
