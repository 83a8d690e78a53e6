"""A job keeps its claim fresh while it works, so that a claim from another host goes stale
minutes after its worker died (the lease) instead of after the longest job one could imagine.

Same-host claims are judged by their process (see ``claims``); the heartbeat is what makes
the lease short enough for several worker hosts. It stops renewing after ``claims.MAX_JOB``,
so a job hung inside a library cannot hold a document for ever: its claim then goes stale
and another job takes over (the hung one can no longer commit, its claim being gone).
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import timedelta

from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from eakte.db import transaction
from eakte.errors import DatabaseUnavailable
from eakte.ingest import claims
from eakte.models.base import utcnow
from eakte.models.ingest import IngestTask

log = logging.getLogger(__name__)


class ClaimHeartbeat:
    """Renews ``claimed_at`` of one document's claim every ``every`` while in its block."""

    def __init__(
        self,
        engine: Engine,
        document_id: int,
        worker: str,
        *,
        every: timedelta | None = None,
        give_up_after: timedelta | None = None,
    ):
        self.engine, self.document_id, self.worker = engine, document_id, worker
        self.every = (every or claims.HEARTBEAT).total_seconds()
        self.give_up_after = (give_up_after or claims.MAX_JOB).total_seconds()
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
            if time.monotonic() - started > self.give_up_after:
                log.warning(
                    "document %s: still processing after %.0f s; its claim is no longer "
                    "renewed and another job may take it over",
                    self.document_id,
                    self.give_up_after,
                )
                return
            if not self.beat():
                return

    def beat(self) -> bool:
        """One renewal; False once the claim is no longer ours (nothing left to renew)."""
        try:
            with Session(self.engine) as session, transaction(session):
                renewed = session.execute(
                    update(IngestTask)
                    .where(
                        IngestTask.document_id == self.document_id,
                        IngestTask.claimed_by == self.worker,
                    )
                    .values(claimed_at=utcnow())
                ).rowcount
        except (SQLAlchemyError, DatabaseUnavailable) as exc:
            # The database may be away for a moment; the lease leaves room for a few misses.
            log.warning("document %s: claim not renewed: %s", self.document_id, exc)
            return True
        self.beats += renewed
        return renewed > 0
