"""When a case may be disposed of (R7) and how long S3 must keep its objects (R25).

Pure rules plus the small hooks the case services call at closure, reopening and schedule
changes; the workflows (disposal, transfer, object-lock jobs) live in ``retention/``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy.orm import Session

from eakte.models import Case, RetentionSchedule, RetentionTrigger

# Permanent records (and the certificates that outlive destroyed ones) are locked in GOVERNANCE
# mode until this date instead of with a legal hold: a legal hold is what R12 holds place and
# clear, and GOVERNANCE still lets the approved-disposal job remove a permanent case once the
# archive has confirmed the transfer (R13). The date is far enough to never need extending.
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
    schedule = session.get(RetentionSchedule, case.schedule_id)
    return retention_end(schedule.period_years, schedule.trigger, case.closed_at, case.event_date)


def lock_until(session: Session, case: Case, today: date) -> datetime | None:
    """The S3 retain-until every object version of the case needs (R25), or None if none.

    Closed: the retention end. Where that is not known yet (an event trigger without its date)
    or the case is open again after a reopening, the earliest end a closure today could give:
    a lock is only ever extended, so a lower bound is safe and the final date extends it.
    """
    schedule = session.get(RetentionSchedule, case.schedule_id)
    if schedule.permanent:
        return PERMANENT_RETAIN_UNTIL
    end = case.retention_end if case.is_closed else None
    if end is None:
        start = case.closed_at if case.is_closed and case.closed_at else today
        end = date(start.year + 1 + schedule.period_years, 1, 1)
    until = datetime(end.year, end.month, end.day, tzinfo=UTC)
    return until if until > datetime.now(UTC) else None


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
