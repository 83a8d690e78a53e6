"""Validating a stored document's signatures again (``eakte signatures check``).

Trust changes (a root added to the trust folder, a certificate expired since): the original
is read back from storage (its sha256 verified), validated as at intake, and the stored
findings replaced; the audit trail records each check.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from eakte import audit
from eakte.db import transaction
from eakte.ingest import signature_store
from eakte.ingest.confine import JobLimits
from eakte.ingest.pdf_features import SIGNED
from eakte.ingest.signatures import SignatureResult, validate_confined
from eakte.models import Document, DocumentStatus, FileVersion, VersionKind
from storage.blobstore import BlobStore


def signed_documents(session: Session) -> Iterator[int]:
    """Ids of the processed documents flagged signed."""
    rows = session.scalars(
        select(Document.id)
        .where(
            Document.flags.contains(SIGNED),
            Document.status == DocumentStatus.ready.value,
        )
        .order_by(Document.id)
    )
    yield from list(rows)


def recheck(
    session: Session,
    store: BlobStore,
    document_id: int,
    trust_dir: Path | None,
    limits: JobLimits,
    work_root: Path | None = None,
) -> list[SignatureResult]:
    original = session.scalar(
        select(FileVersion)
        .where(
            FileVersion.document_id == document_id,
            FileVersion.kind == VersionKind.original.value,
        )
        .order_by(FileVersion.id.desc())
        .limit(1)
    )
    session.rollback()  # no transaction held open while reading and validating
    if original is None:
        return []
    with tempfile.TemporaryDirectory(dir=work_root) as work:
        path = Path(work) / "original.pdf"
        store.get_to_file(original.s3_key, path, original.s3_version_id, original.sha256)
        results = validate_confined(path, trust_dir, limits)
    with transaction(session):
        document = session.get(Document, document_id)
        signature_store.replace(session, document_id, results)
        audit.record(
            session,
            None,
            "signatures_checked",
            document,
            statuses=",".join(r.status.value for r in results),
        )
    return results
