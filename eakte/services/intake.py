"""Intake: the one service every source calls — web upload, JSON API, hot folder, bulk import.

``intake()`` takes bytes (a path, a stream or ``bytes``), the file name as given, metadata, who
delivers it (a person, or an ``ApiClient`` the web layer has authenticated) and where it goes
(an org unit's inbox, or straight into a process). It returns once the document is stored and
committed ("accepted"), or quarantined with a reason; extraction and OCR follow in a job.

Also here: the quarantine list and its resolution, retrying a failed document, and
``recover()``, which hands to new jobs what a crash left half done.
"""

from __future__ import annotations

import io
import logging
import uuid as uuidlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from eakte import audit
from eakte.config import Settings
from eakte.db import transaction
from eakte.errors import BadInput, Conflict, NotFound, NotRetryable, PermissionDenied
from eakte.ingest import claims, names
from eakte.ingest.intake import (
    DocumentMetadata,
    IntakeContext,
    IntakeResult,
    Outcome,
    run_intake,
)
from eakte.ingest.mail_intake import every_result
from eakte.ingest.reasons import Rejected
from eakte.ingest.validate import Limits
from eakte.models import Document, DocumentStatus, OrgUnit, Process, Tenant, User
from eakte.models.base import utcnow
from eakte.models.ingest import IngestTask, QuarantinedFile, QuarantineState
from eakte.permissions import Action, can, require, unit_scope, visibility
from eakte.services.cases import ensure_open
from eakte.services.guard import audited_refusals, load, row_id
from storage.blobstore import BlobStore

__all__ = [
    "ApiClient",
    "DocumentMetadata",
    "IntakeResult",
    "Outcome",
    "Target",
    "intake",
    "list_quarantine",
    "recover",
    "resolve_quarantined",
    "resolve_target",
    "retry_document",
]

log = logging.getLogger(__name__)

# ``enqueue(document_id)``: the document needs processing (text, OCR, rendition).
# ``enqueue(document_id, ready=True)``: intake finished it already (a born-digital PDF's text
# layer); only the index has to catch up.
Enqueue = Callable[..., None]


@dataclass(frozen=True)
class ApiClient:
    """A system that delivers documents (an online-service portal). The web layer checks its
    token and scopes; here it is named in the audit trail and transfer note."""

    tenant_id: int
    name: str
    inbox_org_unit_id: int | None = None  # where its documents go unless told otherwise


@dataclass(frozen=True)
class Target:
    """Where a document goes: an inbox (org unit code or id; default: the person's own unit
    or the client's) or, already decided, a process of an open case (id or UUID)."""

    org_unit: str | int | None = None
    process: int | str | None = None


def intake(
    session: Session,
    actor: User | ApiClient,
    store: BlobStore,
    data: Path | BinaryIO | bytes,
    *,
    filename: str | bytes,
    settings: Settings,
    metadata: DocumentMetadata | None = None,
    target: Target | None = None,
    method: str = "upload",
    source: str = "",
    source_key: str | None = None,
    scan_batch_id: int | None = None,
    enqueue: Enqueue | None = None,
    problem: Rejected | None = None,
) -> IntakeResult:
    """Take in one file. ``source_key`` identifies the source across attempts (an import
    path, an API idempotency key): the same key again returns ``existing`` without storing
    anything. ``enqueue(document_id)`` is called once the document is committed.
    ``problem``: the source already found the item unusable (a link loop, an unreadable
    entry); it is recorded in quarantine like any rejected file."""
    take_in = ingest if isinstance(actor, User) else _take_in
    result = take_in(
        session,
        actor,
        store,
        data,
        filename=filename,
        settings=settings,
        metadata=metadata,
        target=target,
        method=method,
        source=source,
        source_key=source_key,
        scan_batch_id=scan_batch_id,
        problem=problem,
    )
    for each in every_result(result):  # a mail message's attachments are documents too
        _enqueue(each, enqueue)
    return result


