"""R25: every object version of a closed case carries retain-until = its retention end.

COMPLIANCE retention: no identity can shorten it or delete before it; a lock is only ever
extended. What the floor of live records needs is in ``retention.floor``.

Closure, reopening and schedule changes only mark the case (``object_lock_pending``) inside
their transaction; this module applies the marks to S3 after the commit. It is idempotent (a
version already locked long enough is left alone; a lock is never shortened) and safe to
retry, so the periodic job and ``eakte retention sync-locks`` simply run it again after any
failure.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from eakte.db import transaction
from eakte.models import Case, StoredObject
from eakte.models.base import utcnow
from retention.objects import case_document_ids, document_keys, key_versions
from retention.rules import lock_until
from storage.blobstore import BlobStore
from storage.errors import ObjectLocked, ObjectNotFound, StorageError


@dataclass
class LockReport:
    cases: int = 0
    versions_locked: int = 0
    failed: list[str] = field(default_factory=list)


def lock_versions(store: BlobStore, keys: list[str], until) -> int:
    """Extend every version of ``keys`` to at least ``until``; return how many changed."""
    changed = 0
    for key in keys:
        for info in key_versions(store, key):
            try:
                current = store.get_retention(key, info.version_id)
                if current is not None and current.retain_until >= until:
                    continue
                store.set_retention(key, info.version_id, until)
            except ObjectNotFound:
                continue  # destroyed meanwhile by an approved disposal
            changed += 1
    return changed


def ensure_floor(store: BlobStore, key: str, version_id: str | None) -> datetime:
    """Lock a version for at least the floor from now (a longer lock stays); return its
    retain-until."""
    until = store.floor()
    try:
        store.set_retention(key, version_id, until)
    except ObjectLocked:
        current = store.get_retention(key, version_id)
        if current is None or current.retain_until < until:
            raise
        return current.retain_until
    return until


def record_retain_until(session: Session, keys: list[str], until: datetime) -> None:
    """In the caller's transaction: what S3 now holds, for the nightly floor extension."""
    for start in range(0, len(keys), 500):
        session.execute(
            update(StoredObject)
            .where(
                StoredObject.key.in_(keys[start : start + 500]),
                or_(StoredObject.retain_until.is_(None), StoredObject.retain_until < until),
            )
            .values(retain_until=until)
        )


def sync_object_locks(
    session: Session,
    store: BlobStore,
    *,
    case_ids: list[int] | None = None,
    limit: int = 1000,
    today: date | None = None,
) -> LockReport:
    """Apply pending retain-until marks (all, or those of ``case_ids``)."""
    today = today or utcnow().date()
    query = select(Case.id).where(Case.object_lock_pending.is_(True)).order_by(Case.id)
    if case_ids is not None:
        query = query.where(Case.id.in_(case_ids))
    report = LockReport()
    for case_id in list(session.scalars(query.limit(limit))):
        case = session.get_one(Case, case_id)
        until = lock_until(session, case, today)
        keys = document_keys(session, case_document_ids(session, case_id))
        session.rollback()  # no transaction stays open while S3 is called
        try:
            if until is not None:
                report.versions_locked += lock_versions(store, keys, until)
        except StorageError as exc:
            report.failed.append(f"{case.file_reference}: {exc}")
            continue
        with transaction(session):
            case = session.get_one(Case, case_id)
            # Cleared only if nothing moved the target meanwhile (a reopening, say).
            if lock_until(session, case, today) == until:
                session.execute(
                    update(Case).where(Case.id == case_id).values(object_lock_pending=False)
                )
            if until is not None:
                record_retain_until(session, keys, until)
        report.cases += 1
    return report
