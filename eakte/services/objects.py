"""Storing bytes: S3 first, then the database row — only then is anything "accepted"."""

from __future__ import annotations

from typing import BinaryIO

from sqlalchemy.exc import IntegrityError as DbIntegrityError
from sqlalchemy.orm import Session

from eakte.db import transaction
from eakte.models import StoredObject
from eakte.ports import FLOOR_ONLY, VersionLock
from storage.blobstore import BlobStore


def store_object(
    session: Session,
    store: BlobStore,
    *,
    tenant_id: int,
    key: str,
    stream: BinaryIO,
    content_type: str,
    length: int = -1,
    sha256: str | None = None,
    lock: VersionLock = FLOOR_ONLY,
) -> StoredObject:
    """Upload ``stream`` (locked as ``lock`` says, at least with the floor) and register it.

    If S3 fails, a typed storage error propagates and the database is untouched. If the database
    fails after the upload, the object is an orphan that ``eakte verify`` reports; nothing is lost
    because the caller was never told "accepted".
    """
    stored = store.put(
        key,
        stream,
        length=length,
        content_type=content_type,
        sha256=sha256,
        retain_until=lock.retain_until,
        legal_hold=lock.legal_hold,
    )
    with transaction(session):
        row = StoredObject.of(stored, tenant_id)
        session.add(row)
    return row


def keep_unused(session: Session, row: StoredObject) -> None:
    """Register a version we stored but do not need (a duplicate upload, a rendition a crashed
    run left). It cannot be deleted before its floor runs out (COMPLIANCE), so it is kept on
    the books (``eakte verify`` reports no orphan); no record refers to it, so its floor is
    never extended and it expires."""
    try:
        with transaction(session):
            session.add(row)
    except DbIntegrityError:
        session.rollback()  # registered meanwhile by another run
