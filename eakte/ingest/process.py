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

import enum
import logging
import shutil
import tempfile
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pikepdf
from sqlalchemy import select, update
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session

from eakte import audit
from eakte.db import transaction
from eakte.errors import DatabaseUnavailable, IngestRetryLater
from eakte.ingest import claims, keys, office, pdf_features, signature_store, signatures
from eakte.ingest.confine import JobFailed, JobLimits, limit_cpu, run_confined
from eakte.ingest.heartbeat import ClaimHeartbeat, progressed
from eakte.ingest.mail import KINDS
from eakte.ingest.reasons import plain
from eakte.ingest.text import join_pages, read_pdf
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
from eakte.retention_rules import new_version_lock
from eakte.services.documents import version_for
from eakte.services.fields import with_stored_fields
from eakte.services.objects import found_row, keep_unused, latest_version, put_object
from storage.blobstore import BlobStore
from storage.errors import IntegrityError, ObjectNotFound, StorageUnavailable

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5  # claims of one document before it counts as crashing its workers
PDF = "application/pdf"
MAIL_TYPES = frozenset(KINDS)  # .eml and .msg: rendered from the message, not OCRed


class Result(enum.StrEnum):
    ready = "ready"
    failed = "failed"
    nothing_to_do = "nothing to do"  # done, destroyed, or another job holds it


class Failure(Exception):
    """A permanent failure: the document becomes ``failed`` with this reason."""


@dataclass
class ProcessContext:
    document_id: int
    job_id: str
    workdir: Path
    lease: timedelta = claims.DEFAULT_LEASE
    ocr_threads: int = 1  # pages recognised at once (the worker's choice)
    limits: JobLimits = field(default_factory=JobLimits)
    worker: str = ""
    # learned from the database
    tenant_id: int | None = None
    tenant_slug: str = ""
    document_uuid: object = None
    duplicate_of_id: int | None = None
    scan_batch_id: int | None = None
    scan_dpi: int | None = None
    previous_pages: int = 0
    original: object = None  # the latest original version: key, version, sha256, mime, name
    flags: set[str] = field(default_factory=set)
    # learned by the steps
    local: Path | None = None
    pdf: Path | None = None
    texts: list[str] = field(default_factory=list)
    pages: int = 0
    rendition: Path | None = None
    born_digital: bool = False
    rendition_object: StoredObject | None = None
    form_text: str = ""  # the values of a filled-in form
    signature_trust_dir: Path | None = None
    signatures: list = field(default_factory=list)  # of ``signatures.SignatureResult``
    result: Result | None = None


Step = Callable[[Session, BlobStore, ProcessContext], None]


# ----------------------------------------------------------------------------------- steps


