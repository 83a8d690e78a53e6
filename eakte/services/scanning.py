"""Scan batches (BSI TR-RESISCAN): who scanned what, when, how; quality check; page replacement.

R15: every scanned document belongs to a batch recording operator, device, profile (dpi,
colour mode), time, page count and the quality-check result with who checked it.
R17: only a person passes a batch's quality check; a failed page is re-scanned and replaced,
which stores a new original version (the old one stays) and is logged.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pikepdf
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from eakte import audit
from eakte.config import Settings
from eakte.db import transaction
from eakte.errors import BadInput, BatchIncomplete, Conflict, NotAScan, QcNeedsPerson
from eakte.ingest import keys, names
from eakte.ingest.detect import mime_of
from eakte.ingest.reasons import Rejected
from eakte.ingest.validate import Limits, inspect
from eakte.models import (
    Document,
    DocumentStatus,
    FileVersion,
    QcStatus,
    ScanBatch,
    Tenant,
    User,
    VersionKind,
)
from eakte.models.base import utcnow
from eakte.models.ingest import IngestTask, QuarantinedFile, TransferNote
from eakte.permissions import Action, can, require
from eakte.ports import retention_port
from eakte.services import page_quality
from eakte.services.cases import ensure_open
from eakte.services.documents import version_for
from eakte.services.guard import audited_refusals, load
from eakte.services.intake import Target, resolve_target
from eakte.services.objects import put_object
from storage.blobstore import BlobStore

COLOUR_MODES = ("", "bw", "gray", "color")
BATCH_FIELDS = ("operator", "device", "dpi", "colour_mode")


@audited_refusals
def open_batch(
    session: Session,
    actor: User,
    name: str,
    *,
    operator: str = "",
    device: str = "",
    dpi: int | None = None,
    colour_mode: str = "",
    scanned_at: datetime | None = None,
    transfer_note: str = "",
    org_unit: str | int | None = None,
) -> ScanBatch:
    """The batch ``name``: created, or the existing one when its details agree (an import
    that is run again continues its batch). It belongs to the org unit whose inbox it feeds
    (``org_unit``; default: the actor's own), and only that unit's staff reach it (R22)."""
    name = name.strip()
    if not name or len(name) > 200:
        raise BadInput("a scan batch needs a name of at most 200 characters")
    if dpi is not None and not 50 <= dpi <= 2400:
        raise BadInput(f"dpi must be between 50 and 2400, not {dpi}")
    if colour_mode not in COLOUR_MODES:
        raise BadInput(f"colour mode must be one of bw, gray, color, not {colour_mode!r}")
    given: dict[str, Any] = {  # ScanBatch columns, also the audit entry's details
        "operator": operator[:200],
        "device": device[:200],
        "dpi": dpi,
        "colour_mode": colour_mode,
    }
    wanted = {**given, "operator": given["operator"] or actor.display_name or actor.username}
    with transaction(session):
        require(session, actor, Action.ingest)
        unit_id, _process = resolve_target(session, actor, Target(org_unit=org_unit))
        batch = session.scalar(
            select(ScanBatch).where(ScanBatch.tenant_id == actor.tenant_id, ScanBatch.name == name)
        )
        if batch is not None:
            if not can(session, actor, Action.ingest, batch):
                raise Conflict(f"the name {name!r} is taken by another unit's scan batch")
            differ = [f for f in BATCH_FIELDS if given[f] and getattr(batch, f) != given[f]]
            if differ:
                raise Conflict(f"scan batch {name!r} exists with another {', '.join(differ)}")
            return batch
        batch = ScanBatch(
            tenant_id=actor.tenant_id,
            name=name,
            scanned_at=scanned_at or utcnow(),
            transfer_note=transfer_note,
            created_by_id=actor.id,
            org_unit_id=unit_id,
            **wanted,
        )
        session.add(batch)
        session.flush()
        audit.record(session, actor, "create", batch, name=name, **wanted)
    return batch


@dataclass
class BatchSummary:
    batch: ScanBatch
    documents: dict[str, int]  # by status
    quarantined: int


def batch_summary(session: Session, actor: User, ident: int | str) -> BatchSummary:
    batch = _batch(session, actor, ident, Action.ingest)
    counts = dict(
        session.execute(
            select(Document.status, func.count(Document.id))
            .where(Document.scan_batch_id == batch.id)
            .group_by(Document.status)
        ).all()
    )
    quarantined = session.scalar(
        select(func.count(QuarantinedFile.id)).where(QuarantinedFile.scan_batch_id == batch.id)
    )
    return BatchSummary(batch, counts, quarantined or 0)


def pass_qc(session: Session, actor: User, batch_ident: int | str, note: str = "") -> ScanBatch:
    """R17: a person (never the system or an API client) confirms the batch's quality, once
    every document of it has been processed."""
    if not isinstance(actor, User):
        with transaction(session):  # the refused attempt is on record too (R20)
            audit.record(
                session,
                None,
                "qc_pass",
                outcome="refused",
                tenant_id=getattr(actor, "tenant_id", None),
                reason="QcNeedsPerson",
                by=getattr(actor, "name", "system"),
            )
        raise QcNeedsPerson("the quality check of a scan batch is passed by a person only")
    return qc_pass(session, actor, batch_ident, note)


@audited_refusals
def qc_pass(session: Session, actor: User, batch_ident: int | str, note: str) -> ScanBatch:
    """``pass_qc`` for a person (refusals audited under this name)."""
    with transaction(session):
        batch = _batch(session, actor, batch_ident, Action.qc_scan)
        open_docs = dict(
            session.execute(
                select(Document.status, func.count(Document.id))
                .where(
                    Document.scan_batch_id == batch.id,
                    Document.status.in_(
                        [DocumentStatus.received, DocumentStatus.processing, DocumentStatus.failed]
                    ),
                )
                .group_by(Document.status)
            ).all()
        )
        if open_docs:
            detail = ", ".join(f"{n} {status}" for status, n in sorted(open_docs.items()))
            raise BatchIncomplete(f"batch {batch.name!r} has documents not ready: {detail}")
        page_quality.before_pass(session, actor, batch)  # low pages checked (issue 18)
        previous = batch.qc_status
        batch.qc_status, batch.qc_by_id, batch.qc_at, batch.qc_note = (
            QcStatus.passed.value,
            actor.id,
            utcnow(),
            note,
        )
        audit.record(
            session, actor, "qc_pass", batch, note=note, changes={"qc": [previous, "passed"]}
        )
    return batch


@audited_refusals
def fail_qc(session: Session, actor: User, batch_ident: int | str, note: str) -> ScanBatch:
    """The check found problems (say which pages in ``note``); pages are then replaced."""
    if not note.strip():
        raise BadInput("a failed quality check needs a note saying what is wrong")
    with transaction(session):
        batch = _batch(session, actor, batch_ident, Action.qc_scan)
        previous = batch.qc_status
        batch.qc_status, batch.qc_by_id, batch.qc_at, batch.qc_note = (
            QcStatus.failed.value,
            actor.id,
            utcnow(),
            note,
        )
        audit.record(
            session, actor, "qc_fail", batch, note=note, changes={"qc": [previous, "failed"]}
        )
    return batch


@audited_refusals
def replace_page(
    session: Session,
    actor: User,
    store: BlobStore,
    document_ident: int | str,
    page: int,
    replacement: Path,
    *,
    reason: str,
    settings: Settings,
    enqueue=None,
) -> Document:
    """R17: page ``page`` (from 1) of a scanned document is replaced by a re-scan (an image or
    a one-page PDF). A new original version is stored and processed again; the old version
    stays; the replacement is logged with both hashes and the batch's check starts over."""
    if not reason.strip():
        raise BadInput("replacing a page needs a reason")
    with transaction(session):
        document = load(session, actor, Document, document_ident)
        require(session, actor, Action.qc_scan, document)
        if document.scan_batch_id is None:
            raise NotAScan(f"document {document.uuid} is not part of a scan batch")
        if document.status not in (DocumentStatus.ready, DocumentStatus.failed):
            raise Conflict(f"document {document.uuid} is {document.status}; wait until processed")
        if document.process is not None:
            ensure_open(document.process)
        if not 1 <= page <= (document.page_count or 0):
            raise BadInput(f"page {page} does not exist (the document has {document.page_count})")
        current = _current_original(session, document)
        tenant = session.get_one(Tenant, document.tenant_id)
        lock = retention_port(session).new_version_lock(session, document)
    work = Path(tempfile.mkdtemp(prefix="rescan-", dir=settings.spool_dir()))
    try:
        new_pdf, page_sha = _compose(store, current, replacement, page, work, settings)
        sha = _sha256(new_pdf)
        key = keys.original_key(tenant.slug, document.uuid)
        stored = put_object(
            store,
            tenant_id=tenant.id,
            key=key,
            source=new_pdf,
            content_type="application/pdf",
            sha256=sha,
            lock=lock,
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    with transaction(session):
        document = session.get_one(Document, document.id, with_for_update=True)
        session.add(stored)
        session.flush()
        filename = names.sanitise((current.filename.rsplit(".", 1)[0] or "scan") + ".pdf")
        version = version_for(stored, VersionKind.original, filename)
        version.document_id = document.id
        session.add(version)
        session.flush()
        old_sha = document.sha256
        document.sha256, document.status, document.failure_reason = sha, "received", ""
        note = f"page {page} replaced by a re-scan (sha256 {page_sha}): {reason}"
        session.add(
            TransferNote(
                tenant_id=document.tenant_id,
                document_id=document.id,
                file_version_id=version.id,
                sha256=sha,
                size=stored.size,
                received_by_id=actor.id,
                received_by=actor.username,
                method="rescan",
                source=str(replacement),
                anomalies=note,
            )
        )
        task = session.get(IngestTask, document.id) or IngestTask(document_id=document.id)
        task.attempts, task.claimed_by, task.claimed_at = 0, "", None
        session.add(task)
        batch = session.get_one(ScanBatch, document.scan_batch_id)  # checked above: a scan
        if batch.qc_status != QcStatus.pending:
            audit.record(
                session, actor, "qc_reset", batch, changes={"qc": [batch.qc_status, "pending"]}
            )
            batch.qc_status = QcStatus.pending.value
        audit.record(
            session,
            actor,
            "replace_page",
            document,
            page=page,
            reason=reason,
            replacement_sha256=page_sha,
            changes={"sha256": [old_sha, sha]},
        )
    if enqueue is not None:
        enqueue(document.id)
    return document


def _compose(
    store: BlobStore,
    current: FileVersion,
    replacement: Path,
    page: int,
    work: Path,
    settings: Settings,
) -> tuple[Path, str]:
    """The current original (as PDF) with ``page`` swapped for the replacement's only page."""
    from eakte.ingest.ocr import image_to_pdf  # the image libraries load only where needed

    limits = Limits.from_settings(settings)
    mime = mime_of(replacement)
    try:
        checked = inspect(replacement, mime, replacement.stat().st_size, replacement.name, limits)
    except Rejected as exc:
        raise BadInput(f"the re-scanned page is not usable: {exc.detail}") from None
    if checked.pages != 1:
        raise BadInput(f"the re-scan must be one page, not {checked.pages}")
    page_sha = _sha256(replacement)
    original = work / "original"
    store.get_to_file(current.s3_key, original, current.s3_version_id, current.sha256)
    if current.mime != "application/pdf":
        image_to_pdf(original, work / "original.pdf")
        original = work / "original.pdf"
    if checked.kind != "pdf":
        image_to_pdf(replacement, work / "page.pdf")
        replacement = work / "page.pdf"
    result = work / "rescanned.pdf"
    with pikepdf.open(original) as pdf, pikepdf.open(replacement) as new_page:
        pdf.pages.insert(page - 1, new_page.pages[0])
        del pdf.pages[page]
        pdf.save(result)
    return result, page_sha


def _current_original(session: Session, document: Document) -> FileVersion:
    return session.scalars(
        select(FileVersion)
        .where(
            FileVersion.document_id == document.id,
            FileVersion.kind == VersionKind.original.value,
        )
        .order_by(FileVersion.id.desc())
        .limit(1)
    ).one()  # every document has its original


def _batch(session: Session, actor: User, ident: int | str, action: Action) -> ScanBatch:
    """The batch by id, UUID or name, if ``actor`` may do ``action`` on it (another unit's
    batch is not found)."""
    batch = None
    if isinstance(ident, str) and not ident.isdigit() and len(ident) != 36:
        batch = session.scalar(
            select(ScanBatch).where(ScanBatch.tenant_id == actor.tenant_id, ScanBatch.name == ident)
        )
    batch = batch or load(session, actor, ScanBatch, ident)
    require(session, actor, action, batch)
    return batch


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()
