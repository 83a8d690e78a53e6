"""The intake half of the pipeline: from bytes to a registered document (or quarantine).

Small steps over one explicit ``IntakeContext``; each step reads what earlier ones learned and
adds its own; a step that settles the outcome sets ``ctx.result`` and the rest are skipped.
The order is the promise of ARCHITECTURE "Ingest": bytes to S3 first, then one transaction
with the document row, its transfer note and the audit entry; only then is the caller told
"accepted". A crash before the commit leaves nothing registered; a re-run with the same
source key computes the same S3 key and adopts the bytes already there.
"""

from __future__ import annotations

import enum
import hashlib
import logging
import os
import tempfile
import uuid as uuidlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import select, text, update
from sqlalchemy.exc import IntegrityError as DbIntegrityError
from sqlalchemy.orm import Session

from eakte import audit
from eakte.db import transaction
from eakte.ingest import einvoice, keys, mail_intake, names
from eakte.ingest.detect import mime_of
from eakte.ingest.pdf_features import needs_worker
from eakte.ingest.reasons import Reason, Rejected
from eakte.ingest.rescue import rescue
from eakte.ingest.text import PdfText, join_pages, page_texts
from eakte.ingest.unforeseen import INFRASTRUCTURE
from eakte.ingest.validate import Inspection, Limits, inspect
from eakte.models import (
    Document,
    DocumentStatus,
    FileVersion,
    StoredObject,
    Tenant,
    User,
)
from eakte.models.ingest import IngestTask, QuarantinedFile, TransferNote
from eakte.models.scanning import ScanBatch
from eakte.permissions import Action, can
from eakte.services.documents import register_original
from eakte.services.fields import FieldValue, attach
from eakte.services.objects import found_row, keep_unused, latest_version, put_object
from storage.blobstore import BlobStore

log = logging.getLogger(__name__)

CHUNK = 1 << 20


class Outcome(enum.StrEnum):
    accepted = "accepted"
    duplicate = "duplicate"  # accepted, linked to the document with the same bytes
    existing = "existing"  # this source was taken in before (a re-run): nothing done
    quarantined = "quarantined"


@dataclass(frozen=True)
class DocumentMetadata:
    title: str = ""  # default: from the file name
    doc_type: str = ""
    correspondent: str = ""
    received_date: date | None = None


@dataclass
class IntakeResult:
    outcome: Outcome
    document: Document | None = None
    quarantined: QuarantinedFile | None = None
    reason_code: str = ""
    reason: str = ""  # English, for logs and the CLI
    attachments: list[IntakeResult] = field(default_factory=list)  # a mail message's

    @property
    def accepted(self) -> bool:
        return self.outcome in (Outcome.accepted, Outcome.duplicate)


@dataclass
class IntakeContext:
    # what the caller gives
    tenant: Tenant
    user: User | None  # the person (None for an API client)
    submitted_by: str  # user name or API client name, for the record
    data: Path | BinaryIO | None  # a file to read in place, or a stream to spool
    filename_raw: bytes
    metadata: DocumentMetadata
    inbox_org_unit_id: int | None  # the inbox's org unit (the case's when filed into a process)
    process_id: int | None
    method: str  # upload, api, import, watch
    source: str  # where it came from, readable (a path, "web upload", the client)
    source_key: str | None
    scan_batch_id: int | None
    limits: Limits
    spool_dir: Path
    mail_depth: int = 0  # messages around this file (an attachment of a mail: 1)
    # what the steps learn
    filename: str = ""
    uuid: uuidlib.UUID | None = None
    path: Path | None = None
    spooled: bool = False
    size: int = 0
    sha256: str = ""
    mime: str = ""
    inspection: Inspection | None = None
    rejection: Rejected | None = None
    duplicate_of: Document | None = None
    duplicate_seen: bool = False  # the uploader may see ``duplicate_of`` (else: no oracle)
    stored: StoredObject | None = None
    text_pages: list[str] | None = None  # a born-digital PDF's text layer, read at intake
    fields: list[FieldValue] = field(default_factory=list)  # read from the content (e-invoice)
    result: IntakeResult | None = None


