"""Issue 13: the COMPLIANCE floor of live records, extended nightly (R25).

Every version is stored with a retain-until at least ``BlobStore.min_retention`` ahead (the
floor, ``EAKTE_MIN_RETENTION_DAYS``). While its record lives the floor is extended before it
runs out: in the inbox, in an open case, in a closed case whose end is not known (an event
trigger without its date; a permanent record until the archive has confirmed the transfer,
R13), and beneath an active legal hold (so that releasing the S3 hold does not make it
deletable at once). A closed case with a known end has retain-until = its end (``locks``).

What no record needs any more (a destroyed document, a transferred case, an unused upload, a
quarantined file) is left to run out; only then can disposal delete it, and nothing ever could
before.

Cheap and bounded: ``stored_object.retain_until`` records what eAkte set, so the job selects
through its index only the versions whose retain-until comes within a quarter of the floor
period and extends those to a full period ahead (each version about every nine months with the
default of a year), in batches, each committed on its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from eakte.db import transaction
from eakte.models import StoredObject
from eakte.models.base import utcnow
from retention.holds import hold_scope_case_ids
from retention.locks import ensure_floor
from retention.models import Hold
from retention.objects import case_document_ids, document_keys
from retention.rules import needs_floor
from storage.blobstore import BlobStore
from storage.errors import StorageError


@dataclass
class FloorReport:
    extended: int = 0
    failed: list[str] = field(default_factory=list)


def held_keys(session: Session) -> list[str]:
    """Every S3 key of a live document beneath an active hold."""
    case_ids: set[int] = set()
    for hold in session.scalars(select(Hold).where(Hold.released_at.is_(None))):
        case_ids.update(hold_scope_case_ids(session, hold))
    keys: set[str] = set()
    for case_id in sorted(case_ids):
        keys.update(document_keys(session, case_document_ids(session, case_id)))
    return sorted(keys)


def extend_floors(
    session: Session,
    store: BlobStore,
    *,
    batch: int = 500,
    limit: int = 100_000,
    now: datetime | None = None,
) -> FloorReport:
    """Extend the floor of every live record's version whose retain-until comes within a
    quarter of the period (at most ``limit`` versions a run; the quarter leaves months for
    the rest)."""
    now = now or utcnow()
    horizon = now + store.min_retention / 4
    report = FloorReport()
    near = or_(StoredObject.retain_until.is_(None), StoredObject.retain_until < horizon)
    held = held_keys(session)
    session.rollback()
    scopes = [needs_floor()]
    scopes += [StoredObject.key.in_(held[i : i + 500]) for i in range(0, len(held), 500)]
    for scope in scopes:
        last_id = 0
        while report.extended < limit:
            rows = session.execute(
                select(StoredObject.id, StoredObject.key, StoredObject.version_id)
                .where(near, scope, StoredObject.id > last_id)
                .order_by(StoredObject.id)
                .limit(batch)
            ).all()
            session.rollback()  # no transaction stays open while S3 is called
            if not rows:
                break
            last_id = rows[-1].id
            _extend(session, store, rows, report)
    return report


def _extend(session: Session, store: BlobStore, rows, report: FloorReport) -> None:
    done: dict[int, datetime] = {}
    for row in rows:
        try:
            done[row.id] = ensure_floor(store, row.key, row.version_id)
        except StorageError as exc:
            report.failed.append(f"{row.key}@{row.version_id}: {exc}")
            continue
        report.extended += 1
    with transaction(session):
        for row_id, until in done.items():
            session.execute(
                update(StoredObject).where(StoredObject.id == row_id).values(retain_until=until)
            )