def claim(session: Session, store: BlobStore, ctx: ProcessContext) -> None:
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
            return
        if (
            row.status == DocumentStatus.processing
            and row.claimed_by
            and not claims.same_job(row.claimed_by, ctx.job_id)
            and not claims.is_stale(row.claimed_by, row.claimed_at, now, ctx.lease)
        ):
            ctx.result = Result.nothing_to_do  # another live job works on it
            return
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
        ctx.original = session.execute(
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
    # Raised after the commit: the claim holds, so the failure is recorded (not retried).
    if crashed >= MAX_ATTEMPTS and not retry:
        raise Failure(
            f"processing was interrupted {crashed} times (the worker crashed or was stopped "
            "while working on it)"
        )
    if ctx.original is None:
        raise Failure("the document has no original file version")


def reuse_duplicate(session: Session, store: BlobStore, ctx: ProcessContext) -> None:
    """Same bytes as a document already processed: take over its text and rendition."""
    if ctx.duplicate_of_id is None:
        return
    with transaction(session):
        first = session.get(Document, ctx.duplicate_of_id)
        ready = first is not None and first.status == DocumentStatus.ready
        if not ready:
            return  # not (yet) processed: do the work ourselves
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
    finish(session, store, ctx)


def fetch(session: Session, store: BlobStore, ctx: ProcessContext) -> None:
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


def prepare(session: Session, store: BlobStore, ctx: ProcessContext) -> None:
    """A PDF to work on: images converted (img2pdf), a damaged PDF repaired (qpdf), a
    protected one decrypted and a form flattened (``pdf_features``), an e-invoice or a mail
    message rendered (``einvoice``, ``mail_render``), office documents and text converted to
    PDF/A by LibreOffice (``office``); the original untouched. A rendition made here is the
    rendition: ``ocr`` has nothing left to do."""
    if "einvoice" in ctx.flags and ctx.original.mime != PDF:
        from eakte.ingest.einvoice import prepare as render_invoice

        render_invoice(ctx)
        return
    if ctx.original.mime in MAIL_TYPES:
        _render_mail(ctx)
        return
    if office.handles(ctx.original.mime):
        office.prepare(ctx)
        return
    if ctx.original.mime == PDF:
        ctx.pdf = ctx.local
        try:
            with pikepdf.open(ctx.local) as pdf:
                ctx.form_text = pdf_features.form_text_of(pdf, ctx.flags)
                # Repaired on opening, decrypted or flattened: work on the rewritten copy.
                if pdf_features.rewrite(pdf, ctx.flags) or pdf.get_warnings():
                    ctx.pdf = ctx.workdir / "repaired.pdf"
                    pdf.save(ctx.pdf)
        except pikepdf.PdfError as exc:
            raise Failure(f"the PDF cannot be opened: {exc}") from None
        return
    from eakte.ingest.ocr import image_to_pdf  # OCR libraries load only where needed

    ctx.pdf = ctx.workdir / "image.pdf"
    try:
        image_to_pdf(ctx.local, ctx.pdf, ctx.scan_dpi)
    except (OSError, ValueError) as exc:
        raise Failure(f"the image cannot be converted to PDF: {exc}") from None


def _render_mail(ctx: ProcessContext) -> None:
    from eakte.ingest.mail_render import RenderFailed, render_message

    ctx.pdf = ctx.rendition = ctx.workdir / "message.pdf"
    try:
        ctx.texts, ctx.pages = render_message(ctx.local, ctx.original.mime, ctx.rendition)
    except RenderFailed as exc:
        raise Failure(f"the message cannot be rendered: {exc}") from None


def read_text(session: Session, store: BlobStore, ctx: ProcessContext) -> None:
    """Born-digital PDFs: the text layer is the text (no OCR, no rendition, R19)."""
    if ctx.original.mime != PDF:
        return
    found = read_pdf(ctx.pdf)
    ctx.texts, ctx.pages = found.pages, len(found.pages)
    # Protected PDFs and forms get a rendition all the same (``pdf_features``).
    ctx.born_digital = found.born_digital and not pdf_features.needs_rendition(ctx.flags)


def check_signatures(session: Session, store: BlobStore, ctx: ProcessContext) -> None:
    """Signed PDFs: every signature validated on the original bytes, in a confined child of
    its own; a broken signature, or a validation stopped at the limits, is a finding
    (``signatures``), never a failure of the document."""
    if pdf_features.SIGNED in ctx.flags:
        ctx.signatures = signatures.validate_confined(
            ctx.local, ctx.signature_trust_dir, ctx.limits
        )


def ocr(session: Session, store: BlobStore, ctx: ProcessContext) -> None:
    """Scans and images: OCRmyPDF to PDF/A-2b with a text layer (R19)."""
    from eakte.ingest.ocr import OcrFailed, ocr_to_pdfa

    if ctx.born_digital or ctx.rendition is not None:  # a rendition eAkte made itself
        return
    ctx.rendition = ctx.workdir / "rendition.pdf"
    try:
        recognised = ocr_to_pdfa(
            ctx.pdf, ctx.rendition, ctx.workdir / "text.txt", threads=ctx.ocr_threads
        )
    except OcrFailed as exc:
        raise Failure(str(exc)) from None
    layer = ctx.texts + [""] * (len(recognised) - len(ctx.texts))
    ctx.texts = [old if old.strip() else new for old, new in zip(layer, recognised, strict=False)]
    with pikepdf.open(ctx.rendition) as pdf:
        ctx.pages = len(pdf.pages)


def convert(session: Session, store: BlobStore, ctx: ProcessContext) -> None:
    """``prepare``, ``read_text`` and ``ocr`` in a child process under the job's memory and
    CPU limits (``confine``): whatever the file does to the decoders, the worker lives on. A
    born-digital PDF is finished here; a rendition is stored next."""
    _preload_ocr(ctx.ocr_threads)
    try:
        learned = run_confined(lambda: _convert_confined(ctx), ctx.limits)
    except JobFailed as exc:
        raise Failure(str(exc)) from None
    ctx.pdf, ctx.texts, ctx.pages, ctx.rendition, ctx.born_digital, ctx.form_text = learned
    if ctx.born_digital:
        finish(session, store, ctx)


def _convert_confined(ctx: ProcessContext) -> tuple:
    """In the child: the steps, the CPU limit set once the page count is known."""
    try:
        prepare(None, None, ctx)
        with pikepdf.open(ctx.pdf) as pdf:
            limit_cpu(ctx.limits.cpu_seconds(len(pdf.pages)))
        read_text(None, None, ctx)
        progressed()
        ocr(None, None, ctx)
    except Failure as exc:
        raise JobFailed(str(exc)) from None
    except MemoryError:
        raise  # the child reports it as memory beyond the limit
    except Exception as exc:
        log.exception("processing document %s failed unexpectedly", ctx.document_id)
        raise JobFailed(describe(exc, "processing the file")) from None
    return ctx.pdf, ctx.texts, ctx.pages, ctx.rendition, ctx.born_digital, ctx.form_text


def _preload_ocr(threads: int) -> None:
    """The Tesseract models loaded in the worker before the child is forked: every child
    finds them there instead of loading them again (half a second per document)."""
    from eakte.ingest import ocr, tesseract_api

    tesseract_api.preload("+".join(ocr.LANGUAGES), tesseract_api.PSM_AUTO, max(1, threads))
    tesseract_api.preload("osd", tesseract_api.PSM_OSD_ONLY)


def store_rendition(session: Session, store: BlobStore, ctx: ProcessContext) -> None:
    if ctx.result is not None:  # finished in ``convert`` (born digital)
        return
    key = keys.rendition_key(ctx.tenant_slug, ctx.document_uuid)
    registered = session.scalar(select(StoredObject.id).where(StoredObject.key == key).limit(1))
    ours = _still_claimed(session, ctx)
    # Locked like the document's other versions: a closed case's retain-until, and an S3
    # legal hold if a hold was placed while it was being made (R12, R25).
    lock = new_version_lock(session, session.get(Document, ctx.document_id))
    session.rollback()
    if not ours:  # taken over (this job stalled): the rendition is the new job's to write
        _claim_lost(ctx)
        return
    if registered is None:
        # Left by an attempt that crashed before commit: locked, so it stays (registered, it
        # expires after its floor); the new version below becomes the rendition.
        left = latest_version(store, key)
        if left is not None:
            keep_unused(session, found_row(session, left, ctx.tenant_id, PDF))
    ctx.rendition_object = put_object(
        store, tenant_id=None, key=key, source=ctx.rendition, content_type=PDF, lock=lock
    )
    finish(session, store, ctx)


def finish(session: Session, store: BlobStore, ctx: ProcessContext) -> None:
    """Commit the result, if this job still holds the claim."""
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
                extracted_text=with_stored_fields(
                    session, ctx.document_id, join_pages([*ctx.texts, ctx.form_text])
                ),
                page_count=ctx.pages,
                status=DocumentStatus.ready.value,
                failure_reason="",
                index_dirty=True,
            )
        )
        if ctx.signatures or pdf_features.SIGNED in ctx.flags:
            signature_store.replace(session, ctx.document_id, ctx.signatures)
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
            for step in STEPS:
                step(session, store, ctx)
                progressed()
                if ctx.result is not None:
                    return ctx.result
                if step is claim:  # ours now: keep the claim fresh until the job ends
                    running.enter_context(
                        ClaimHeartbeat(session.get_bind(), document_id, ctx.worker)
                    )
        raise RuntimeError("processing ended without a result")  # every path sets one
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
