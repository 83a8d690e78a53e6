"""The retention port of the core (``eakte.ports.RetentionPort``), implemented by this slice.

The composition root wires one ``RetentionService`` into the session factory
(``eakte.ports.wire``); the core's services reach it with ``eakte.ports.retention_port``.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import update
from sqlalchemy.orm import Session

from eakte.models import Case, Document
from eakte.models.base import utcnow
from eakte.ports import VersionLock
from eakte.verify import Check
from retention import holds, rules
from retention.models import Hold
from retention.verify import check_retention_locks


class RetentionService:
    """Holds (R12), the retention clock (R7) and the S3 locks of new versions (R25)."""

    def ensure_not_held(self, session: Session, obj: object) -> None:
        holds.ensure_not_held(session, obj)

    def ensure_movable(self, session: Session, obj: object) -> None:
        holds.ensure_movable(session, obj)

    def on_case_closed(self, session: Session, case: Case) -> None:
        rules.on_close(session, case)

    def on_case_reopened(self, session: Session, case: Case) -> None:
        rules.on_reopen(session, case)

    def on_schedule_changed(self, session: Session, case: Case) -> None:
        rules.on_schedule_change(session, case)

    def new_version_lock(self, session: Session, document: Document) -> VersionLock:
        """An original, a new version or a rendition stored now: a closed case's retain-until
        (R25) and, beneath an active hold, an S3 legal hold (R12) — also for what is stored
        after the hold was placed."""
        process = document.process if document.process_id is not None else None
        case = process.case if process is not None else None
        until = None
        if case is not None and case.is_closed:
            until = rules.lock_until(session, case, utcnow().date())
        return VersionLock(until, bool(holds.holds_covering(session, document)))

    def mark_holds_for_sync(self, session: Session) -> None:
        session.execute(update(Hold).where(Hold.released_at.is_(None)).values(s3_pending=True))

    def verify_checks(self) -> Sequence[Check]:
        return (check_retention_locks,)
