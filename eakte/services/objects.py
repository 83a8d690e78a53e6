"""Storing bytes: S3 first, then the database row — only then is anything "accepted"."""

from __future__ import annotations

from typing import BinaryIO

from sqlalchemy.orm import Session

from eakte.db import transaction
from eakte.models import StoredObject
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
) -> StoredObject:
    """Upload ``stream`` and register it.

    If S3 fails, a typed storage error propagates and the database is untouched. If the database
    fails after the upload, the object is an orphan that ``eakte verify`` reports; nothing is lost
    because the caller was never told "accepted".
    """
    stored = store.put(key, stream, length=length, content_type=content_type, sha256=sha256)
    with transaction(session):
        row = StoredObject(
            tenant_id=tenant_id,
            key=stored.key,
            version_id=stored.version_id,
            sha256=stored.sha256,
            size=stored.size,
            content_type=stored.content_type,
        )
        session.add(row)
    return row