Step = Callable[[Session, BlobStore, IntakeContext], None]


# ----------------------------------------------------------------------------------- steps


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


def read_bytes(session: Session, store: BlobStore, ctx: IntakeContext) -> None:
    """Hash the bytes (and spool a stream to a file): one pass, bounded memory."""
    digest, size = hashlib.sha256(), 0
    if ctx.rejection is not None:  # the source already knows it cannot be read
        ctx.sha256 = digest.hexdigest()
        return
    try:
        if isinstance(ctx.data, Path):
            ctx.path = ctx.data
            with ctx.data.open("rb") as fh:
                while chunk := fh.read(CHUNK):
                    digest.update(chunk)
                    size += len(chunk)
        else:
            fd, name = tempfile.mkstemp(dir=ctx.spool_dir, prefix="intake-")
            ctx.path, ctx.spooled = Path(name), True
            with os.fdopen(fd, "wb") as out:
                while chunk := ctx.data.read(CHUNK):
                    digest.update(chunk)
                    size += len(chunk)
                    out.write(chunk)
    except OSError as exc:
        ctx.rejection = Rejected(Reason.unreadable, f"reading failed: {exc.strerror or exc}")
        ctx.path = None
    ctx.sha256, ctx.size = digest.hexdigest(), size


def check_content(session: Session, store: BlobStore, ctx: IntakeContext) -> None:
    """Type by content, allow-list, limits, structure (see ``validate``)."""
    if ctx.rejection is not None or ctx.path is None:
        return
    ctx.mime = mime_of(ctx.path)
    try:
        ctx.inspection = inspect(ctx.path, ctx.mime, ctx.size, ctx.filename, ctx.limits)
    except Rejected as rejected:
        ctx.rejection = rejected


def read_text_layer(session: Session, store: BlobStore, ctx: IntakeContext) -> None:
    """A small born-digital PDF is finished here: its text layer is its text and the original
    its own archival version (R19), so a worker job would only read the bytes back from S3
    to learn the same. Scans, repaired files and long documents go to the worker."""
    inspection = ctx.inspection
    if (
        inspection is None
        or inspection.kind != "pdf"
        or inspection.pages > ctx.limits.text_at_intake_pages
        or inspection.page_images
        or "repaired" in inspection.flags
        or needs_worker(inspection.flags)  # signed, protected, forms: see ``pdf_features``
    ):
        return
    try:
        found = PdfText(pages=page_texts(ctx.path), scanned=False)
    except Exception as exc:  # (the worker reads it again, confined)
        log.warning("text of %s not read at intake, left to the worker: %s", ctx.source, exc)
        return
    if found.born_digital and len(found.pages) == inspection.pages:
        ctx.text_pages = found.pages


