"""The intake half of the pipeline: from bytes to a registered document (or quarantine).

Small steps over one explicit ``IntakeContext``; each step reads what earlier ones learned and
adds its own; a step that settles the outcome sets ``ctx.result`` and the rest are skipped.
The steps that read and check the file are here; those that store and register it are in
:mod:`eakte.ingest.registration` (the order: bytes to S3 first, then one transaction), the
context they share in :mod:`eakte.ingest.intake_context`.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError as DbIntegrityError
from sqlalchemy.orm import Session

from eakte import audit
from eakte.db import transaction
from eakte.ingest import einvoice, keys, mail_intake, names
from eakte.ingest.detect import mime_of
from eakte.ingest.intake_context import (
    IntakeContext,
    IntakeResult,
    Outcome,
    Step,
)
from eakte.ingest.pdf_features import needs_worker
from eakte.ingest.reasons import Reason, Rejected
from eakte.ingest.registration import (
    find_duplicate,
    find_existing,
    put_or_adopt,
    register,
    store_original,
)
from eakte.ingest.rescue import rescue
from eakte.ingest.text import PdfText, page_texts
from eakte.ingest.unforeseen import INFRASTRUCTURE
from eakte.ingest.validate import inspect
from eakte.models import (
    StoredObject,
)
from eakte.models.ingest import QuarantinedFile
from storage.blobstore import BlobStore

log = logging.getLogger(__name__)

CHUNK = 1 << 20


# ----------------------------------------------------------------------------------- steps


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
        elif ctx.data is not None:
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
        found = PdfText(pages=page_texts(ctx.file), scanned=False)
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
            key = keys.quarantine_key(ctx.tenant.slug, ctx.identity)
            stored = put_or_adopt(session, store, ctx, key, "application/octet-stream")
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
