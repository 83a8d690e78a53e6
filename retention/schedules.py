"""R3, R6, R7: retention schedules, their place in the file plan, and the retention clock.

Schedules are created and changed by records officers and attached to file-plan nodes; a node
without one inherits its parent's (``eakte.services.cases.effective_schedule``). A new case
takes the schedule in force at creation; a records officer may override it per case with a
logged reason (``eakte.services.cases.override_schedule``). Changing a schedule's period moves
the retention end of every closed case under it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from eakte import audit
from eakte.db import transaction
from eakte.errors import BadInput, Conflict, NotFound
from eakte.models import (
    Case,
    CaseStatus,
    FilePlanNode,
    RetentionAction,
    RetentionSchedule,
    RetentionTrigger,
    User,
)
from eakte.permissions import Action, require
from eakte.services.cases import find_case, find_node
from eakte.services.guard import audited_refusals, changes, load
from retention import rules

SCHEDULE_FIELDS = {"name", "legal_basis", "period_years", "trigger", "trigger_event", "action"}


@audited_refusals
def create_schedule(
    session: Session,
    actor: User,
    name: str,
    *,
    period_years: int | None,
    action: str,
    legal_basis: str = "",
    trigger: str = RetentionTrigger.closure.value,
    trigger_event: str = "",
) -> RetentionSchedule:
    """R6: name, legal basis, period in years or permanent (None), trigger, action A/V/B."""
    name = name.strip()
    if not name:
        raise BadInput("a schedule needs a name")
    if action not in {a.value for a in RetentionAction}:
        raise BadInput(f"action must be A, V or B, not {action!r}")
    if trigger not in {t.value for t in RetentionTrigger}:
        raise BadInput(f"trigger must be closure or event, not {trigger!r}")
    if trigger == RetentionTrigger.event and not trigger_event.strip():
        raise BadInput("an event trigger needs the name of the event")
    if period_years is not None and not 0 <= period_years <= 500:
        raise BadInput("the period must be between 0 and 500 years")
    with transaction(session):
        require(session, actor, Action.manage_schedules)
        exists = session.scalar(
            select(RetentionSchedule.id).where(
                RetentionSchedule.tenant_id == actor.tenant_id, RetentionSchedule.name == name
            )
        )
        if exists:
            raise Conflict(f"schedule {name!r} already exists")
        schedule = RetentionSchedule(
            tenant_id=actor.tenant_id,
            name=name,
            legal_basis=legal_basis,
            period_years=period_years,
            trigger=trigger,
            trigger_event=trigger_event,
            action=action,
        )
        session.add(schedule)
        session.flush()
        audit.record(
            session,
            actor,
            "create",
            schedule,
            name=name,
            period=period_years,
            retention_action=action,
        )
    return schedule


def list_schedules(session: Session, actor: User) -> list[RetentionSchedule]:
    require(session, actor, Action.view)
    return list(
        session.scalars(
            select(RetentionSchedule)
            .where(RetentionSchedule.tenant_id == actor.tenant_id)
            .order_by(RetentionSchedule.name)
        )
    )


def find_schedule(session: Session, actor: User, ident: str | int) -> RetentionSchedule:
    """A schedule by name, id or UUID."""
    if isinstance(ident, str) and not ident.isdigit():
        found = session.scalar(
            select(RetentionSchedule).where(
                RetentionSchedule.tenant_id == actor.tenant_id, RetentionSchedule.name == ident
            )
        )
        if found is not None:
            return found
        if len(ident) != 36:
            raise NotFound(f"schedule {ident!r} not found")
    return load(session, actor, RetentionSchedule, ident)


def _validate(values: dict) -> None:
    if "name" in values and not str(values["name"]).strip():
        raise BadInput("a schedule needs a name")
    if "action" in values and values["action"] not in {a.value for a in RetentionAction}:
        raise BadInput(f"action must be A, V or B, not {values['action']!r}")
    if "trigger" in values and values["trigger"] not in {t.value for t in RetentionTrigger}:
        raise BadInput(f"trigger must be closure or event, not {values['trigger']!r}")
    period = values.get("period_years")
    if period is not None and not 0 <= period <= 500:
        raise BadInput("the period must be between 0 and 500 years")


@audited_refusals
def update_schedule(session: Session, actor: User, ident: str | int, **values) -> RetentionSchedule:
    """Change a schedule (logged old → new); closed cases under it get their new end."""
    _validate(values)
    with transaction(session):
        require(session, actor, Action.manage_schedules)
        schedule = find_schedule(session, actor, ident)
        if "name" in values:
            values["name"] = values["name"].strip()
            clash = session.scalar(
                select(RetentionSchedule.id).where(
                    RetentionSchedule.tenant_id == actor.tenant_id,
                    RetentionSchedule.name == values["name"],
                    RetentionSchedule.id != schedule.id,
                )
            )
            if clash:
                raise Conflict(f"schedule {values['name']!r} already exists")
        diff = changes(schedule, values, SCHEDULE_FIELDS)
        if schedule.trigger == RetentionTrigger.event and not schedule.trigger_event.strip():
            raise BadInput("an event trigger needs the name of the event")
        moved = 0
        if {"period_years", "trigger"} & set(diff):
            session.flush()
            for case in session.scalars(
                select(Case).where(
                    Case.schedule_id == schedule.id,
                    Case.status == CaseStatus.closed.value,
                    Case.disposal_state == "",
                )
            ):
                rules.on_schedule_change(session, case)
                moved += 1
        if diff:
            audit.record(session, actor, "change", schedule, changes=diff, cases_moved=moved)
    return schedule


@audited_refusals
def delete_schedule(session: Session, actor: User, ident: str | int) -> None:
    """Only a schedule no node and no case uses can go (cases keep theirs forever)."""
    with transaction(session):
        require(session, actor, Action.manage_schedules)
        schedule = find_schedule(session, actor, ident)
        nodes = session.scalar(
            select(func.count(FilePlanNode.id)).where(FilePlanNode.schedule_id == schedule.id)
        )
        cases = session.scalar(select(func.count(Case.id)).where(Case.schedule_id == schedule.id))
        if nodes or cases:
            raise Conflict(
                f"schedule {schedule.name!r} is used by {nodes} node(s) and {cases} case(s)"
            )
        audit.record(session, actor, "delete", schedule, name=schedule.name)
        session.delete(schedule)


@audited_refusals
def assign_schedule(
    session: Session, actor: User, node: str | int, schedule: str | int | None
) -> FilePlanNode:
    """Attach a schedule to a node (None: inherit from the parent again). Existing cases keep
    the schedule they were created with; new cases beneath take the new one."""
    with transaction(session):
        require(session, actor, Action.manage_schedules)
        plan_node = find_node(session, actor, node)
        new = find_schedule(session, actor, schedule).id if schedule is not None else None
        diff = changes(plan_node, {"schedule_id": new}, {"schedule_id"})
        if diff:
            audit.record(session, actor, "assign_schedule", plan_node, changes=diff)
    return plan_node


@audited_refusals
def set_event_date(
    session: Session, actor: User, case_ident: str | int, event_date: date | None
) -> Case:
    """R7 event trigger: the date of the event (e.g. a permit's expiry) that starts the clock.

    Retention metadata, not content: records officers may set it on closed cases too."""
    with transaction(session):
        case = find_case(session, actor, case_ident)
        require(session, actor, Action.manage_schedules, case)
        if case.disposal_state:
            raise Conflict(f"case {case.file_reference} was already {case.disposal_state}")
        diff = changes(case, {"event_date": event_date}, {"event_date"})
        if diff:
            rules.on_schedule_change(session, case)
            audit.record(session, actor, "change", case, changes=diff)
    return case


@dataclass
class RefreshReport:
    checked: int = 0
    changed: int = 0


def refresh_retention(session: Session, *, batch: int = 1000) -> RefreshReport:
    """Nightly: recompute the retention end of every closed, undisposed case, so that the due
    list is right whatever changed under it; moved ends get their S3 lock re-applied."""
    report = RefreshReport()
    last_id = 0
    schedules = {s.id: s for s in session.scalars(select(RetentionSchedule))}
    while True:
        with transaction(session):
            cases = list(
                session.scalars(
                    select(Case)
                    .where(
                        Case.id > last_id,
                        Case.status == CaseStatus.closed.value,
                        Case.disposal_state == "",
                    )
                    .order_by(Case.id)
                    .limit(batch)
                )
            )
            for case in cases:
                schedule = schedules.get(case.schedule_id) or session.get_one(
                    RetentionSchedule, case.schedule_id
                )
                end = rules.retention_end(
                    schedule.period_years, schedule.trigger, case.closed_at, case.event_date
                )
                if end != case.retention_end:
                    case.retention_end, case.object_lock_pending = end, True
                    report.changed += 1
            report.checked += len(cases)
        if len(cases) < batch:
            return report
        last_id = cases[-1].id