def quarantine(session: Session, store: BlobStore, ctx: IntakeContext) -> None:
    """A rejected file is kept (bytes under the quarantine prefix) with its reason."""
    if ctx.rejection is None:
        return
    rejection = ctx.rejection
    stored, key = None, ""
    if ctx.path is not None:
        stored = session.scalar(
            select(StoredObject)
            .join(QuarantinedFile, QuarantinedFile.stored_object_id == StoredObject.id)
            .where(QuarantinedFile.tenant_id == ctx.tenant.id, StoredObject.sha256 == ctx.sha256)
            .limit(1)
        )  # the same bad bytes again are not stored twice
        if stored is None:
            key = keys.quarantine_key(ctx.tenant.slug, ctx.uuid)
            stored = _put_or_adopt(session, store, ctx, key, "application/octet-stream")
        key = stored.key
    try:
        with transaction(session):
            if stored is not None and stored.id is None:
                session.add(stored)
                session.flush()
            entry = QuarantinedFile(
                uuid=ctx.uuid,
                tenant_id=ctx.tenant.id,
                filename=ctx.filename,
                filename_raw=names.encoded(ctx.filename_raw),
                reason_code=rejection.code.value,
                reason=rejection.detail,
                sha256=ctx.sha256,
                size=ctx.size,
                detected_mime=ctx.mime[:127],
                source=ctx.source[:300],
                source_key=ctx.source_key,
                stored_object_id=stored.id if stored is not None else None,
                s3_key=key,
                scan_batch_id=ctx.scan_batch_id,
                org_unit_id=ctx.inbox_org_unit_id,
                submitted_by_id=ctx.user.id if ctx.user else None,
                submitted_by=ctx.submitted_by[:200],
            )
            session.add(entry)
            session.flush()
            audit.record(
                session,
                ctx.user,
                "quarantine",
                entry,
                tenant_id=ctx.tenant.id,
                reason=rejection.code.value,
                detail=rejection.detail,
                sha256=ctx.sha256,
                source=ctx.source,
                filename=ctx.filename,
                client=None if ctx.user else ctx.submitted_by,
            )
    except DbIntegrityError:
        session.rollback()  # the same source, quarantined a moment ago by a parallel run
        find_existing(session, store, ctx)
        if ctx.result is None:
            raise
        return
    log.warning("quarantined %s (%s): %s", ctx.source, rejection.code.value, rejection.detail)
    ctx.result = IntakeResult(
        Outcome.quarantined, quarantined=entry, reason_code=rejection.code, reason=rejection.detail
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
        key = keys.original_key(ctx.tenant.slug, ctx.uuid)
        ctx.stored = _put_or_adopt(session, store, ctx, key, ctx.inspection.mime)


def register(session: Session, store: BlobStore, ctx: IntakeContext) -> None:
    """One transaction: stored object, document with its original version, transfer note
    (R16), the claim row for processing, audit entries. Then the caller hears "accepted"."""
    inspection = ctx.inspection
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
            if ctx.stored.id is None:
                session.add(ctx.stored)
                session.flush()
            document = register_original(
                session,
                ctx.user,
                ctx.stored,
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
                _finish_born_digital(session, ctx, document)
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


def _finish_born_digital(session: Session, ctx: IntakeContext, document: Document) -> None:
    """What the worker's ``finish`` records for a born-digital PDF, in the intake's
    transaction."""
    document.extracted_text = join_pages(ctx.text_pages)
    document.page_count = len(ctx.text_pages)
    document.status = DocumentStatus.ready.value
    document.index_dirty = True
    if ctx.scan_batch_id:
        session.execute(
            update(ScanBatch)
            .where(ScanBatch.id == ctx.scan_batch_id)
            .values(page_count=ScanBatch.page_count + len(ctx.text_pages))
        )
    session.flush()
    audit.record(session, None, "processed", document, pages=document.page_count, rendition=None)


INTAKE_STEPS: list[Step] = [
    find_existing,
    read_bytes,
    check_content,
    mail_intake.check_message,
    quarantine,
    read_text_layer,
    einvoice.read_invoice,
    find_duplicate,
    store_original,
    register,
]


def run_intake(session: Session, store: BlobStore, ctx: IntakeContext) -> IntakeResult:
    try:
        for step in INTAKE_STEPS:
            try:
                step(session, store, ctx)
            except INFRASTRUCTURE:
                raise  # an outage, not the file's fault: the caller retries the source
            except Exception as exc:
                if step is quarantine:
                    raise  # the last resort itself failed
                rescue(session, store, ctx, step, exc, read=read_bytes, keep=quarantine)
            if ctx.result is not None:
                break
    finally:
        if ctx.spooled and ctx.path is not None:
            ctx.path.unlink(missing_ok=True)
    if ctx.result is None:
        raise RuntimeError("intake ended without an outcome")  # every path sets one
    mail_intake.take_in_attachments(session, store, ctx)  # a message's follow it in
    return ctx.result


# --------------------------------------------------------------------------------- helpers


def _put_or_adopt(
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
        source=ctx.path,
        content_type=content_type,
        sha256=ctx.sha256,
    )
