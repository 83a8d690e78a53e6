"""Writing and checking the hash-chained audit trail (R20, R21).

Entries are written in the caller's transaction, so an audited change and its entry commit or roll
back together. Each entry stores the sha256 of its canonical form, which includes the previous
entry's hash; the single ``audit_head`` row is locked while appending, so concurrent writers queue
instead of forking the chain. Nothing in the application updates or deletes entries, and database
triggers refuse it (see migration 0002).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from eakte.models import AuditEvent, AuditHead, User
from eakte.models.base import utcnow

GENESIS = "0" * 64
HEAD_ID = 1
# ``session.info`` key: where the session's changes come from (an API token; the command line
# and its OS user); every entry written through that session carries it in its details.
ORIGIN = "audit_origin"


def _canonical_time(at: datetime) -> str:
    if at.tzinfo is not None:
        at = at.astimezone(UTC).replace(tzinfo=None)
    return at.isoformat(timespec="microseconds")


class _Entry(Protocol):
    """What the hash covers: an ``AuditEvent``, or a plain row of its columns (``check_chain``)."""

    id: int
    at: datetime
    tenant_id: int | None
    user_id: int | None
    username: str
    action: str
    object_type: str
    object_uuid: str
    outcome: str
    details: str  # canonical JSON
    prev_hash: str


def entry_hash(event: _Entry) -> str:
    canonical = json.dumps(
        {
            "id": event.id,
            "at": _canonical_time(event.at),
            "tenant_id": event.tenant_id,
            "user_id": event.user_id,
            "username": event.username,
            "action": event.action,
            "object_type": event.object_type,
            "object_uuid": event.object_uuid,
            "outcome": event.outcome,
            "details": event.details,
            "prev_hash": event.prev_hash,
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def _describe(obj: Any) -> tuple[str, str]:
    if obj is None:
        return "", ""
    return type(obj).__name__.lower(), str(getattr(obj, "uuid", "") or "")


def record(
    session: Session,
    actor: User | None,
    action: str,
    obj: Any = None,
    *,
    outcome: str = "ok",
    tenant_id: int | None = None,
    **details: Any,
) -> AuditEvent:
    """Append one entry inside the caller's open transaction."""
    head = session.scalar(select(AuditHead).where(AuditHead.id == HEAD_ID).with_for_update())
    if head is None:  # first entry ever
        head = AuditHead(id=HEAD_ID, last_id=0, last_hash=GENESIS)
        session.add(head)
    object_type, object_uuid = _describe(obj)
    if tenant_id is None:
        tenant_id = getattr(obj, "tenant_id", None) or (actor.tenant_id if actor else None)
    event = AuditEvent(
        id=head.last_id + 1,
        at=utcnow(),
        tenant_id=tenant_id,
        user_id=actor.id if actor else None,
        username=actor.username if actor else "system",
        action=action,
        object_type=object_type,
        object_uuid=object_uuid,
        outcome=outcome,
        details=json.dumps(
            {**session.info.get(ORIGIN, {}), **details},
            sort_keys=True,
            default=str,
            ensure_ascii=False,
        ),
        prev_hash=head.last_hash,
    )
    event.hash = entry_hash(event)
    session.add(event)
    head.last_id, head.last_hash = event.id, event.hash
    session.flush()
    return event


@dataclass(frozen=True)
class ChainProblem:
    entry_id: int
    problem: str


def check_chain(session: Session, batch: int = 5000) -> Iterator[ChainProblem]:
    """Walk the chain in id order; yield the first break (and a head mismatch)."""
    prev_hash, expected_id, last_id = GENESIS, 1, 0
    offset_id = 0
    while True:
        # Plain rows, not ORM objects: the walk takes half the time (a million entries).
        rows = session.execute(
            select(*AuditEvent.__table__.columns)
            .where(AuditEvent.id > offset_id)
            .order_by(AuditEvent.id)
            .limit(batch)
        ).all()
        if not rows:
            break
        for event in rows:
            if event.id != expected_id:
                yield ChainProblem(expected_id, f"entry {expected_id} is missing")
                return
            if event.prev_hash != prev_hash:
                yield ChainProblem(event.id, "does not link to the previous entry")
                return
            if entry_hash(event) != event.hash:
                yield ChainProblem(event.id, "was changed after it was written")
                return
            prev_hash, expected_id, last_id = event.hash, event.id + 1, event.id
        offset_id = rows[-1].id
    head = session.get(AuditHead, HEAD_ID)
    if head is not None and (head.last_id != last_id or head.last_hash != prev_hash):
        yield ChainProblem(head.last_id, f"entries after {last_id} are missing (chain head)")


def history(session: Session, object_uuid: str) -> list[AuditEvent]:
    """R23: every recorded event of one object, oldest first (changes carry old and new)."""
    return list(
        session.scalars(
            select(AuditEvent).where(AuditEvent.object_uuid == object_uuid).order_by(AuditEvent.id)
        )
    )
