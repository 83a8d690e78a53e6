"""Which S3 keys belong to a case or a document, and their versions in the bucket."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from sqlalchemy import select
from sqlalchemy.orm import Session

from eakte.models import Document, DocumentStatus, FileVersion, Process
from storage.blobstore import BlobStore
from storage.objects import ObjectInfo


def case_document_ids(session: Session, case_id: int, *, live_only: bool = True) -> list[int]:
    query = (
        select(Document.id)
        .join(Process, Document.process_id == Process.id)
        .where(Process.case_id == case_id)
        .order_by(Document.id)
    )
    if live_only:
        query = query.where(Document.status != DocumentStatus.destroyed.value)
    return list(session.scalars(query))


def document_keys(session: Session, document_ids: Iterable[int]) -> list[str]:
    ids = list(document_ids)
    if not ids:
        return []
    rows = session.scalars(
        select(FileVersion.s3_key).where(FileVersion.document_id.in_(ids)).distinct()
    )
    return sorted(rows)


def key_versions(store: BlobStore, key: str) -> Iterator[ObjectInfo]:
    """Every version of exactly ``key`` (listing by prefix also returns longer keys)."""
    for info in store.list(prefix=key, versions=True):
        if info.key == key and not info.is_delete_marker:
            yield info