def _enqueue(result: IntakeResult, enqueue: Enqueue | None) -> None:
    if enqueue is not None and result.outcome in (Outcome.accepted, Outcome.duplicate):
        try:
            if result.document.status == DocumentStatus.ready:
                enqueue(result.document.id, ready=True)
            else:
                enqueue(result.document.id)
        except Exception:
            # Stored and committed: reporting a failure would make people send it again.
            # The recovery (every ten minutes, and when a worker starts) queues it, and the
            # indexer's catch-up finds what was finished at intake.
            log.warning(
                "document %s is stored, but the job queue could not be reached; "
                "recovery will queue it",
                result.document.id,
                exc_info=True,
            )


@audited_refusals
def ingest(session: Session, actor: User, store: BlobStore, data, **kw):
    """A person's intake: a refused one is recorded in the audit trail (R20)."""
    return _take_in(session, actor, store, data, **kw)


def _take_in(
    session: Session,
    actor: User | ApiClient,
    store: BlobStore,
    data: Path | BinaryIO | bytes,
    *,
    filename: str | bytes,
    settings: Settings,
    metadata: DocumentMetadata | None = None,
    target: Target | None = None,
    method: str = "upload",
    source: str = "",
    source_key: str | None = None,
    scan_batch_id: int | None = None,
    problem: Rejected | None = None,
) -> IntakeResult:
    user = actor if isinstance(actor, User) else None
    if user is not None:
        require(session, user, Action.ingest)
    tenant = session.get(Tenant, actor.tenant_id)
    inbox_id, process_id = resolve_target(session, actor, target or Target())
    spool = settings.spool_dir()
    raw_name = filename if isinstance(filename, bytes) else names.name_bytes(filename)
    ctx = IntakeContext(
        tenant=tenant,
        user=user,
        submitted_by=user.username if user else f"api:{actor.name}",
        data=io.BytesIO(data) if isinstance(data, bytes) else data,
        filename_raw=raw_name,
        metadata=metadata or DocumentMetadata(),
        inbox_org_unit_id=inbox_id,
        process_id=process_id,
        method=method,
        source=names.readable(names.name_bytes(source or method)),  # paths may not be UTF-8
        source_key=source_key,
        scan_batch_id=scan_batch_id,
        limits=Limits.from_settings(settings),
        spool_dir=spool,
        rejection=problem,
    )
    return run_intake(session, store, ctx)


def resolve_target(
    session: Session, actor: User | ApiClient, target: Target
) -> tuple[int, int | None]:
    """(org unit id, process id) after checking that the actor may put it there. The org unit
    is the inbox's, or the case's for a process: it scopes a quarantine entry (R22)."""
    user = actor if isinstance(actor, User) else None
    if target.process is not None:
        process = _find_process(session, actor.tenant_id, target.process)
        if user is not None:
            require(session, user, Action.file, process)
        ensure_open(process)
        return process.case.org_unit_id, process.id
    unit_ref = target.org_unit
    if unit_ref is None:
        unit_ref = user.org_unit_id if user else actor.inbox_org_unit_id
    if unit_ref is None:
        raise BadInput("no inbox given: name the org unit whose inbox receives the document")
    column = OrgUnit.id if isinstance(unit_ref, int) else OrgUnit.code
    unit = session.scalar(
        select(OrgUnit).where(OrgUnit.tenant_id == actor.tenant_id, column == unit_ref)
    )
    if unit is None:
        raise NotFound(f"org unit {unit_ref!r} not found")
    probe = Document(tenant_id=actor.tenant_id, inbox_org_unit_id=unit.id, process_id=None)
    if user is not None and not can(session, user, Action.ingest, probe):
        raise PermissionDenied(f"{user.username} may not put documents into inbox {unit.code}")
    return unit.id, None


def _find_process(session: Session, tenant_id: int, ident: int | str) -> Process:
    number = row_id(ident)
    if number is not None:
        process = session.get(Process, number)
    else:
        try:
            process = session.scalar(select(Process).where(Process.uuid == uuidlib.UUID(ident)))
        except ValueError:
            process = None
    if process is None or process.tenant_id != tenant_id:
        raise NotFound(f"process {ident!r} not found")
    return process


