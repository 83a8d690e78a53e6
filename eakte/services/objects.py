"""Storing bytes: S3 first, then the database row — only then is anything "accepted".

The one home of the ``stored_object`` row: every version eAkte stores or finds in the store is
registered through :func:`put_object` (upload, then the row) or :func:`found_row` (a version
already there, e.g. left by a crashed run).
"""

from __future__ import annotations

from contextlib import suppress
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError as DbIntegrityError
from sqlalchemy.orm import Session

from eakte.db import transaction
from eakte.models import StoredObject
from eakte.ports import FLOOR_ONLY, VersionLock
from storage.blobstore import BlobStore
from storage.errors import ObjectNotFound
from storage.objects import ObjectInfo


def put_object(
    store: BlobStore,
    *,
    tenant_id: int | None,
    key: str,
    source: BinaryIO | Path,
    content_type: str,
    length: int = -1,
    sha256: str | None = None,
    lock: VersionLock = FLOOR_ONLY,
) -> StoredObject:
    """Upload ``source`` (a stream, or a local file) locked as ``lock`` says (at least with the
    floor) and return its registry row, not yet added to a session: the caller adds it in the
    transaction that also records what the version is for."""
    if isinstance(source, Path):
        stored = store.put_file(
            key,
            source,
            content_type=content_type,
            sha256=sha256,
            retain_until=lock.retain_until,
            legal_hold=lock.legal_hold,
        )
    else:
        stored = store.put(
            key,
            source,
            length=length,
            content_type=content_type,
            sha256=sha256,
            retain_until=lock.retain_until,
            legal_hold=lock.legal_hold,
        )
    return StoredObject.of(stored, tenant_id)


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
    row = put_object(
        store,
        tenant_id=tenant_id,
        key=key,
        source=stream,
        content_type=content_type,
        length=length,
        sha256=sha256,
        lock=lock,
    )
    with transaction(session):
        session.add(row)
    return row


def latest_version(store: BlobStore, key: str, sha256: str | None = None) -> ObjectInfo | None:
    """The latest version at ``key`` (only if it holds ``sha256``, when given), or None."""
    info = None
    with suppress(ObjectNotFound):
        info = store.stat(key)
    if info is None or (sha256 is not None and info.sha256 != sha256):
        return None
    return info


def found_row(
    session: Session, info: ObjectInfo, tenant_id: int | None, content_type: str
) -> StoredObject:
    """The registry row of a version found in the store: the registered one, or a new row (not
    yet added) if a crashed run stored it without registering it. ``content_type`` stands in
    when the server does not say."""
    row = session.scalar(
        select(StoredObject).where(
            StoredObject.key == info.key, StoredObject.version_id == info.version_id
        )
    )
    if row is not None:
        return row
    return StoredObject(
        tenant_id=tenant_id,
        key=info.key,
        version_id=info.version_id,
        sha256=info.sha256,
        size=info.size,
        content_type=info.content_type or content_type,
        retain_until=info.retain_until,
    )


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
