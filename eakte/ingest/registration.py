"""The registering steps of intake: a source taken in before found, the same bytes found,
the bytes stored, and the one transaction that registers the document.

The order is the promise of ARCHITECTURE "Ingest": bytes to S3 first, then one transaction
with the document row, its transfer note and the audit entry; only then is the caller told
"accepted". A crash before the commit leaves nothing registered; a re-run with the same
source key computes the same S3 key and adopts the bytes already there.
"""

from __future__ import annotations

from sqlalchemy import select, text, update
from sqlalchemy.exc import IntegrityError as DbIntegrityError
from sqlalchemy.orm import Session

from eakte import audit
from eakte.db import transaction
from eakte.ingest import keys, mail_intake, names
from eakte.ingest.intake_context import IntakeContext, IntakeResult, Outcome
from eakte.ingest.text import join_pages
from eakte.models import Document, DocumentStatus, FileVersion, StoredObject
from eakte.models.ingest import IngestTask, QuarantinedFile, TransferNote
from eakte.models.scanning import ScanBatch
from eakte.permissions import Action, can
from eakte.services.documents import register_original
from eakte.services.fields import attach
from eakte.services.objects import found_row, keep_unused, latest_version, put_object
from storage.blobstore import BlobStore


def find_existing(session: Session, store: BlobStore, ctx: IntakeContext) -> None:
    """A source taken in before (import re-run, retried API call) is not taken in again."""
    ctx.filename = names.sanitise(ctx.filename_raw)
    ctx.uuid = keys.identity(ctx.tenant.id, ctx.source_key)
    if not ctx.source_key:
        return
    document = session.scalar(
        select(Document).where(
            Document.tenant_id == ctx.tenant.id, Document.source_key == ctx.source_key
        )
    )
    if document is not None:
        ctx.result = IntakeResult(Outcome.existing, document=document)
        return
    entry = session.scalar(
        select(QuarantinedFile).where(
            QuarantinedFile.tenant_id == ctx.tenant.id,
            QuarantinedFile.source_key == ctx.source_key,
        )
    )
    if entry is not None:
        ctx.result = IntakeResult(
            Outcome.existing, quarantined=entry, reason_code=entry.reason_code, reason=entry.reason
        )


def find_duplicate(session: Session, store: BlobStore, ctx: IntakeContext) -> None:
    """The same bytes already in this tenant: link to that document, store nothing again."""
    found = _first_with_same_bytes(session, ctx)
    if found is not None:
        _link_duplicate(session, ctx, found)


def _link_duplicate(
    session: Session, ctx: IntakeContext, found: tuple[Document, StoredObject]
) -> None:
    """Only an uploader who may see the document with the same bytes is told "duplicate";
    for anyone else that answer would reveal a document of another unit or a restricted one
    (R22), so the upload is an ordinary new document, linked only internally."""
    ctx.duplicate_of, ctx.stored = found
    ctx.duplicate_seen = ctx.user is not None and can(session, ctx.user, Action.view, found[0])


def _first_with_same_bytes(
    session: Session, ctx: IntakeContext
) -> tuple[Document, StoredObject] | None:
    # Duplicates are rare in bulk imports: a lean look at the hash index first.
    if session.scalar(select(Document.id).where(Document.sha256 == ctx.sha256).limit(1)) is None:
        return None
    found = session.execute(
        select(Document, StoredObject)
        .join(FileVersion, FileVersion.document_id == Document.id)
        .join(StoredObject, StoredObject.id == FileVersion.stored_object_id)
        .where(
            Document.tenant_id == ctx.tenant.id,
            Document.sha256 == ctx.sha256,
            Document.duplicate_of_id.is_(None),
            Document.status != DocumentStatus.destroyed.value,
            FileVersion.sha256 == ctx.sha256,
        )
        .order_by(Document.id)
        .limit(1)
    ).first()
    return None if found is None else (found[0], found[1])


