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
from eakte.ingest.intake import run_intake
from eakte.ingest.intake_context import DocumentMetadata, IntakeContext, IntakeResult, Outcome
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
    "IncomingFile",
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


@dataclass(frozen=True)
class IncomingFile:
    """One file as a source delivers it: its bytes (a path, a stream or ``bytes``), the name
    as given, metadata and where it goes.

    ``method`` and ``source`` say how and from where it came (``"import"``, a path).
    ``source_key`` identifies the source across attempts (an import path, an API idempotency
    key): the same key again returns ``existing`` without storing anything. ``problem``: the
    source already found the item unusable (a link loop, an unreadable entry); it is recorded
    in quarantine like any rejected file.
    """

    data: Path | BinaryIO | bytes
    filename: str | bytes
    metadata: DocumentMetadata = field(default_factory=DocumentMetadata)
    target: Target = field(default_factory=Target)
    method: str = "upload"
    source: str = ""
    source_key: str | None = None
    scan_batch_id: int | None = None
    problem: Rejected | None = None


def intake(
    session: Session,
    actor: User | ApiClient,
    store: BlobStore,
    incoming: IncomingFile,
    *,
    settings: Settings,
    enqueue: Enqueue | None = None,
) -> IntakeResult:
    """Take in one file. ``enqueue(document_id)`` is called once the document is committed."""
    if isinstance(actor, User):
        result = ingest(session, actor, store, incoming, settings)
    else:
        result = _take_in(session, actor, store, incoming, settings)
    for each in every_result(result):  # a mail message's attachments are documents too
        _enqueue(each, enqueue)
    return result


def _enqueue(result: IntakeResult, enqueue: Enqueue | None) -> None:
    document = result.document
    if enqueue is not None and document is not None and result.accepted:
        try:
            if document.status == DocumentStatus.ready:
                enqueue(document.id, ready=True)
            else:
                enqueue(document.id)
        except Exception:
            # Stored and committed: reporting a failure would make people send it again.
            # The recovery (every ten minutes, and when a worker starts) queues it, and the
            # indexer's catch-up finds what was finished at intake.
            log.warning(
                "document %s is stored, but the job queue could not be reached; "
                "recovery will queue it",
                document.id,
                exc_info=True,
            )


@audited_refusals
def ingest(
    session: Session, actor: User, store: BlobStore, incoming: IncomingFile, settings: Settings
) -> IntakeResult:
    """A person's intake: a refused one is recorded in the audit trail (R20)."""
    return _take_in(session, actor, store, incoming, settings)


def _take_in(
    session: Session,
    actor: User | ApiClient,
    store: BlobStore,
    incoming: IncomingFile,
    settings: Settings,
) -> IntakeResult:
    if isinstance(actor, User):
        require(session, actor, Action.ingest)
        user, submitted_by = actor, actor.username
    else:
        user, submitted_by = None, f"api:{actor.name}"
    tenant = session.get(Tenant, actor.tenant_id)
    if tenant is None:
        raise NotFound(f"tenant {actor.tenant_id} not found")
    inbox_id, process_id = resolve_target(session, actor, incoming.target)
    d = incoming
    raw_name = d.filename if isinstance(d.filename, bytes) else names.name_bytes(d.filename)
    ctx = IntakeContext(
        tenant=tenant,
        user=user,
        submitted_by=submitted_by,
        data=io.BytesIO(d.data) if isinstance(d.data, bytes) else d.data,
        filename_raw=raw_name,
        metadata=d.metadata,
        inbox_org_unit_id=inbox_id,
        process_id=process_id,
        method=d.method,
        source=names.readable(names.name_bytes(d.source or d.method)),  # paths: not UTF-8
        source_key=d.source_key,
        scan_batch_id=d.scan_batch_id,
        limits=Limits.from_settings(settings),
        spool_dir=settings.spool_dir(),
        rejection=d.problem,
    )
    return run_intake(session, store, ctx)


def resolve_target(
    session: Session, actor: User | ApiClient, target: Target
) -> tuple[int | None, int | None]:
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
        unit_ref = actor.org_unit_id if isinstance(actor, User) else actor.inbox_org_unit_id
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
            process = session.scalar(select(Process).filter_by(uuid=uuidlib.UUID(str(ident))))
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
