"""Routes for co-signing (Geschäftsgang, R29): start, decide, recall, change future steps.

A route is on one document (the version it starts with is the one it is about) or on one
process. Its steps are numbered groups: the first group is current at the start, the next one
when every step of the current group is done. "nicht mitgezeichnet" returns the route to its
author, who may recall it or send it on with changed future steps; the Schlusszeichnung
completes it and freezes the signed version. Done steps never change. A legal hold (through
the retention port) freezes every route beneath it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from eakte import audit
from eakte.db import transaction
from eakte.errors import (
    BadInput,
    NotFound,
    PermissionDenied,
    RouteNotOpen,
    RouteVersionChanged,
    StepNotCurrent,
)
from eakte.models import Document, FileVersion, OrgUnit, Process, User, VersionKind
from eakte.models.workflow import (
    Decision,
    Instruction,
    Route,
    RouteStatus,
    RouteStep,
    StepStatus,
)
from eakte.permissions import Action, acting_for, require
from eakte.ports import retention_port
from eakte.services.cases import ensure_open
from eakte.services.guard import audited_refusals, load
from eakte.workflow import clock, notices

MAX_STEPS = 50  # a route is a handful of people; more is a mistake, not a route

# Which decisions answer which instruction.
ALLOWED: dict[Instruction, frozenset[Decision]] = {
    Instruction.kenntnis: frozenset({Decision.zur_kenntnis_genommen}),
    Instruction.mitzeichnung: frozenset(
        {
            Decision.mitgezeichnet,
            Decision.mitgezeichnet_mit_aenderungen,
            Decision.nicht_mitgezeichnet,
        }
    ),
    Instruction.stellungnahme: frozenset({Decision.erledigt, Decision.nicht_mitgezeichnet}),
    Instruction.bearbeitung: frozenset({Decision.erledigt}),
    Instruction.schlusszeichnung: frozenset(
        {Decision.schlussgezeichnet, Decision.nicht_mitgezeichnet}
    ),
}


@dataclass(frozen=True)
class StepSpec:
    """One step as the author plans it: ``group`` orders the steps (equal groups run in
    parallel); the addressee is a user (``user_id``) or an org unit (``unit_id``)."""

    group: int
    instruction: Instruction
    user_id: int | None = None
    unit_id: int | None = None
    deadline: date | None = None
    note: str = ""


def resolve_addressee(session: Session, actor: User, name: str) -> tuple[int | None, int | None]:
    """``username`` or ``unit:CODE`` → (user id, unit id) in the actor's tenant."""
    name = name.strip()
    if name.startswith("unit:"):
        unit = session.scalar(
            select(OrgUnit).where(
                OrgUnit.tenant_id == actor.tenant_id, OrgUnit.code == name[len("unit:") :]
            )
        )
        if unit is None:
            raise NotFound(f"org unit {name[5:]!r} not found")
        return None, unit.id
    user = session.scalar(
        select(User).where(User.tenant_id == actor.tenant_id, User.username == name)
    )
    if user is None or not user.active:
        raise NotFound(f"user {name!r} not found")
    return user.id, None


def route_object(session: Session, route: Route) -> Document | Process:
    if route.document_id is not None:
        document = session.get(Document, route.document_id)
        assert document is not None  # a foreign key
        return document
    process = session.get(Process, route.process_id)
    assert process is not None
    return process


def latest_original(session: Session, document: Document) -> FileVersion | None:
    return session.scalar(
        select(FileVersion)
        .where(
            FileVersion.document_id == document.id,
            FileVersion.kind == VersionKind.original.value,
        )
        .order_by(FileVersion.id.desc())
        .limit(1)
    )


def _validate(session: Session, actor: User, specs: Sequence[StepSpec]) -> list[StepSpec]:
    if not specs:
        raise BadInput("a route needs at least one step")
    if len(specs) > MAX_STEPS:
        raise BadInput(f"a route has at most {MAX_STEPS} steps")
    ordered = sorted(specs, key=lambda spec: spec.group)
    last = ordered[-1].group
    for spec in ordered:
        if (spec.user_id is None) == (spec.unit_id is None):
            raise BadInput("each step goes to one user or one org unit")
        if spec.instruction == Instruction.schlusszeichnung and (
            spec.group != last or sum(1 for s in ordered if s.group == last) != 1
        ):
            raise BadInput("the final signature (Schlusszeichnung) is the last step, alone")
        if spec.user_id is not None:
            user = session.get(User, spec.user_id)
            if user is None or user.tenant_id != actor.tenant_id or not user.active:
                raise NotFound(f"user {spec.user_id} not found")
        if spec.unit_id is not None:
            unit = session.get(OrgUnit, spec.unit_id)
            if unit is None or unit.tenant_id != actor.tenant_id:
                raise NotFound(f"org unit {spec.unit_id} not found")
        if len(spec.note) > 4000:
            raise BadInput("a step's note has at most 4000 characters")
    return ordered


