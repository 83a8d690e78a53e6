"""Ports: what the core needs from the layers above it, declared here and implemented there.

The core (``eakte``) must refuse a change beneath a legal hold, start the retention clock when a
case closes and lock new object versions as retention says, but retention (``retention/``) sits
above it and implements ``RetentionPort`` (``retention.port.RetentionService``). The composition
root wires it with ``wire`` on the runtime's session factory: the core's services get a session,
not the runtime, so the port travels with the session (``Session.info``). A session without it
raises ``PortNotWired``: a hold check must never pass silently because nobody wired it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from sqlalchemy.orm import Session, sessionmaker

if TYPE_CHECKING:
    from eakte.models import Case, Document
    from eakte.verify import Check

_RETENTION = "eakte.ports.retention"


@dataclass(frozen=True)
class VersionLock:
    """How a version stored now must be locked in S3 (R12, R25)."""

    retain_until: datetime | None  # None: the floor alone
    legal_hold: bool


FLOOR_ONLY = VersionLock(None, False)


class RetentionPort(Protocol):
    """What the core asks of retention. Every method runs inside the caller's transaction."""

    def ensure_not_held(self, session: Session, obj: object) -> None:
        """Raise ``LegalHoldActive`` if an active hold covers ``obj`` (case, process, document
        or file-plan node): its content must not change."""

    def ensure_movable(self, session: Session, obj: object) -> None:
        """Raise ``MoveUnderHold`` if a hold covers ``obj`` where it is now (called before and
        after a move, so that nothing leaves or enters a hold's scope)."""

    def on_case_closed(self, session: Session, case: Case) -> None:
        """Closure (zdA) starts the retention clock: set the end, mark the locks pending."""

    def on_case_reopened(self, session: Session, case: Case) -> None:
        """Reopening stops the clock until the next closure."""

    def on_schedule_changed(self, session: Session, case: Case) -> None:
        """The case's schedule (or its period) changed: move a closed case's end."""

    def new_version_lock(self, session: Session, document: Document) -> VersionLock:
        """The S3 lock of a version stored now for ``document``."""

    def mark_holds_for_sync(self, session: Session) -> None:
        """Every active hold's S3 legal holds are to be re-applied (restored objects)."""

    def verify_checks(self) -> Sequence[Check]:
        """The checks ``eakte verify`` runs for retention, after the core's."""


class PortNotWired(RuntimeError):
    """A session from a factory the composition root did not wire: a programming error."""


def wire(sessions: sessionmaker[Session], *, retention: RetentionPort) -> None:
    """Every session ``sessions`` makes from now on carries the ports (called by the
    composition root once, after building the session factory)."""
    info = dict(sessions.kw.get("info") or {})
    info[_RETENTION] = retention
    sessions.configure(info=info)


def retention_port(session: Session) -> RetentionPort:
    port: RetentionPort | None = session.info.get(_RETENTION)
    if port is None:
        raise PortNotWired(
            "this session carries no retention port: build sessions through the runtime "
            "(eakte.ports.wire)"
        )
    return port