def _serialise_same_bytes(session: Session, sha256: str) -> None:
    """Two intakes of the same bytes at once (parallel import threads) must not both miss
    each other: PostgreSQL serialises them on a lock per hash for this transaction; SQLite
    already runs one write transaction at a time."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": int(sha256[:15], 16)})


def store_original(session: Session, store: BlobStore, ctx: IntakeContext) -> None:
    """The bytes to S3 (or, after a crash, the bytes a previous run left there)."""
    if ctx.stored is None:
        key = keys.original_key(ctx.tenant.slug, ctx.identity)
        ctx.stored = put_or_adopt(session, store, ctx, key, ctx.checked.mime)


def register(session: Session, store: BlobStore, ctx: IntakeContext) -> None:
    """One transaction: stored object, document with its original version, transfer note
    (R16), the claim row for processing, audit entries. Then the caller hears "accepted"."""
    inspection = ctx.checked
    metadata = ctx.metadata
    unused_upload = None
    try:
        with transaction(session):
            _serialise_same_bytes(session, ctx.sha256)
            if ctx.duplicate_of is None:
                found = _first_with_same_bytes(session, ctx)  # arrived while we uploaded
                if found is not None:
                    unused_upload = ctx.stored
                    _link_duplicate(session, ctx, found)
            duplicate = ctx.duplicate_of
            anomalies = list(inspection.anomalies)
            if duplicate is not None and ctx.duplicate_seen:
                anomalies.append(f"same bytes as document {duplicate.uuid}: linked")
            stored = ctx.stored  # store_original's, or the duplicate's
            if stored is None:
                raise RuntimeError("nothing was stored")  # store_original runs before
            if stored.id is None:
                session.add(stored)
                session.flush()
            document = register_original(
                session,
                ctx.user,
                stored,
                title=(metadata.title or names.title_from(ctx.filename))[:500],
                filename=ctx.filename,
                inbox_org_unit_id=None if ctx.process_id else ctx.inbox_org_unit_id,
                source=ctx.source[:300],
                doc_type=metadata.doc_type[:100],
                correspondent=metadata.correspondent[:300],
                received_date=metadata.received_date,
                scan_batch_id=ctx.scan_batch_id,
                uuid=ctx.uuid,
                source_key=ctx.source_key,
                flags=",".join(inspection.flags)[:200],
                duplicate_of_id=duplicate.id if duplicate else None,
                process_id=ctx.process_id,
            )
            session.add(
                TransferNote(
                    tenant_id=ctx.tenant.id,
                    document_id=document.id,
                    file_version_id=document.versions[0].id,
                    sha256=ctx.sha256,
                    size=ctx.size,
                    received_by_id=ctx.user.id if ctx.user else None,
                    received_by=ctx.submitted_by[:200],
                    method=ctx.method,
                    source=ctx.source,
                    filename_raw=names.encoded(ctx.filename_raw),
                    anomalies="; ".join(anomalies),
                )
            )
            mail_intake.record_message(session, ctx, document)  # a message: its mail data
            if ctx.text_pages is None:
                session.add(IngestTask(document_id=document.id))
            else:
                _finish_born_digital(session, ctx, document, ctx.text_pages)
            if ctx.fields:
                attach(session, document, ctx.fields)
            if duplicate is not None and ctx.duplicate_seen:
                audit.record(session, ctx.user, "duplicate", document, of=str(duplicate.uuid))
            elif duplicate is not None:  # on record for auditors, not on either document's page
                audit.record(
                    session,
                    ctx.user,
                    "duplicate_hidden",
                    tenant_id=ctx.tenant.id,
                    document=str(document.uuid),
                    of=str(duplicate.uuid),
                )
            if ctx.process_id:
                audit.record(session, ctx.user, "file", document, process=ctx.process_id)
            if ctx.user is None:
                audit.record(session, None, "api_intake", document, client=ctx.submitted_by)
    except DbIntegrityError:
        session.rollback()  # the same source registered a moment ago by a parallel run
        find_existing(session, store, ctx)
        if ctx.result is None:
            raise
        return
    outcome = (
        Outcome.duplicate if duplicate is not None and ctx.duplicate_seen else Outcome.accepted
    )
    ctx.result = IntakeResult(outcome, document=document)  # committed: it is in
    if unused_upload is not None and unused_upload.id is None:
        keep_unused(session, unused_upload)


def _finish_born_digital(
    session: Session, ctx: IntakeContext, document: Document, pages: list[str]
) -> None:
    """What the worker's ``finish`` records for a born-digital PDF, in the intake's
    transaction."""
    document.extracted_text = join_pages(pages)
    document.page_count = len(pages)
    document.status = DocumentStatus.ready.value
    document.index_dirty = True
    if ctx.scan_batch_id:
        session.execute(
            update(ScanBatch)
            .where(ScanBatch.id == ctx.scan_batch_id)
            .values(page_count=ScanBatch.page_count + len(pages))
        )
    session.flush()
    audit.record(session, None, "processed", document, pages=document.page_count, rendition=None)


def put_or_adopt(
    session: Session, store: BlobStore, ctx: IntakeContext, key: str, content_type: str
) -> StoredObject:
    """Upload the bytes to ``key``; but if a crashed run already put these very bytes there
    (same deterministic key, same sha256), take that version instead of adding another."""
    if ctx.source_key:
        info = latest_version(store, key, ctx.sha256)
        if info is not None:
            return found_row(session, info, ctx.tenant.id, content_type)
    # Under the floor only: filing beneath a legal hold is refused, a new document in the
    # inbox or an open case has no retention end yet.
    return put_object(
        store,
        tenant_id=ctx.tenant.id,
        key=key,
        source=ctx.file,
        content_type=content_type,
        sha256=ctx.sha256,
    )
