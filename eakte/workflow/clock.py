"""The workflow's clock: today's date decides what is due, overdue and whom a deputy stands in
for. It travels with the session (like the ports) so that tests and the browser journeys can
set the day; without one, it is the real time."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from eakte.models.base import utcnow

CLOCK = "eakte.workflow.clock"


def set_clock(sessions: sessionmaker[Session], now: Callable[[], datetime] | None) -> None:
    """Every session ``sessions`` makes from now on reads the time from ``now`` (None: the
    real clock)."""
    info = dict(sessions.kw.get("info") or {})
    if now is None:
        info.pop(CLOCK, None)
    else:
        info[CLOCK] = now
    sessions.configure(info=info)


def now(session: Session) -> datetime:
    clock: Callable[[], datetime] | None = session.info.get(CLOCK)
    return clock() if clock is not None else utcnow()


def today(session: Session) -> date:
    return now(session).date()


def file_clock(path: Path) -> Callable[[], datetime]:
    """A clock read from ``path`` (an ISO date or date-time; UTC when no zone is given),
    the real one while the file is absent or empty (``EAKTE_WORKFLOW_CLOCK_FILE``)."""

    def read() -> datetime:
        try:
            text = path.read_text().strip()
        except OSError:
            text = ""
        if not text:
            return utcnow()
        value = datetime.fromisoformat(text)
        return value if value.tzinfo else value.replace(tzinfo=UTC)

    return read
