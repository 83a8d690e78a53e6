"""Executing an approved disposal request: a resumable, idempotent job (R9, R10, R11).

Per case: claim it (``destroying``), then per document check the holds, delete its objects in
S3 (outside any transaction), and record the tombstone in one transaction; when every document
is gone, issue the one certificate and mark the case. Each step is recorded before the next
starts and every step may run again, so a crash anywhere, then a rerun, ends with each case
destroyed exactly once, one certificate per case and no content left. A legal hold placed at
any moment wins for whatever is not destroyed yet: the item stops as ``held`` and resumes in a
later run after the release.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from eakte import audit, metrics
from eakte.audit_anchors import AnchorPolicy, anchor_after
from eakte.db import transaction
from eakte.errors import NotFound, PermissionDenied, RequestNotApproved
from eakte.models import Case, Document, DocumentStatus, User
from eakte.models.base import utcnow
from eakte.permissions import Action, require
from eakte.services.guard import audited_refusals
from retention import certificates
from retention.destruction import destroy_objects, plan_document, record_destroyed
from retention.disposal import find_request
from retention.holds import case_tree_holds, holds_covering
from retention.models import (
    DestructionCertificate,
    DisposalItem,
    DisposalRequest,
    ItemAction,
    ItemState,
    RequestStatus,
)
from retention.objects import case_document_ids
from storage.blobstore import BlobStore
from storage.errors import ObjectLocked

log = logging.getLogger(__name__)

RUNNABLE = (ItemState.pending, ItemState.held, ItemState.destroying, ItemState.transferred)


@dataclass
class ExecutionReport:
    destroyed: list[str] = field(default_factory=list)
    held: list[str] = field(default_factory=list)
    waiting: list[str] = field(default_factory=list)  # archive items not yet confirmed
    certificates: int = 0
    completed: bool = False


def _runnable(item: DisposalItem) -> bool:
    if item.state not in RUNNABLE:
        return False
    # An archive item is destroyed locally only once the archive confirmed the transfer.
    return item.action == ItemAction.destroy or bool(item.archive_id)


@audited_refusals
def execute_request(
    session: Session,
    actor: User,
    store: BlobStore,
    request_ident: str | int,
    *,
    data_dir: Path | None = None,
    anchors: AnchorPolicy | None = None,
) -> ExecutionReport:
    """``_execute_request``, counted in ``eakte_disposal_runs`` by outcome (a request refused
    before it ran, not approved or not the actor's to run, is no run)."""
    runs = metrics.counters().disposal_runs
    try:
        report = _execute_request(
            session, actor, store, request_ident, data_dir=data_dir, anchors=anchors
        )
    except (RequestNotApproved, PermissionDenied, NotFound):
        raise
    except Exception:
        runs.labels(outcome="failed").inc()
        raise
    runs.labels(outcome="ok").inc()
    return report


def _execute_request(
    session: Session,
    actor: User,
    store: BlobStore,
    request_ident: str | int,
    *,
    data_dir: Path | None = None,
    anchors: AnchorPolicy | None = None,
) -> ExecutionReport:
    """Run (or resume) the request: destroy what is due, certify each case once; then anchor
    the audit trail, so that what the run recorded cannot be rewritten unnoticed (R20)."""
    with transaction(session):
        require(session, actor, Action.dispose)
        request = find_request(session, actor, request_ident)
        if request.status not in (RequestStatus.approved, RequestStatus.completed):
            raise RequestNotApproved(
                f"disposal request {request.uuid} is {request.status}: only an approved "
                "request is executed (R9)"
            )
        request_id = request.id
        audit.record(session, actor, "disposal_execute", request)
    report = ExecutionReport()
    items = list(
        session.scalars(
            select(DisposalItem)
            .where(DisposalItem.request_id == request_id)
            .order_by(DisposalItem.id)
        )
    )
    for item in items:
        reference = item.case.file_reference
        if item.state == ItemState.done:
            continue
        if not _runnable(item):
            report.waiting.append(reference)
            continue
        outcome = _execute_item(session, actor, store, item.id, data_dir)
        (report.destroyed if outcome == ItemState.done else report.held).append(reference)
    report.certificates = _store_missing_pdfs(session, store, request_id)
    with transaction(session):
        request = session.get_one(DisposalRequest, request_id)
        states = session.scalars(
            select(DisposalItem.state).where(DisposalItem.request_id == request_id)
        )
        if (
            all(state == ItemState.done for state in states)
            and request.status != RequestStatus.completed
        ):
            request.status, request.completed_at = RequestStatus.completed.value, utcnow()
            audit.record(session, actor, "disposal_completed", request)
        report.completed = request.status == RequestStatus.completed
    anchor_after(session, store, anchors or AnchorPolicy(), "disposal")
    return report


def _set_state(session: Session, item_id: int, state: ItemState, note: str = "") -> None:
    with transaction(session):
        item = session.get_one(DisposalItem, item_id)
        item.state, item.updated_at = state.value, utcnow()
        if note:
            item.note = note


def _execute_item(
    session: Session, actor: User, store: BlobStore, item_id: int, data_dir: Path | None
) -> ItemState:
    with transaction(session):
        item = session.get_one(DisposalItem, item_id)
        case = item.case
        holds = case_tree_holds(session, case)
        if holds:
            item.state, item.updated_at = ItemState.held.value, utcnow()
            item.note = "legal hold: " + ", ".join(str(h.uuid) for h in holds)
            audit.record(session, actor, "disposal_held", case, holds=[str(h.uuid) for h in holds])
            return ItemState.held
        item.state, item.updated_at = ItemState.destroying.value, utcnow()
        case_id = case.id
    for document_id in case_document_ids(session, case_id):
        if not _destroy_document(session, actor, store, item_id, document_id, data_dir):
            return ItemState.held
    certificate_id = _finish_case(session, actor, item_id)
    certificates.store_pdf(session, store, certificate_id)
    return ItemState.done


def _destroy_document(
    session: Session,
    actor: User,
    store: BlobStore,
    item_id: int,
    document_id: int,
    data_dir: Path | None,
) -> bool:
    """Destroy one document; False if a legal hold stopped it."""
    with transaction(session):
        document = session.get_one(Document, document_id, populate_existing=True)
        if document.status == DocumentStatus.destroyed:
            return True
        holds = holds_covering(session, document)
        if holds:
            item = session.get_one(DisposalItem, item_id)
            item.state, item.updated_at = ItemState.held.value, utcnow()
            item.note = "legal hold placed during execution: " + ", ".join(
                str(h.uuid) for h in holds
            )
            return False
        plan = plan_document(session, document)
    try:
        removed = destroy_objects(store, plan)  # S3, outside any transaction
    except ObjectLocked as exc:  # a legal hold, or retention not yet run out: a later run
        _set_state(session, item_id, ItemState.held, f"S3 lock: {exc}")
        return False
    with transaction(session):
        item = session.get_one(DisposalItem, item_id, with_for_update=True)
        document = session.get_one(Document, document_id, populate_existing=True)
        if document.status == DocumentStatus.destroyed:
            return True  # another run of this job recorded it meanwhile
        entry = record_destroyed(session, plan, removed, data_dir)
        progress = [e for e in json.loads(item.progress) if e["uuid"] != entry["uuid"]]
        item.progress = json.dumps([*progress, entry], ensure_ascii=False)
        item.updated_at = utcnow()
        audit.record(
            session,
            actor,
            "destroy",
            document,
            files=len(entry["files"]),
            keys_removed=len(removed),
        )
    return True


def _finish_case(session: Session, actor: User, item_id: int) -> int:
    with transaction(session):
        # Row lock: two runs of the job finishing the same case issue one certificate.
        item = session.get_one(DisposalItem, item_id, with_for_update=True)
        case: Case = item.case
        existing = session.scalar(
            select(DestructionCertificate).where(DestructionCertificate.case_id == case.id)
        )
        if existing is None:
            if item.archive_id:
                method = (
                    f"transferred to the archive (archive id {item.archive_id}, xdomea 0503/0506),"
                    " then all local copies deleted: every S3 version, renditions, previews,"
                    " extracted text, index entries"
                )
            else:
                method = (
                    "destroyed: every S3 version and delete marker of every file (originals,"
                    " renditions, previews), extracted text and index entries removed"
                )
            existing = certificates.build_certificate(
                session, item, executed_by=actor.username, destroyed_at=utcnow(), method=method
            )
        case.disposal_state = "transferred" if item.archive_id else "destroyed"
        case.object_lock_pending = False
        case.index_dirty = True
        item.state, item.updated_at = ItemState.done.value, utcnow()
        audit.record(
            session,
            actor,
            "destroy",
            case,
            certificate=str(existing.uuid),
            method="transfer" if item.archive_id else "destruction",
        )
    return existing.id


def _store_missing_pdfs(session: Session, store: BlobStore, request_id: int) -> int:
    ids = list(
        session.scalars(
            select(DestructionCertificate.id).where(DestructionCertificate.request_id == request_id)
        )
    )
    for certificate_id in ids:
        certificates.store_pdf(session, store, certificate_id)
    return len(ids)