# ------------------------------------------------------------------------------ quarantine


def list_quarantine(
    session: Session, actor: User, *, state: str | None = QuarantineState.open.value, limit=500
) -> list[QuarantinedFile]:
    require(session, actor, Action.ingest)
    query = select(QuarantinedFile).where(
        QuarantinedFile.tenant_id == actor.tenant_id,
        unit_scope(visibility(session, actor), QuarantinedFile.org_unit_id),
    )
    if state:
        query = query.where(QuarantinedFile.state == state)
    return list(session.scalars(query.order_by(QuarantinedFile.id.desc()).limit(limit)))


@audited_refusals
def resolve_quarantined(
    session: Session, actor: User, ident: int | str, note: str
) -> QuarantinedFile:
    """Mark a quarantined file as dealt with (e.g. "sender asked for an unprotected PDF").
    The entry and its bytes stay: nothing that came in is ever dropped."""
    if not note.strip():
        raise BadInput("resolving a quarantined file needs a note")
    with transaction(session):
        entry = load(session, actor, QuarantinedFile, ident)
        require(session, actor, Action.ingest, entry)
        if entry.state == QuarantineState.resolved:
            raise Conflict("the quarantined file is already resolved")
        entry.state = QuarantineState.resolved.value
        entry.resolved_by_id, entry.resolved_at, entry.resolution_note = actor.id, utcnow(), note
        audit.record(session, actor, "resolve_quarantine", entry, note=note)
    return entry


# ----------------------------------------------------------------------- failed documents


@audited_refusals
def retry_document(
    session: Session, actor: User, document_ident: int | str, enqueue: Enqueue | None = None
) -> Document:
    """A failed document is processed again (e.g. after a missing language was installed)."""
    with transaction(session):
        document = load(session, actor, Document, document_ident)
        require(session, actor, Action.ingest, document)
        if document.status != DocumentStatus.failed:
            raise NotRetryable(f"document {document.uuid} is {document.status}, not failed")
        previous = document.failure_reason
        document.status, document.failure_reason = DocumentStatus.received.value, ""
        task = session.get(IngestTask, document.id) or IngestTask(document_id=document.id)
        task.attempts, task.claimed_by, task.claimed_at = 0, "", None
        session.add(task)
        audit.record(session, actor, "ingest_retry", document, previous_failure=previous)
    if enqueue is not None:
        enqueue(document.id)
    return document


# -------------------------------------------------------------------------------- recover


@dataclass
class RecoverReport:
    requeued: list[int] = field(default_factory=list)
    still_running: int = 0


def recover(
    session: Session,
    *,
    enqueue: Enqueue,
    queued: Iterable[int] = (),
    lease: timedelta = claims.DEFAULT_LEASE,
    now: datetime | None = None,
) -> RecoverReport:
    """Re-queue documents a crash left behind: ``received`` ones without a queued job
    (``queued``: the ids the queue still holds), and ``processing`` ones whose claim is stale
    (the process is gone, or the lease ran out). Safe to run at any time, any number of
    times: a job claims its document before working on it."""
    now = now or utcnow()
    waiting = set(queued)
    report = RecoverReport()
    rows = session.execute(
        select(Document.id, Document.status, IngestTask.claimed_by, IngestTask.claimed_at)
        .outerjoin(IngestTask, IngestTask.document_id == Document.id)
        .where(Document.status.in_([DocumentStatus.received, DocumentStatus.processing]))
        .order_by(Document.id)
    ).all()
    session.rollback()  # end the read: enqueueing may take a while
    for document_id, status, claimed_by, claimed_at in rows:
        if status == DocumentStatus.received:
            if document_id not in waiting:
                report.requeued.append(document_id)
        elif claims.is_stale(claimed_by or "", claimed_at, now, lease):
            report.requeued.append(document_id)
        else:
            report.still_running += 1
    for document_id in report.requeued:
        enqueue(document_id)
    if report.requeued:
        log.info("recover: %d document(s) queued again", len(report.requeued))
    return report
