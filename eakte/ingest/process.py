"""The processing half of the pipeline: text, OCR and the PDF/A rendition of one document.

A job runs these steps over one ``ProcessContext``. It first claims the document (a row lock
and a claim naming host, process and job), so two jobs never work on one document, and a job
for a document that is done or taken does nothing. It commits only if its claim still holds,
so a job that lost its claim (stale, taken over) changes nothing. Every step can be repeated:
the original is read again, the rendition written again, leftovers of a crashed attempt
removed first.

Reading, converting and OCRing the file (``convert``) run in a child process under hard memory
and CPU limits (``confine``): a file that gets past the bounds checked at intake and still
blows up a decoder fails with a reason, and the worker takes the next document.

Transient failures (object storage or database away) release the claim and raise
``IngestRetryLater`` for the job queue to retry with backoff; everything else sets the document
``failed`` with a readable reason (and ``eakte`` can retry it later).
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from contextlib import ExitStack
from datetime import timedelta
from pathlib import Path
from typing import cast

from sqlalchemy import Engine, select, update
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session

from eakte import audit
from eakte.db import transaction
from eakte.errors import DatabaseUnavailable, IngestRetryLater
from eakte.ingest import (
    claims,
    einvoice,
    keys,
    page_quality,
    pdf_features,
    signature_store,
    signatures,
)
from eakte.ingest.confine import JobLimits
from eakte.ingest.conversion import PDF, convert
from eakte.ingest.heartbeat import ClaimHeartbeat, progressed
from eakte.ingest.process_context import (
    Failure,
    Next,
    Original,
    ProcessContext,
    Result,
    Step,
)
from eakte.ingest.reasons import plain
from eakte.ingest.text import join_pages
from eakte.ingest.unforeseen import describe
from eakte.models import (
    Case,
    CaseStatus,
    Document,
    DocumentStatus,
    FileVersion,
    Process,
    StoredObject,
    Tenant,
    VersionKind,
)
from eakte.models.base import utcnow
from eakte.models.ingest import IngestTask
from eakte.models.scanning import ScanBatch
from eakte.ports import retention_port
from eakte.services import suggestions
from eakte.services.documents import version_for
from eakte.services.objects import found_row, keep_unused, latest_version, put_object
from storage.blobstore import BlobStore
from storage.errors import IntegrityError, ObjectNotFound, StorageUnavailable

__all__ = ["MAX_ATTEMPTS", "STEPS", "Failure", "Result", "fail_for_good", "process_document"]

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5  # claims of one document before it counts as crashing its workers


# ----------------------------------------------------------------------------------- steps


def claim(session: Session, store: BlobStore, ctx: ProcessContext) -> Next:
    """Take the document (one read, two writes: this runs for every document of a bulk
    import, so it stays lean)."""
    ctx.worker = claims.identity(ctx.job_id)
    now = utcnow()
    with transaction(session):
        row = session.execute(
            select(
                Document.status,
                Document.uuid,
                Document.tenant_id,
                Document.duplicate_of_id,
                Document.scan_batch_id,
                Document.page_count,
                Document.flags,
                Tenant.slug,
                ScanBatch.dpi,
                IngestTask.document_id.label("task"),
                IngestTask.claimed_by,
                IngestTask.claimed_at,
                IngestTask.attempts,
            )
            .join(Tenant, Tenant.id == Document.tenant_id)
            .outerjoin(ScanBatch, ScanBatch.id == Document.scan_batch_id)
            .outerjoin(IngestTask, IngestTask.document_id == Document.id)
            .where(Document.id == ctx.document_id)
            .with_for_update(of=Document)
        ).one_or_none()
        if row is None or row.status not in (DocumentStatus.received, DocumentStatus.processing):
            ctx.result = Result.nothing_to_do
            return Next.stop
        if (
            row.status == DocumentStatus.processing
            and row.claimed_by
            and not claims.same_job(row.claimed_by, ctx.job_id)
            and not claims.is_stale(row.claimed_by, row.claimed_at, now, ctx.lease)
        ):
            ctx.result = Result.nothing_to_do  # another live job works on it
            return Next.stop
        crashed = row.attempts or 0
        # The queue's retry of this very job (after the database or storage was away) takes
        # its claim back: that attempt did not crash, so it does not count.
        retry = bool(row.claimed_by) and claims.same_job(row.claimed_by, ctx.job_id)
        if row.task is None:
            session.add(IngestTask(document_id=ctx.document_id, attempts=1))
            session.flush()
        session.execute(
            update(IngestTask)
            .where(IngestTask.document_id == ctx.document_id)
            .values(
                attempts=crashed if retry else crashed + 1, claimed_by=ctx.worker, claimed_at=now
            )
        )
        session.execute(
            update(Document)
            .where(Document.id == ctx.document_id)
            .values(status=DocumentStatus.processing.value)
        )
        ctx.tenant_id, ctx.tenant_slug, ctx.document_uuid = row.tenant_id, row.slug, row.uuid
        ctx.duplicate_of_id, ctx.scan_batch_id = row.duplicate_of_id, row.scan_batch_id
        ctx.scan_dpi, ctx.previous_pages = row.dpi, row.page_count or 0
        ctx.flags = {f for f in row.flags.split(",") if f}
        original = session.execute(
            select(
                FileVersion.s3_key,
                FileVersion.s3_version_id,
                FileVersion.sha256,
                FileVersion.mime,
                FileVersion.filename,
            )
            .where(
                FileVersion.document_id == ctx.document_id,
                FileVersion.kind == VersionKind.original.value,
            )
            .order_by(FileVersion.id.desc())
            .limit(1)
        ).one_or_none()
        if original is not None:
            ctx.original_version = Original(*original)
    # Raised after the commit: the claim holds, so the failure is recorded (not retried).
    if crashed >= MAX_ATTEMPTS and not retry:
        raise Failure(
            f"processing was interrupted {crashed} times (the worker crashed or was stopped "
            "while working on it)"
        )
    if ctx.original_version is None:
        raise Failure("the document has no original file version")
    return Next.go_on


def reuse_duplicate(session: Session, store: BlobStore, ctx: ProcessContext) -> Next:
    """Same bytes as a document already processed: take over its text and rendition."""
    if ctx.duplicate_of_id is None:
        return Next.go_on
    with transaction(session):
        first = session.get(Document, ctx.duplicate_of_id)
        if first is None or first.status != DocumentStatus.ready:
            return Next.go_on  # not (yet) processed: do the work ourselves
        rendition = session.scalar(
            select(FileVersion)
            .where(FileVersion.document_id == first.id, FileVersion.kind == VersionKind.rendition)
            .order_by(FileVersion.id.desc())
            .limit(1)
        )
        ctx.texts, ctx.pages = [first.extracted_text], first.page_count or 0
        ctx.signatures = signature_store.results_of(session, first.id)
        if rendition is not None:
            ctx.rendition_object = session.get(StoredObject, rendition.stored_object_id)
    return Next.finish


def fetch(session: Session, store: BlobStore, ctx: ProcessContext) -> Next:
    """The original from S3, its sha256 verified while reading (R16, R18)."""
    version = ctx.original
    ctx.local = ctx.workdir / "original"
    try:
        store.get_to_file(version.s3_key, ctx.local, version.s3_version_id, version.sha256)
    except IntegrityError as exc:
        log.error("ALARM: stored original of document %s changed: %s", ctx.document_uuid, exc)
        raise Failure(
            f"integrity alarm: the stored original no longer matches its sha256 ({exc})"
        ) from None
    except ObjectNotFound:
        log.error("ALARM: original of document %s missing in storage", ctx.document_uuid)
        raise Failure("integrity alarm: the original is missing in object storage") from None
    return Next.go_on


def check_signatures(session: Session, store: BlobStore, ctx: ProcessContext) -> Next:
    """Signed PDFs: every signature validated on the original bytes, in a confined child of
    its own; a broken signature, or a validation stopped at the limits, is a finding
    (``signatures``), never a failure of the document."""
    if pdf_features.SIGNED in ctx.flags:
        ctx.signatures = signatures.validate_confined(
            ctx.local_file, ctx.signature_trust_dir, ctx.limits
        )
    return Next.go_on


def store_rendition(session: Session, store: BlobStore, ctx: ProcessContext) -> Next:
    """The rendition stored, locked like the document's other versions (registered by
    ``finish``)."""
    assert ctx.rendition is not None and ctx.document_uuid is not None  # convert made it
    key = keys.rendition_key(ctx.tenant_slug, ctx.document_uuid)
    registered = session.scalar(select(StoredObject.id).where(StoredObject.key == key).limit(1))
    ours = _still_claimed(session, ctx)
    # Locked like the document's other versions: a closed case's retain-until, and an S3
    # legal hold if a hold was placed while it was being made (R12, R25).
    document = session.get(Document, ctx.document_id)
    if document is None:
        raise Failure("the document was removed while it was processed")
    lock = retention_port(session).new_version_lock(session, document)
    session.rollback()
    if not ours:  # taken over (this job stalled): the rendition is the new job's to write
        _claim_lost(ctx)
        return Next.stop
    if registered is None:
        # Left by an attempt that crashed before commit: locked, so it stays (registered, it
        # expires after its floor); the new version below becomes the rendition.
        left = latest_version(store, key)
        if left is not None:
            keep_unused(session, found_row(session, left, ctx.tenant_id, PDF))
    ctx.rendition_object = put_object(
        store, tenant_id=None, key=key, source=ctx.rendition, content_type=PDF, lock=lock
    )
    return Next.go_on


def finish(session: Session, store: BlobStore, ctx: ProcessContext) -> None:
    """Commit the result, if this job still holds the claim (the runner calls it after the
    steps)."""
    with transaction(session):
        if not _still_claimed(session, ctx):
            _claim_lost(ctx)
            return
        stored = ctx.rendition_object
        if stored is not None:
            if stored.id is None:
                stored.tenant_id = ctx.tenant_id
                session.add(stored)
                session.flush()
            name = (ctx.original.filename.rsplit(".", 1)[0] or "document") + ".pdf"
            version = version_for(stored, VersionKind.rendition, f"{name[:280]} (PDF-A)")
            version.document_id = ctx.document_id
            session.add(version)
            # A scan filed into a closed case (a paper archive migration closes its cases at
            # once) gets its rendition after the closure: the retain-until must cover it (R25).
            case_of_document = (
                select(Process.case_id)
                .join(Document, Document.process_id == Process.id)
                .where(Document.id == ctx.document_id)
            )
            session.execute(
                update(Case)
                .where(Case.id.in_(case_of_document), Case.status == CaseStatus.closed.value)
                .values(object_lock_pending=True)
            )
        session.execute(
            update(Document)
            .where(Document.id == ctx.document_id)
            .values(
                extracted_text=einvoice.searchable_text(
                    session, ctx, join_pages([*ctx.texts, ctx.form_text])
                ),
                page_count=ctx.pages,
                status=DocumentStatus.ready.value,
                failure_reason="",
                index_dirty=True,
            )
        )
        if ctx.signatures or pdf_features.SIGNED in ctx.flags:
            signature_store.replace(session, ctx.document_id, ctx.signatures)
        page_quality.record(session, ctx)  # OCRed pages' confidence and dictionary share
        if ctx.tenant_id is not None:  # title, date, sender, type suggested (issue 18)
            suggestions.record_at_intake(
                session, ctx.document_id, ctx.tenant_id, join_pages(ctx.texts)
            )
        if ctx.scan_batch_id and ctx.pages != ctx.previous_pages:
            session.execute(
                update(ScanBatch)
                .where(ScanBatch.id == ctx.scan_batch_id)
                .values(page_count=ScanBatch.page_count + (ctx.pages - ctx.previous_pages))
            )
        session.execute(
            update(IngestTask)
            .where(IngestTask.document_id == ctx.document_id)
            .values(claimed_by="", claimed_at=None, last_error="")
        )
        audit.record(
            session,
            None,
            "processed",
            _described(ctx),
            pages=ctx.pages,
            rendition=stored.sha256 if stored is not None else None,
        )
    ctx.result = Result.ready


# The flow: each step goes on to the next, or ends the steps early, either to ``finish``
# (a duplicate's result taken over; a born-digital PDF needs no rendition) or to stop
# (nothing to do, the claim lost). The runner then calls ``finish``, which commits.
STEPS: list[Step] = [claim, reuse_duplicate, fetch, check_signatures, convert, store_rendition]


# ------------------------------------------------------------------------------ the runner


def process_document(
    session: Session,
    store: BlobStore,
    document_id: int,
    *,
    job_id: str = "",
    work_root: Path | None = None,
    lease: timedelta = claims.DEFAULT_LEASE,
    ocr_threads: int = 1,
    limits: JobLimits | None = None,
    signature_trust_dir: Path | None = None,
) -> Result:
    """Run the steps for one document; see the module docstring for what can happen.
    ``ocr_threads``: pages OCRed at once (more than one when nothing else waits)."""
    workdir = Path(tempfile.mkdtemp(prefix=f"doc-{document_id}-", dir=work_root))
    ctx = ProcessContext(
        document_id=document_id,
        job_id=job_id,
        workdir=workdir,
        lease=lease,
        ocr_threads=ocr_threads,
        limits=limits or JobLimits(),
        signature_trust_dir=signature_trust_dir,
    )
    try:
        with ExitStack() as running:
            after = Next.go_on
            for step in STEPS:
                after = step(session, store, ctx)
                progressed()
                if after is not Next.go_on:
                    break
                if step is claim:  # ours now: keep the claim fresh until the job ends
                    # Sessions are bound to the runtime's engine, never to a connection.
                    engine = cast(Engine, session.get_bind())
                    running.enter_context(ClaimHeartbeat(engine, document_id, ctx.worker))
            if after is not Next.stop:
                finish(session, store, ctx)
        if ctx.result is None:
            raise RuntimeError("processing ended without a result")  # every path sets one
        return ctx.result
    except (StorageUnavailable, DatabaseUnavailable, OperationalError) as exc:
        session.rollback()
        _release(session, ctx, exc)
        raise IngestRetryLater(f"document {document_id}: {_short(exc)}") from exc
    except DBAPIError as exc:
        if not exc.connection_invalidated:
            session.rollback()
            return _fail(session, ctx, f"database error: {_short(exc)}")
        session.rollback()
        raise IngestRetryLater(f"document {document_id}: {_short(exc)}") from exc
    except Failure as exc:
        session.rollback()
        return _fail(session, ctx, str(exc))
    except Exception as exc:
        # A bug or an unforeseen input must not stop the worker or leave the document hanging.
        log.exception("processing document %s failed unexpectedly", document_id)
        session.rollback()
        return _fail(session, ctx, describe(exc, "processing"))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def fail_for_good(
    session: Session, document_id: int, job_id: str, reason: str, lease=claims.DEFAULT_LEASE
) -> Result:
    """The queue gave up retrying: the document fails with the last transient reason
    (unless another job has taken it meanwhile)."""
    with transaction(session):
        document = session.get(Document, document_id, with_for_update=True)
        task = session.get(IngestTask, document_id, with_for_update=True)
        if document is None or document.status not in (
            DocumentStatus.received,
            DocumentStatus.processing,
        ):
            return Result.nothing_to_do
        if (
            task is not None
            and task.claimed_by
            and not claims.same_job(task.claimed_by, job_id)
            and not claims.is_stale(task.claimed_by, task.claimed_at, utcnow(), lease)
        ):
            return Result.nothing_to_do
        document.status = DocumentStatus.failed.value
        reason = plain(reason)
        document.failure_reason = reason
        if task is not None:
            task.claimed_by, task.claimed_at, task.last_error = "", None, reason
        audit.record(session, None, "ingest_failed", document, reason=reason[:500])
    log.warning("document %s failed: %s", document_id, reason)
    return Result.failed


def _still_claimed(session: Session, ctx: ProcessContext) -> bool:
    """The document is processing under our claim (locked inside a committing transaction)."""
    return (
        session.execute(
            select(Document.id)
            .join(IngestTask, IngestTask.document_id == Document.id)
            .where(
                Document.id == ctx.document_id,
                Document.status == DocumentStatus.processing.value,
                IngestTask.claimed_by == ctx.worker,
            )
            .with_for_update(of=Document)
        ).first()
        is not None
    )


def _claim_lost(ctx: ProcessContext) -> None:
    log.warning("document %s: claim lost, result dropped", ctx.document_id)
    ctx.result = Result.nothing_to_do


def _described(ctx: ProcessContext) -> Document:
    """The document as the audit trail names it (type, UUID, tenant), without loading it."""
    return Document(id=ctx.document_id, uuid=ctx.document_uuid, tenant_id=ctx.tenant_id)


def _claimed(session: Session, ctx: ProcessContext):
    document = session.get(Document, ctx.document_id, with_for_update=True)
    task = session.get(IngestTask, ctx.document_id, with_for_update=True)
    if (
        document is None
        or task is None
        or document.status != DocumentStatus.processing
        or task.claimed_by != ctx.worker
    ):
        return None, None
    return document, task


def _fail(session: Session, ctx: ProcessContext, reason: str) -> Result:
    with transaction(session):
        document, task = _claimed(session, ctx)
        if document is None:
            return Result.nothing_to_do
        document.status = DocumentStatus.failed.value
        reason = plain(reason)
        document.failure_reason = reason
        task.claimed_by, task.claimed_at, task.last_error = "", None, reason
        audit.record(session, None, "ingest_failed", document, reason=reason[:500])
    log.warning("document %s failed: %s", ctx.document_uuid or ctx.document_id, reason)
    return Result.failed


def _release(session: Session, ctx: ProcessContext, exc: Exception) -> None:
    """Hand the document back (status received) so that the retry, wherever it runs, can
    claim it; best effort, the database may be the thing that is away."""
    try:
        with transaction(session):
            document, task = _claimed(session, ctx)
            if document is not None:
                document.status = DocumentStatus.received.value
                task.attempts -= 1  # not a crash: the retry must not count against the limit
                task.claimed_by, task.claimed_at, task.last_error = "", None, _short(exc)
    except (OperationalError, DBAPIError, DatabaseUnavailable):
        session.rollback()


def _short(exc: Exception) -> str:
    return plain(str(getattr(exc, "orig", None) or exc))