def _add_steps(route: Route, specs: list[StepSpec], first_group: int) -> None:
    """Groups renumbered 1, 2, … from ``first_group`` in the order given."""
    groups = sorted({spec.group for spec in specs})
    for spec in specs:
        route.steps.append(
            RouteStep(
                group_no=first_group + groups.index(spec.group),
                addressee_user_id=spec.user_id,
                addressee_unit_id=spec.unit_id,
                instruction=spec.instruction.value,
                deadline=spec.deadline,
                note=spec.note,
                status=StepStatus.future.value,
            )
        )


def _ensure_unfrozen(session: Session, obj: Document | Process) -> None:
    retention_port(session).ensure_not_held(session, obj)  # R12: a hold freezes routes too


@audited_refusals
def start_route(
    session: Session,
    actor: User,
    *,
    steps: Sequence[StepSpec],
    document: int | str | None = None,
    process: int | str | None = None,
    title: str = "",
) -> Route:
    """A new route by ``actor`` (its author) on a document or a process; the first group of
    steps becomes current at once."""
    if (document is None) == (process is None):
        raise BadInput("a route is on one document or one process")
    with transaction(session):
        obj: Document | Process
        version: FileVersion | None = None
        if document is not None:
            obj = load(session, actor, Document, document)
            require(session, actor, Action.route, obj)
            version = latest_original(session, obj)
            proc = obj.process
        else:
            obj = load(session, actor, Process, process)  # type: ignore[arg-type]
            require(session, actor, Action.route, obj)
            proc = obj
        if proc is not None:
            ensure_open(proc)  # R4 and R12: no route on a closed case or under a hold
        else:
            _ensure_unfrozen(session, obj)
        ordered = _validate(session, actor, steps)
        route = Route(
            tenant_id=actor.tenant_id,
            case_id=proc.case_id if proc is not None else None,
            process_id=proc.id if proc is not None else None,
            document_id=obj.id if isinstance(obj, Document) else None,
            author_id=actor.id,
            title=(title.strip() or obj.title)[:500],
            status=RouteStatus.active.value,
            version_id=version.id if version is not None else None,
        )
        session.add(route)
        _add_steps(route, ordered, 1)
        session.flush()
        audit.record(
            session,
            actor,
            "route_start",
            route,
            object=str(obj.uuid),
            version=str(version.uuid) if version else "",
            steps=[_describe_step(s) for s in route.steps],
        )
        _advance(session, route)
    return route


def _describe_step(step: RouteStep) -> dict[str, object]:
    return {
        "group": step.group_no,
        "instruction": step.instruction,
        "user": step.addressee_user_id,
        "unit": step.addressee_unit_id,
        "deadline": step.deadline.isoformat() if step.deadline else None,
    }


def _advance(session: Session, route: Route) -> None:
    """Make the next group current once no step is current; complete the route when none is
    left."""
    if any(step.status == StepStatus.current.value for step in route.steps):
        return
    future = [step for step in route.steps if step.status == StepStatus.future.value]
    if not future:
        route.status = RouteStatus.completed.value
        route.finished_at = clock.now(session)
        return
    group = min(step.group_no for step in future)
    for step in future:
        if step.group_no == group:
            step.status = StepStatus.current.value
            step.became_current_at = clock.now(session)
            notices.arrival(session, route, step)


@audited_refusals
def get_route(session: Session, actor: User, ident: int | str) -> Route:
    """A route for whoever may see its object (its addressees while current, deputies)."""
    route = load(session, actor, Route, ident)
    obj = route_object(session, route)
    if route.author_id != actor.id:
        require(session, actor, Action.view, obj)
    return route


@audited_refusals
def decide(
    session: Session,
    actor: User,
    step_ident: int | str,
    decision: Decision | str,
    comment: str = "",
) -> RouteStep:
    """The Bearbeitung of a current step, by its addressee or their deputy (i. V.: both
    people are recorded)."""
    try:
        decision = Decision(decision)
    except ValueError:
        raise BadInput(f"unknown decision {decision!r}") from None
    if len(comment) > 4000:
        raise BadInput("a comment has at most 4000 characters")
    with transaction(session):
        step = load(session, actor, RouteStep, step_ident)
        if step.route.tenant_id != actor.tenant_id:
            raise NotFound(f"step {step_ident!r} not found")
        route = step.route
        obj = route_object(session, route)
        principal = acting_for(session, actor, step.addressee_user_id, step.addressee_unit_id, obj)
        if step.status != StepStatus.current.value:
            raise StepNotCurrent(f"step {step.uuid} is {step.status}")
        if route.status != RouteStatus.active.value:
            raise RouteNotOpen(f"route {route.uuid} is {route.status}")
        _ensure_unfrozen(session, obj)
        if isinstance(obj, Document) and route.version_id is not None:
            latest = latest_original(session, obj)
            if latest is not None and latest.id != route.version_id:
                raise RouteVersionChanged(f"document {obj.uuid} has a newer version")
        if decision not in ALLOWED[Instruction(step.instruction)]:
            raise BadInput(f"{decision.value} does not answer {step.instruction}")
        now = clock.now(session)
        step.status = StepStatus.done.value
        step.decision, step.comment, step.decided_at = decision.value, comment, now
        step.decided_by_id = actor.id
        step.on_behalf_of_id = principal.id if principal else None
        details: dict[str, Any] = {
            "step": str(step.uuid),
            "decision": decision.value,
            "instruction": step.instruction,
            "object": str(obj.uuid),
        }
        if principal is not None:
            details["i_v"] = principal.username  # R30: both people
            details["for_user"] = principal.username
        audit.record(session, actor, "route_decide", route, **details)
        if decision == Decision.nicht_mitgezeichnet:
            _return_to_author(session, route)
        elif decision == Decision.schlussgezeichnet:
            _sign(session, actor, route, obj)
        else:
            _advance(session, route)
    return step


