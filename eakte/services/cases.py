"""Cases (Akten) and processes (Vorgänge): create, change, move, close (zdA), reopen, restrict.

Every function checks the actor's permission first and owns its transaction; each change is
written to the audit trail in the same transaction. What moves a retention end (the event
date, a closure date other than today, another schedule) is for records officers
(``manage_schedules``, ``override_schedule``); the event date is set through
``retention.schedules.set_event_date``, never through ``update_case``.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, object_session

from eakte import audit
from eakte.db import transaction
from eakte.errors import BadInput, CaseClosed, Conflict, NoRetentionSchedule, NotFound
from eakte.models import (
    Case,
    CaseStatus,
    Document,
    FilePlanNode,
    Process,
    RetentionSchedule,
    User,
)
from eakte.models.base import utcnow
from eakte.permissions import Action, require
from eakte.ports import retention_port
from eakte.references import DEFAULT_PATTERN, format_reference, next_number
from eakte.services.guard import audited_refusals, changes, load
from eakte.workflow import open_work

CASE_FIELDS = {"title", "description"}
PROCESS_FIELDS = {"title"}


def effective_schedule(session: Session, node: FilePlanNode) -> RetentionSchedule | None:
    """The node's schedule, else the nearest ancestor's (schedules are inherited downward)."""
    current: FilePlanNode | None = node
    while current is not None:
        if current.schedule_id is not None:
            return session.get(RetentionSchedule, current.schedule_id)
        current = session.get(FilePlanNode, current.parent_id) if current.parent_id else None
    return None


def find_node(session: Session, actor: User, code_or_id: str | int) -> FilePlanNode:
    """A node by code (a string, also when all digits, e.g. "32"), UUID, or id (an int)."""
    if isinstance(code_or_id, str):
        node = session.scalar(
            select(FilePlanNode).where(
                FilePlanNode.tenant_id == actor.tenant_id, FilePlanNode.code == code_or_id
            )
        )
        if node is not None:
            return node
        if not _looks_like_uuid(code_or_id):
            raise NotFound(f"file plan node {code_or_id!r} not found")
    return load(session, actor, FilePlanNode, code_or_id)


@audited_refusals
def create_case(
    session: Session,
    actor: User,
    node: str | int,
    title: str,
    *,
    description: str = "",
    org_unit_id: int | None = None,
    pattern: str = DEFAULT_PATTERN,
    year: int | None = None,
) -> Case:
    """R2, R3: a new case under a node with a (possibly inherited) retention schedule."""
    title = title.strip()
    if not title:
        raise BadInput("a case needs a title")
    with transaction(session):
        plan_node = find_node(session, actor, node)
        require(session, actor, Action.create_case, plan_node)
        schedule = effective_schedule(session, plan_node)
        if schedule is None:
            raise NoRetentionSchedule(
                f"file plan node {plan_node.code} has no retention schedule (R3)"
            )
        year = year or utcnow().year
        case = Case(
            tenant_id=actor.tenant_id,
            node_id=plan_node.id,
            org_unit_id=org_unit_id or actor.org_unit_id or plan_node.org_unit_id,
            file_reference=_free_reference(session, actor.tenant_id, plan_node, pattern, year),
            title=title,
            description=description,
            schedule_id=schedule.id,
            created_by_id=actor.id,
        )
        session.add(case)
        session.flush()
        require(session, actor, Action.create_case, case)  # a clerk only for their own units
        audit.record(
            session,
            actor,
            "create",
            case,
            file_reference=case.file_reference,
            node=plan_node.code,
            schedule=schedule.name,
        )
    return case


def _free_reference(
    session: Session, tenant_id: int, node: FilePlanNode, pattern: str, year: int
) -> str:
    """R2: the next running number whose reference no case has: a reference once taken (also
    an old one brought in by a paper archive migration) is never given again."""
    while True:
        reference = format_reference(pattern, node.code, next_number(session, node.id, year), year)
        taken = select(Case.id).where(Case.tenant_id == tenant_id, Case.file_reference == reference)
        if session.scalar(taken) is None:
            return reference


@audited_refusals
def get_case(session: Session, actor: User, ident: int | str) -> Case:
    """Open a case (logged as a view, R20)."""
    with transaction(session):
        case = find_case(session, actor, ident)
        require(session, actor, Action.view, case)
        audit.record(session, actor, "view", case)
    return case


def find_case(session: Session, actor: User, ident: int | str) -> Case:
    """A case by id, UUID or file reference."""
    if isinstance(ident, str) and not ident.isdigit() and not _looks_like_uuid(ident):
        case = session.scalar(
            select(Case).where(Case.tenant_id == actor.tenant_id, Case.file_reference == ident)
        )
        if case is None:
            raise NotFound(f"case {ident!r} not found")
        return case
    return load(session, actor, Case, ident)


def _looks_like_uuid(text: str) -> bool:
    return len(text) == 36 and text.count("-") == 4


@audited_refusals
def add_process(session: Session, actor: User, case_ident: int | str, title: str) -> Process:
    title = title.strip()
    if not title:
        raise BadInput("a process needs a title")
    with transaction(session):
        case = find_case(session, actor, case_ident)
        require(session, actor, Action.edit, case)
        ensure_open(case)
        number = (
            session.scalar(select(func.max(Process.number)).where(Process.case_id == case.id)) or 0
        ) + 1
        process = Process(tenant_id=case.tenant_id, case=case, number=number, title=title)
        session.add(process)
        session.flush()
        audit.record(session, actor, "create", process, case=case.file_reference, number=number)
    return process


def find_process(session: Session, actor: User, case_ident: int | str, number: int) -> Process:
    """A process by its case and its number in the case."""
    case = find_case(session, actor, case_ident)
    process = session.scalar(
        select(Process).where(Process.case_id == case.id, Process.number == number)
    )
    if process is None:
        raise NotFound(f"case {case.file_reference} has no process {number}")
    return process


@audited_refusals
def get_process(session: Session, actor: User, ident: int | str) -> Process:
    process = load(session, actor, Process, ident)
    require(session, actor, Action.view, process)
    return process


@audited_refusals
def update_case(session: Session, actor: User, case_ident: int | str, **values) -> Case:
    """R23: changed fields are logged with old and new values (see ``audit.history``)."""
    with transaction(session):
        case = find_case(session, actor, case_ident)
        require(session, actor, Action.edit, case)
        ensure_open(case)
        if "title" in values and not str(values["title"]).strip():
            raise BadInput("a case needs a title")
        diff = changes(case, values, CASE_FIELDS)
        if diff:
            mark_for_index(session, case)
            audit.record(session, actor, "change", case, changes=diff)
    return case


@audited_refusals
def close_case(
    session: Session, actor: User, case_ident: int | str, on: date | None = None
) -> Case:
    """R4: zdA. The case and its processes accept nothing more until reopened.

    The closure date starts the retention clock (R7): another day than today needs
    ``manage_schedules``, lest a back-dated closure make a case due at once."""
    with transaction(session):
        case = find_case(session, actor, case_ident)
        require(session, actor, Action.close, case)
        if case.is_closed:
            raise Conflict(f"case {case.file_reference} is already closed")
        open_work.ensure_closable(session, case)  # R31: routes and Wiedervorlagen first
        today = utcnow().date()
        if on is not None and on != today:
            require(session, actor, Action.manage_schedules, case)
        closed_on = on or today
        case.status, case.closed_at = CaseStatus.closed.value, closed_on
        for process in case.processes:
            if not process.is_closed:
                process.status, process.closed_at = CaseStatus.closed.value, closed_on
        # R7 clock, R25 retain-until (after the commit)
        retention_port(session).on_case_closed(session, case)
        mark_for_index(session, case)
        audit.record(session, actor, "close", case, closed_at=closed_on.isoformat())
    return case


@audited_refusals
def reopen_case(session: Session, actor: User, case_ident: int | str, reason: str) -> Case:
    """R4: reopening is for authorised roles, needs a reason, and restarts the retention clock
    (the next closure date counts)."""
    if not reason.strip():
        raise BadInput("reopening needs a reason")
    with transaction(session):
        case = find_case(session, actor, case_ident)
        require(session, actor, Action.reopen, case)
        if not case.is_closed:
            raise Conflict(f"case {case.file_reference} is not closed")
        previous = case.closed_at
        case.status, case.closed_at = CaseStatus.open.value, None
        for process in case.processes:
            process.status, process.closed_at = CaseStatus.open.value, None
        # the clock restarts at the next closure
        retention_port(session).on_case_reopened(session, case)
        mark_for_index(session, case)
        audit.record(
            session,
            actor,
            "reopen",
            case,
            reason=reason,
            previous_closure=previous.isoformat() if previous else None,
        )
    return case


@audited_refusals
def restrict_case(
    session: Session, actor: User, case_ident: int | str, restricted: bool, reason: str
) -> Case:
    """R24: personal data marked restricted stays, but only authorised roles see it."""
    if not reason.strip():
        raise BadInput("a restriction needs a reason")
    with transaction(session):
        case = find_case(session, actor, case_ident)
        require(session, actor, Action.restrict, case)
        if case.restricted != restricted:
            case.restricted = restricted
            mark_for_index(session, case)
            audit.record(
                session, actor, "restrict" if restricted else "unrestrict", case, reason=reason
            )
    return case


@audited_refusals
def override_schedule(
    session: Session, actor: User, case_ident: int | str, schedule_id: int, reason: str
) -> Case:
    """R3: a records officer may give a case another schedule, with a logged reason."""
    if not reason.strip():
        raise BadInput("overriding the schedule needs a reason")
    with transaction(session):
        case = find_case(session, actor, case_ident)
        require(session, actor, Action.override_schedule, case)
        schedule = load(session, actor, RetentionSchedule, schedule_id)
        diff = changes(case, {"schedule_id": schedule.id}, {"schedule_id"})
        case.schedule_override_reason = reason
        retention_port(session).on_schedule_changed(session, case)
        audit.record(session, actor, "override_schedule", case, changes=diff, reason=reason)
    return case


@audited_refusals
def move_case(session: Session, actor: User, case_ident: int | str, node: str | int) -> Case:
    """Move a case to another file-plan node (records officers: it is a change of the plan's
    structure). The file reference and the retention schedule stay what they are; refused
    while a legal hold covers the case where it is or where it would go (R12)."""
    with transaction(session):
        case = find_case(session, actor, case_ident)
        require(session, actor, Action.edit, case)
        require(session, actor, Action.manage_fileplan)
        target = find_node(session, actor, node)
        if case.disposal_state:
            raise Conflict(f"case {case.file_reference} was already {case.disposal_state}")
        if target.id == case.node_id:
            return case
        old = case.node
        retention_port(session).ensure_movable(session, case)
        case.node = target
        session.flush()
        retention_port(session).ensure_movable(session, case)
        mark_for_index(session, case)
        audit.record(
            session,
            actor,
            "move",
            case,
            file_reference=case.file_reference,
            old_parent=old.code,
            new_parent=target.code,
        )
    return case


@audited_refusals
def move_process(
    session: Session, actor: User, process_ident: int | str, case_ident: int | str
) -> Process:
    """Move a process with its documents into another open case, where it gets the next number.

    Into a case with another retention schedule only for records officers (it moves the
    documents' retention end); refused while a legal hold covers the process or the target."""
    with transaction(session):
        process = load(session, actor, Process, process_ident)
        require(session, actor, Action.edit, process)
        target = find_case(session, actor, case_ident)
        require(session, actor, Action.edit, target)
        source = process.case
        if target.id == source.id:
            return process
        retention_port(session).ensure_movable(session, process)
        ensure_open(process)
        ensure_open(target)
        ensure_may_move_retention(session, actor, source, target)
        old_number = process.number
        process.number = (
            session.scalar(select(func.max(Process.number)).where(Process.case_id == target.id))
            or 0
        ) + 1
        process.case = target
        session.flush()
        retention_port(session).ensure_movable(session, process)
        for case in (source, target):
            mark_for_index(session, case)
        target.object_lock_pending = True  # its retain-until now covers these documents too
        audit.record(
            session,
            actor,
            "move",
            process,
            old_parent=source.file_reference,
            new_parent=target.file_reference,
            old_number=old_number,
            new_number=process.number,
        )
    return process


def ensure_may_move_retention(session: Session, actor: User, source: Case, target: Case) -> None:
    """Content moving into a case with another retention schedule gets that case's retention
    end: like any change of a retention end, for records officers only (``manage_schedules``)."""
    if target.schedule_id != source.schedule_id:
        require(session, actor, Action.manage_schedules, target)


def mark_for_index(session: Session, case: Case) -> None:
    """What the index shows of a case (reference, title, status, restriction) changed: the case
    and every document in it are re-indexed by the indexer."""
    case.index_dirty = True
    process_ids = select(Process.id).where(Process.case_id == case.id)
    session.execute(
        update(Document).where(Document.process_id.in_(process_ids)).values(index_dirty=True)
    )


def ensure_open(obj: Case | Process) -> None:
    case = obj if isinstance(obj, Case) else obj.case
    if case.is_closed or obj.is_closed:
        raise CaseClosed(f"case {case.file_reference} is closed (zdA)")
    session = object_session(case)
    assert session is not None  # a case the services loaded belongs to their session
    retention_port(session).ensure_not_held(session, obj)  # R12: a legal hold freezes the content
