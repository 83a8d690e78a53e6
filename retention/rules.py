"""When a case may be disposed of (R7) and how long S3 must keep its objects (R25).

Pure rules plus the small hooks the case services call (through the retention port,
``retention.port``) at closure, reopening and schedule changes; the workflows (disposal,
transfer, object-lock jobs) use them too.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import ColumnElement, Select, and_, or_, select
from sqlalchemy.orm import Session

from eakte.models import (
    Case,
    CaseStatus,
    Document,
    DocumentStatus,
    FileVersion,
    Process,
    RetentionSchedule,
    RetentionTrigger,
    StoredObject,
)
from retention.models import DisposalItem

# Destruction certificates outlive the records they certify: COMPLIANCE retention until this
# date, far enough to never need extending. (Permanent records themselves keep the floor,
# extended nightly, until the archive has confirmed their transfer, R13.)
PERMANENT_RETAIN_UNTIL = datetime(2999, 12, 31, tzinfo=UTC)


def retention_end(
    period_years: int | None,
    trigger: str,
    closed_at: date | None,
    event_date: date | None,
) -> date | None:
    """R7: 1 January of the year after the start plus the period; None when permanent or when
    the start is not known yet (case open, or the triggering event not entered)."""
    if period_years is None:
        return None
    start = event_date if trigger == RetentionTrigger.event else closed_at
    if start is None or closed_at is None:
        return None
    return date(start.year + 1 + period_years, 1, 1)


def case_retention_end(session: Session, case: Case) -> date | None:
    schedule = session.get_one(RetentionSchedule, case.schedule_id)
    return retention_end(schedule.period_years, schedule.trigger, case.closed_at, case.event_date)


def lock_until(session: Session, case: Case, today: date) -> datetime | None:
    """The S3 retain-until every object version of the case needs (R25), or None if the floor
    is all it gets (COMPLIANCE retention cannot be shortened, so only a date the case can
    never end before is set).

    Closed: the retention end. A case open again after a reopening: the earliest end a
    closure today could give (a lower bound; the final date extends it). Permanent records
    and an event trigger without its date: None, the floor extended nightly while the record
    lives (a permanent one until the archive has confirmed the transfer).
    """
    schedule = session.get_one(RetentionSchedule, case.schedule_id)
    if schedule.period_years is None:  # permanent
        return None
    end = case.retention_end if case.is_closed else None
    if end is None:
        if schedule.trigger == RetentionTrigger.event:
            return None  # the event may lie in the past: no lower bound is safe
        start = case.closed_at if case.is_closed and case.closed_at else today
        end = date(start.year + 1 + schedule.period_years, 1, 1)
    until = datetime(end.year, end.month, end.day, tzinfo=UTC)
    return until if until > datetime.now(UTC) else None


def needs_floor() -> ColumnElement[bool]:
    """SQL: the stored object is a version of a record that still needs the floor (not held:
    holds are resolved per hold)."""
    return (
        floor_versions()
        .where(
            FileVersion.s3_key == StoredObject.key,
            FileVersion.s3_version_id == StoredObject.version_id,
        )
        .exists()
    )


def floor_versions() -> Select[str, str]:
    """SQL: (key, version id) of every file version of a record that still needs the floor.
    Driven from the file versions, so all of them are found in one pass (``needs_floor`` per
    stored object has no index on the key to use)."""
    archived = (
        select(DisposalItem.id)
        .where(DisposalItem.case_id == Case.id, DisposalItem.archive_id != "")
        .exists()
    )
    return (
        select(FileVersion.s3_key, FileVersion.s3_version_id)
        .join(Document, Document.id == FileVersion.document_id)
        .outerjoin(Process, Process.id == Document.process_id)
        .outerjoin(Case, Case.id == Process.case_id)
        .where(
            Document.status.not_in(
                (DocumentStatus.destroyed.value, DocumentStatus.discarded.value)
            ),
            or_(
                Document.process_id.is_(None),  # the inbox
                Case.status == CaseStatus.open.value,
                and_(Case.retention_end.is_(None), Case.disposal_state == "", ~archived),
            ),
        )
    )


def on_close(session: Session, case: Case) -> None:
    """Closure (zdA) starts the clock; the objects get their retain-until after the commit."""
    case.retention_end = case_retention_end(session, case)
    case.object_lock_pending = True


def on_reopen(session: Session, case: Case) -> None:
    """Reopening restarts the clock (R4, R7): no end until the next closure, and the objects'
    retain-until is extended to the earliest end that closure could give."""
    case.retention_end = None
    case.object_lock_pending = True


def on_schedule_change(session: Session, case: Case) -> None:
    """A new schedule (R3 override, or a changed period) moves the end of a closed case."""
    if case.is_closed:
        case.retention_end = case_retention_end(session, case)
        case.object_lock_pending = True
