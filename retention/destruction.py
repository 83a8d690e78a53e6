"""R10: destroying one document — every S3 version, rendition, preview and its text.

What belongs to a document: every key its file versions name (all versions and delete markers
of each), plus everything stored under a key segment named by the document's UUID (previews,
thumbnails and the like that other parts keep beside it). Bytes another live document still
uses (an identical upload linked as a duplicate) stay for that document.

Nothing bypasses a lock (COMPLIANCE): a version goes only once its retain-until has run out
and no legal hold is on it. A version still locked in S3 (a legal hold, or the floor of a
version stored within the last ``EAKTE_MIN_RETENTION_DAYS``) refuses; the caller then stops
and a later run resumes — the lock wins for what is not yet destroyed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from eakte.models import Document, DocumentStatus, FileVersion, StoredObject
from eakte.models.base import utcnow
from eakte.models.fields import DocumentField
from eakte.models.ingest import TransferNote
from eakte.models.signatures import PdfSignature
from eakte.services import previews
from storage.blobstore import BlobStore


@dataclass
class DocumentPlan:
    document_id: int
    entry: dict  # what the certificate lists for this document (no content)
    delete_keys: list[str] = field(default_factory=list)
    shared_keys: list[str] = field(default_factory=list)
    prefixes: list[str] = field(default_factory=list)


def plan_document(session: Session, document: Document) -> DocumentPlan:
    versions = list(
        session.scalars(
            select(FileVersion)
            .where(FileVersion.document_id == document.id)
            .order_by(FileVersion.id)
        )
    )
    files = [
        {
            "uuid": str(v.uuid),
            "kind": v.kind,
            "filename": v.filename,
            "mime": v.mime,
            "size": v.size,
            "sha256": v.sha256,
            "s3_key": v.s3_key,
            "s3_version_id": v.s3_version_id,
        }
        for v in versions
    ]
    plan = DocumentPlan(
        document.id,
        {
            "uuid": str(document.uuid),
            "title": document.title,
            "sha256": document.sha256,
            "received": document.received_date.isoformat() if document.received_date else None,
            "files": files,
        },
    )
    uuid = str(document.uuid)
    for key in sorted({v.s3_key for v in versions}):
        others = session.scalar(
            select(FileVersion.id)
            .join(Document, FileVersion.document_id == Document.id)
            .where(
                FileVersion.s3_key == key,
                FileVersion.document_id != document.id,
                Document.status != DocumentStatus.destroyed.value,
            )
            .limit(1)
        )
        (plan.shared_keys if others else plan.delete_keys).append(key)
        parts = key.split("/")
        for depth, part in enumerate(parts[:-1]):
            if part.startswith(uuid):
                plan.prefixes.append("/".join(parts[: depth + 1]) + "/")
                break
    plan.prefixes = sorted(set(plan.prefixes))
    return plan


def destroy_objects(store: BlobStore, plan: DocumentPlan) -> list[str]:
    """Remove every version and delete marker of the plan's keys; return the keys removed.

    Raises ``storage.errors.ObjectLocked`` when a version is still locked (nothing of that key
    is removed; keys removed before stay removed).
    """
    keys = set(plan.delete_keys)
    for prefix in plan.prefixes:
        keys.update(info.key for info in store.list(prefix=prefix, versions=True))
    keys.difference_update(plan.shared_keys)
    for key in sorted(keys):
        store.delete_all_versions(key)
    return sorted(keys)


def record_destroyed(
    session: Session, plan: DocumentPlan, removed_keys: list[str], data_dir: Path | None
) -> dict:
    """In the caller's transaction: the document becomes a tombstone without content."""
    document = session.get_one(Document, plan.document_id)
    # What was read from the content or names its file goes with it: the transfer note (R16:
    # who sent which file from where; it refers to the original's version), the signers
    # and fields found in it. The certificate keeps the hashes (R11).
    for derived in (TransferNote, PdfSignature, DocumentField):
        session.execute(delete(derived).where(derived.document_id == document.id))
    session.execute(delete(FileVersion).where(FileVersion.document_id == document.id))
    session.flush()
    still_used = set(
        session.scalars(select(FileVersion.s3_key).where(FileVersion.s3_key.in_(removed_keys)))
    )
    gone = [key for key in removed_keys if key not in still_used]
    if gone:
        session.execute(delete(StoredObject).where(StoredObject.key.in_(gone)))
    document.status = DocumentStatus.destroyed.value
    document.extracted_text = ""
    document.failure_reason = ""
    document.updated_at = utcnow()
    document.index_dirty = True  # the indexer removes its entries
    if data_dir is not None:
        previews.purge(data_dir, str(document.uuid))
    entry = dict(plan.entry)
    entry["kept_shared"] = plan.shared_keys
    return entry
