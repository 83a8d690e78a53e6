"""`eakte verify` check of R16: every scan product still has the sha256 it had on entry.

The transfer note keeps the hash taken when the file came in; the file version and the stored
object must carry the same one (``check_objects`` then proves the bytes in S3 hash to it). A
difference means the record was changed after entry: an alarm.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from sqlalchemy import select

from eakte.models import Document, FileVersion, StoredObject
from eakte.models.ingest import TransferNote

if TYPE_CHECKING:
    from eakte.verify import Finding, VerifyContext


def check_transfer_notes(ctx: VerifyContext, counts: dict[str, int]) -> Iterator[Finding]:
    from eakte.verify import Finding

    rows = ctx.session.execute(
        select(
            Document.uuid,
            FileVersion.uuid,
            TransferNote.sha256,
            FileVersion.sha256,
            StoredObject.sha256,
        )
        .join(FileVersion, FileVersion.id == TransferNote.file_version_id)
        .join(Document, Document.id == TransferNote.document_id)
        .outerjoin(StoredObject, StoredObject.id == FileVersion.stored_object_id)
        .order_by(TransferNote.id)
        .execution_options(yield_per=5000)
    )
    checked = 0
    for doc_uuid, version_uuid, at_entry, version_sha, stored_sha in rows:
        checked += 1
        if at_entry != version_sha or at_entry != stored_sha:
            yield Finding(
                "transfer notes",
                f"document {doc_uuid} version {version_uuid}",
                f"ALARM: sha256 at entry {at_entry} differs from the stored "
                f"{version_sha if version_sha != at_entry else stored_sha}",
            )
    counts["transfer notes"] = checked