def _return_to_author(session: Session, route: Route) -> None:
    for step in route.steps:
        if step.status == StepStatus.current.value:
            step.status = StepStatus.skipped.value  # the others of the group need not decide
    route.status = RouteStatus.returned.value
    notices.returned(session, route)


def _sign(session: Session, actor: User, route: Route, obj: Document | Process) -> None:
    """The Schlusszeichnung: the route is complete and the signed version frozen in it."""
    for step in route.steps:
        if step.status == StepStatus.future.value:
            step.status = StepStatus.skipped.value
    route.status = RouteStatus.completed.value
    route.finished_at = clock.now(session)
    if route.version_id is not None:
        version = session.get(FileVersion, route.version_id)
        assert version is not None
        route.signed_version_id, route.signed_sha256 = version.id, version.sha256
    audit.record(
        session,
        actor,
        "route_signed",
        route,
        object=str(obj.uuid),
        sha256=route.signed_sha256,
    )


def _author_or_deputy(session: Session, actor: User, route: Route, obj) -> User | None:
    if route.author_id == actor.id:
        return None
    try:
        return acting_for(session, actor, route.author_id, None, obj)
    except PermissionDenied:
        raise PermissionDenied(
            f"{actor.username} is not the author of route {route.uuid}"
        ) from None


@audited_refusals
def recall(session: Session, actor: User, route_ident: int | str, reason: str = "") -> Route:
    """The author withdraws an open route: what was not done is skipped."""
    with transaction(session):
        route = load(session, actor, Route, route_ident)
        obj = route_object(session, route)
        principal = _author_or_deputy(session, actor, route, obj)
        if not route.is_open:
            raise RouteNotOpen(f"route {route.uuid} is {route.status}")
        _ensure_unfrozen(session, obj)
        for step in route.steps:
            if step.status in (StepStatus.current.value, StepStatus.future.value):
                step.status = StepStatus.skipped.value
        route.status = RouteStatus.recalled.value
        route.finished_at = clock.now(session)
        audit.record(
            session,
            actor,
            "route_recall",
            route,
            reason=reason,
            i_v=principal.username if principal else "",
        )
    return route


@audited_refusals
def change_future_steps(
    session: Session, actor: User, route_ident: int | str, steps: Sequence[StepSpec]
) -> Route:
    """The author replaces the steps not yet reached; current and done ones stay as they are.
    A returned route goes on with the new steps (its first new group becomes current)."""
    with transaction(session):
        route = load(session, actor, Route, route_ident)
        obj = route_object(session, route)
        principal = _author_or_deputy(session, actor, route, obj)
        if not route.is_open:
            raise RouteNotOpen(f"route {route.uuid} is {route.status}")
        _ensure_unfrozen(session, obj)
        if route.status == RouteStatus.returned.value and not steps:
            raise BadInput("a returned route goes on only with new steps")
        old = [_describe_step(s) for s in route.steps if s.status == StepStatus.future.value]
        kept = [s for s in route.steps if s.status != StepStatus.future.value]
        for step in list(route.steps):
            if step.status == StepStatus.future.value:
                route.steps.remove(step)
                session.delete(step)  # never reached: nothing of it is a record yet
        if steps:
            ordered = _validate(session, actor, steps)
            if any(s.instruction == Instruction.schlusszeichnung.value for s in kept):
                raise BadInput("the route already has its final signature step")
            base = max((s.group_no for s in kept), default=0)
            _add_steps(route, ordered, base + 1)
        session.flush()
        audit.record(
            session,
            actor,
            "route_change",
            route,
            changes={
                "future_steps": [
                    old,
                    [_describe_step(s) for s in route.steps if s.status == "future"],
                ]
            },
            i_v=principal.username if principal else "",
        )
        if route.status == RouteStatus.returned.value:
            route.status = RouteStatus.active.value
        _advance(session, route)
    return route


def open_routes_count(session: Session, case_id: int) -> int:
    return (
        session.scalar(
            select(func.count(Route.id)).where(
                Route.case_id == case_id,
                Route.status.in_((RouteStatus.active.value, RouteStatus.returned.value)),
            )
        )
        or 0
    )
