"""The desk (Schreibtisch): a clerk's work in one view, as plain rows for the web page, the
API and the CLI. What is routed to me now (by deadline), my Wiedervorlagen due or overdue, inbox
documents assigned to me, the routes I started and where they stand, and the same for whom I
stand in for. Each list is one indexed query, bounded by ``limit``."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session, aliased

from eakte.errors import PermissionDenied
from eakte.models import Case, Document, DocumentStatus, User
from eakte.models.workflow import (
    OPEN_ROUTE,
    Route,
    RouteStatus,
    RouteStep,
    StepStatus,
    Wiedervorlage,
)
from eakte.permissions import principals
from eakte.services.guard import load
from eakte.workflow import clock

LIMIT = 200  # rows per list on one page; the counts are exact


@dataclass(frozen=True)
class StepRow:
    step_id: int
    step_uuid: str
    route_id: int
    route_uuid: str
    title: str
    instruction: str
    deadline: date | None
    overdue: bool
    since: datetime | None
    file_reference: str
    author: str
    document_id: int | None
    process_id: int | None


@dataclass(frozen=True)
class WvRow:
    id: int
    uuid: str
    due: date
    overdue: bool
    note: str
    file_reference: str
    case_id: int | None
    process_id: int | None
    document_id: int | None


@dataclass(frozen=True)
class DocRow:
    id: int
    uuid: str
    title: str
    received: date | None
    assigned_at: datetime | None


@dataclass(frozen=True)
class RouteRow:
    id: int
    uuid: str
    title: str
    status: str
    file_reference: str
    where: str  # who has it now (German, for the page)
    deadline: date | None
    overdue: bool


@dataclass
class Desk:
    user_id: int
    username: str
    today: date
    routed: list[StepRow] = field(default_factory=list)
    wiedervorlagen: list[WvRow] = field(default_factory=list)
    assigned: list[DocRow] = field(default_factory=list)
    my_routes: list[RouteRow] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    standing_in_for: list[Desk] = field(default_factory=list)


def _addressed(user: User):
    cond = RouteStep.addressee_user_id == user.id
    if user.org_unit_id is not None:
        cond = or_(cond, RouteStep.addressee_unit_id == user.org_unit_id)
    return cond


def _routed_query(user: User, due_by: date | None):
    query = (
        select(RouteStep, Route, Case.file_reference, User.username)
        .join(Route, Route.id == RouteStep.route_id)
        .join(User, User.id == Route.author_id)
        .outerjoin(Case, Case.id == Route.case_id)
        .where(
            RouteStep.status == StepStatus.current.value,
            Route.status == RouteStatus.active.value,
            Route.tenant_id == user.tenant_id,
            _addressed(user),
        )
    )
    if due_by is not None:
        query = query.where(RouteStep.deadline <= due_by)
    return query


def counts(session: Session, user: User) -> dict[str, int]:
    """For the navigation: routed to me now, Wiedervorlagen due today or overdue."""
    today = clock.today(session)
    routed = session.scalar(
        select(func.count(RouteStep.id))
        .join(Route, Route.id == RouteStep.route_id)
        .where(
            RouteStep.status == StepStatus.current.value,
            Route.status == RouteStatus.active.value,
            Route.tenant_id == user.tenant_id,
            _addressed(user),
        )
    )
    wvs = session.scalar(
        select(func.count(Wiedervorlage.id)).where(
            Wiedervorlage.user_id == user.id,
            Wiedervorlage.done_at.is_(None),
            Wiedervorlage.due <= today,
        )
    )
    return {"routed": routed or 0, "wiedervorlagen": wvs or 0}


def desk(
    session: Session,
    actor: User,
    *,
    for_user: int | str | None = None,
    due_by: date | None = None,
    order: str = "deadline",
    limit: int = LIMIT,
    with_deputies: bool = True,
) -> Desk:
    """``actor``'s desk, or the desk of someone ``actor`` stands in for today (``for_user``).
    ``due_by`` filters routed steps by deadline; ``order`` is ``deadline`` or ``-deadline``."""
    today = clock.today(session)
    user = actor
    if for_user is not None and str(for_user) not in (str(actor.id), actor.username):
        wanted = _user(session, actor, for_user)
        if wanted.id not in {p.id for p in principals(session, actor)}:
            raise PermissionDenied(f"{actor.username} does not stand in for {wanted.username}")
        user, with_deputies = wanted, False
    result = Desk(user.id, user.username, today)
    deadline = RouteStep.deadline
    key = (
        [deadline.is_(None), deadline.desc(), RouteStep.id]
        if order == "-deadline"
        else [deadline.is_(None), deadline, RouteStep.id]
    )
    for step, route, reference, author in session.execute(
        _routed_query(user, due_by).order_by(*key).limit(limit)
    ):
        result.routed.append(
            StepRow(
                step.id,
                str(step.uuid),
                route.id,
                str(route.uuid),
                route.title,
                step.instruction,
                step.deadline,
                step.deadline is not None and step.deadline < today,
                step.became_current_at,
                reference or "",
                author,
                route.document_id,
                route.process_id,
            )
        )
    wv_rows = session.execute(
        select(Wiedervorlage, Case.file_reference)
        .outerjoin(Case, Case.id == Wiedervorlage.case_id)
        .where(
            Wiedervorlage.user_id == user.id,
            Wiedervorlage.done_at.is_(None),
            Wiedervorlage.due <= today,
        )
        .order_by(Wiedervorlage.due, Wiedervorlage.id)
        .limit(limit)
    )
    for wv, reference in wv_rows:
        result.wiedervorlagen.append(
            WvRow(
                wv.id,
                str(wv.uuid),
                wv.due,
                wv.due < today,
                wv.note,
                reference or "",
                wv.case_id,
                wv.process_id,
                wv.document_id,
            )
        )
    docs = session.scalars(
        select(Document)
        .where(
            Document.assignee_id == user.id,
            Document.process_id.is_(None),
            Document.status.not_in(
                (DocumentStatus.discarded.value, DocumentStatus.destroyed.value)
            ),
        )
        .order_by(Document.assigned_at, Document.id)
        .limit(limit)
    )
    result.assigned = [
        DocRow(d.id, str(d.uuid), d.title, d.received_date, d.assigned_at) for d in docs
    ]
    result.my_routes = _my_routes(session, user, today, limit)
    result.counts = counts(session, user)
    result.counts["assigned"] = len(result.assigned)
    result.counts["my_routes"] = len(result.my_routes)
    if with_deputies:
        for principal in principals(session, user):
            result.standing_in_for.append(
                desk(session, actor, for_user=principal.id, due_by=due_by, order=order, limit=limit)
            )
    return result


def _my_routes(session: Session, user: User, today: date, limit: int) -> list[RouteRow]:
    """Open routes the user started, with who holds each now and the nearest deadline."""
    current = aliased(RouteStep)
    routes = session.execute(
        select(Route, Case.file_reference)
        .outerjoin(Case, Case.id == Route.case_id)
        .where(Route.author_id == user.id, Route.status.in_(OPEN_ROUTE))
        .order_by(Route.id.desc())
        .limit(limit)
    ).all()
    if not routes:
        return []
    ids = [route.id for route, _ in routes]
    holders: dict[int, list[tuple[str, date | None]]] = {}
    rows = session.execute(
        select(current.route_id, User.username, current.addressee_unit_id, current.deadline)
        .outerjoin(User, User.id == current.addressee_user_id)
        .where(and_(current.route_id.in_(ids), current.status == StepStatus.current.value))
    )
    for route_id, username, unit_id, deadline in rows:
        holders.setdefault(route_id, []).append((username or f"OE {unit_id}", deadline))
    result = []
    for route, reference in routes:
        held = holders.get(route.id, [])
        deadlines = [d for _, d in held if d is not None]
        nearest = min(deadlines) if deadlines else None
        where = (
            "zurück bei Ihnen"
            if route.status == RouteStatus.returned.value
            else ", ".join(name for name, _ in held)
        )
        result.append(
            RouteRow(
                route.id,
                str(route.uuid),
                route.title,
                route.status,
                reference or "",
                where,
                nearest,
                nearest is not None and nearest < today,
            )
        )
    return result


def _user(session: Session, actor: User, ident: int | str) -> User:
    if isinstance(ident, str) and not ident.isdigit():
        user = session.scalar(
            select(User).where(User.tenant_id == actor.tenant_id, User.username == ident)
        )
        if user is None:
            raise PermissionDenied(f"{actor.username} does not stand in for {ident}")
        return user
    return load(session, actor, User, ident)
