"""A job keeps its claim fresh while it works, so that a claim from another host goes stale
minutes after its worker died (the lease) instead of after the longest job one could imagine.

Same-host claims are judged by their process (see ``claims``); the heartbeat is what makes
the lease short enough for several worker hosts. It renews only while the job moves on: when
no step and no page has been finished for ``claims.MAX_STALL`` the job counts as hung, the
claim goes stale and another job takes over (the hung one can no longer commit, its claim
being gone). A document of thousands of pages keeps its claim however long it takes.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import timedelta
from typing import Any, cast

from sqlalchemy import update
from sqlalchemy.engine import CursorResult, Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from eakte.db import transaction
from eakte.errors import DatabaseUnavailable
from eakte.ingest import claims
from eakte.models.base import utcnow
from eakte.models.ingest import IngestTask

log = logging.getLogger(__name__)

# When this process last finished a step or a page. Per process: a worker process works on
# one document at a time (its OCR threads all belong to that document).
_progress_at = time.monotonic()
_listener = None  # in a confined child: tells the worker (see ``confine``)


def progressed() -> None:
    """The job moved on (a step or a page done): its claim stays renewed."""
    global _progress_at
    _progress_at = time.monotonic()
    if _listener is not None:
        _listener()


def listen(callback) -> None:
    """Call ``callback`` on every progress of this process (a child reporting to its parent)."""
    global _listener
    _listener = callback


class ClaimHeartbeat:
    """Renews ``claimed_at`` of one document's claim every ``every`` while in its block."""

    def __init__(
        self,
        engine: Engine,
        document_id: int,
        worker: str,
        *,
        every: timedelta | None = None,
        stalled_after: timedelta | None = None,
    ):
        self.engine, self.document_id, self.worker = engine, document_id, worker
        self.every = (every or claims.HEARTBEAT).total_seconds()
        self.stalled_after = (stalled_after or claims.MAX_STALL).total_seconds()
        self.beats = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name=f"claim-heartbeat-{document_id}", daemon=True
        )

    def __enter__(self) -> ClaimHeartbeat:
        self._thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        started = time.monotonic()
        while not self._stop.wait(self.every):
            idle = time.monotonic() - max(started, _progress_at)
            if idle > self.stalled_after:
                log.warning(
                    "document %s: no progress for %.0f s; its claim is no longer renewed "
                    "and another job may take it over",
                    self.document_id,
                    idle,
                )
                return
            if not self.beat():
                return

    def beat(self) -> bool:
        """One renewal; False once the claim is no longer ours (nothing left to renew)."""
        try:
            with Session(self.engine) as session, transaction(session):
                # an UPDATE's result is a CursorResult, which counts the rows it matched
                renewed = cast(
                    CursorResult[Any],
                    session.execute(
                        update(IngestTask)
                        .where(
                            IngestTask.document_id == self.document_id,
                            IngestTask.claimed_by == self.worker,
                        )
                        .values(claimed_at=utcnow())
                    ),
                ).rowcount
        except (SQLAlchemyError, DatabaseUnavailable) as exc:
            # The database may be away for a moment; the lease leaves room for a few misses.
            log.warning("document %s: claim not renewed: %s", self.document_id, exc)
            return True
        self.beats += renewed
        return renewed > 0
