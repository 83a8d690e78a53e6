"""R9: disposal requests — proposed by one records officer, decided by another.

A proposal lists due cases (closed, past their retention end, not disposed of, not held, in no
other open request). Its items take their action from the case's schedule: V is destroyed by
the execution job; A and B are offered to the archive (xdomea 0501) and follow its appraisal.
Only a different records officer may approve or reject; only an approved request executes.
"""

from __future__ import annotations

import uuid as uuidlib
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from eakte import audit
from eakte.db import transaction
from eakte.errors import BadInput, Conflict, FourEyesViolation, LegalHoldActive, NotDue, NotFound
from eakte.models import Case, CaseStatus, RetentionAction, RetentionSchedule, User
from eakte.models.base import utcnow
from eakte.permissions import Action, require
from eakte.services.cases import find_case
from eakte.services.guard import audited_refusals, load
from retention.holds import case_tree_holds
from retention.models import (
    DisposalItem,
    DisposalRequest,
    ItemAction,
    ItemState,
    RequestStatus,
)


def find_request(session: Session, actor: User, ident: str | int) -> DisposalRequest:
    """A request by id or UUID (a unique UUID prefix of 8+ characters also works)."""
    text = str(ident)
    found = []
    if 8 <= len(text) < 36:  # a prefix may be all digits ("20251234…"): try it as a prefix first
        requests = session.scalars(
            select(DisposalRequest).where(DisposalRequest.tenant_id == actor.tenant_id)
        )
        found = [r for r in requests if str(r.uuid).startswith(text.lower())]
        if len(found) > 1 or (not found and not text.isdigit()):
            raise NotFound(f"disposal request {text!r} not found")
    request = found[0] if found else load(session, actor, DisposalRequest, ident)
    # Decisions are made in other sessions (the second records officer's): read the row anew.
    session.refresh(request)
    return request


def ensure_due(session: Session, case: Case, today) -> None:
    if case.disposal_state:
        raise NotDue(f"case {case.file_reference} was already {case.disposal_state}")
    if case.status != CaseStatus.closed or case.retention_end is None:
        raise NotDue(f"case {case.file_reference} is not closed with a retention end")
    if case.retention_end > today:
        raise NotDue(f"case {case.file_reference} is kept until {case.retention_end.isoformat()}")
    holds = case_tree_holds(session, case)
    if holds:
        raise LegalHoldActive(
            f"case {case.file_reference} is under legal hold "
            + ", ".join(f"{h.uuid} ({h.authority})" for h in holds)
        )
    busy = session.scalar(
        select(DisposalRequest.uuid)
        .join(DisposalItem, DisposalItem.request_id == DisposalRequest.id)
        .where(
            DisposalItem.case_id == case.id,
            DisposalRequest.status.in_(
                [RequestStatus.proposed.value, RequestStatus.approved.value]
            ),
            DisposalItem.state != ItemState.done.value,
        )
    )
    if busy:
        raise Conflict(f"case {case.file_reference} is already in disposal request {busy}")


@audited_refusals
def propose(
    session: Session, actor: User, cases: Iterable[str | int], *, note: str = ""
) -> DisposalRequest:
    """Propose the given due cases for disposal (all or nothing)."""
    idents = list(dict.fromkeys(cases))
    if not idents:
        raise BadInput("a disposal proposal needs at least one case")
    today = utcnow().date()
    with transaction(session):
        require(session, actor, Action.dispose)
        request = DisposalRequest(
            tenant_id=actor.tenant_id,
            status=RequestStatus.proposed.value,
            note=note,
            proposed_by_id=actor.id,
            proposed_at=utcnow(),
            xdomea_process_id=str(uuidlib.uuid4()),
        )
        session.add(request)
        session.flush()
        references = []
        for ident in idents:
            case = find_case(session, actor, ident)
            require(session, actor, Action.dispose, case)
            ensure_due(session, case, today)
            schedule = session.get_one(RetentionSchedule, case.schedule_id)
            action = ItemAction.destroy if schedule.action == RetentionAction.destroy else None
            session.add(
                DisposalItem(
                    request_id=request.id,
                    case_id=case.id,
                    action=(action or ItemAction.archive).value,
                    state=ItemState.pending.value,
                    updated_at=utcnow(),
                )
            )
            references.append(case.file_reference)
        session.flush()
        audit.record(session, actor, "disposal_propose", request, cases=references, note=note)
    return request


def _decide(session: Session, actor: User, ident: str | int) -> DisposalRequest:
    require(session, actor, Action.dispose)
    request = find_request(session, actor, ident)
    if request.status != RequestStatus.proposed:
        raise Conflict(f"disposal request {request.uuid} is {request.status}, not proposed")
    if request.proposed_by_id == actor.id:
        raise FourEyesViolation(
            f"{actor.username} proposed disposal request {request.uuid} and cannot decide it"
        )
    return request


@audited_refusals
def approve(session: Session, actor: User, ident: str | int, *, note: str = "") -> DisposalRequest:
    """R9: the second records officer's approval; from now on it may be executed."""
    with transaction(session):
        request = _decide(session, actor, ident)
        request.status = RequestStatus.approved.value
        request.decided_by_id, request.decided_at = actor.id, utcnow()
        request.decision_reason = note
        audit.record(
            session, actor, "disposal_approve", request, cases=len(request.items), note=note
        )
    return request


@audited_refusals
def reject(session: Session, actor: User, ident: str | int, *, reason: str) -> DisposalRequest:
    if not reason.strip():
        raise BadInput("a rejection needs a reason")
    with transaction(session):
        request = _decide(session, actor, ident)
        request.status = RequestStatus.rejected.value
        request.decided_by_id, request.decided_at = actor.id, utcnow()
        request.decision_reason = reason
        audit.record(session, actor, "disposal_reject", request, reason=reason)
    return request


def list_requests(session: Session, actor: User) -> list[DisposalRequest]:
    require(session, actor, Action.dispose)
    return list(
        session.scalars(
            select(DisposalRequest)
            .where(DisposalRequest.tenant_id == actor.tenant_id)
            .order_by(DisposalRequest.id)
        )
    )


def get_request(session: Session, actor: User, ident: str | int) -> DisposalRequest:
    require(session, actor, Action.dispose)
    return find_request(session, actor, ident)
