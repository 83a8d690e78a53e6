"""The one place that answers "may this user do this action on this object?" (R22, R24).

Rules: role decides the actions; org unit decides the reach of clerks and scanning staff (their
unit and the units beneath it), for records as for scan batches and quarantine entries (which
belong to the inbox they were meant for); restriction (DSGVO Art. 18) hides an object from
everyone without ``view_restricted``; tenants never cross. Objects a user may not view are
reported as not found, so ids cannot be probed.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, false, or_, select, true
from sqlalchemy.orm import Session

from eakte.errors import NotFound, PermissionDenied
from eakte.models import Case, Document, FilePlanNode, OrgUnit, Process, Role, ScanBatch, User
from eakte.models.ingest import QuarantinedFile
from eakte.models.workflow import Deputy, Route, RouteStatus, RouteStep, StepStatus
from eakte.workflow import clock


class Action(enum.StrEnum):
    view = "view"
    download = "download"
    create_case = "create_case"
    edit = "edit"
    file = "file"
    close = "close"
    reopen = "reopen"
    restrict = "restrict"
    view_restricted = "view_restricted"
    override_schedule = "override_schedule"
    manage_fileplan = "manage_fileplan"
    manage_schedules = "manage_schedules"
    manage_users = "manage_users"
    view_audit = "view_audit"
    ingest = "ingest"
    qc_scan = "qc_scan"
    place_hold = "place_hold"
    dispose = "dispose"
    migrate = "migrate"  # prepare and run paper archive migrations (issue 21)
    route = "route"  # start a route (Geschäftsgang) on an object, add Wiedervorlagen (issue 16)
    manage_mail = "manage_mail"  # IMAP accounts of the mail intake (issue 17)


A = Action
ROLE_ACTIONS: dict[Role, frozenset[Action]] = {
    Role.admin: frozenset(
        {A.view, A.download, A.manage_users, A.manage_fileplan, A.view_audit, A.manage_mail}
    ),
    Role.records_officer: frozenset(
        {
            A.view,
            A.download,
            A.create_case,
            A.edit,
            A.file,
            A.close,
            A.reopen,
            A.restrict,
            A.view_restricted,
            A.override_schedule,
            A.manage_fileplan,
            A.manage_schedules,
            A.view_audit,
            A.place_hold,
            A.dispose,
            A.route,
            A.manage_mail,
        }
    ),
    Role.clerk: frozenset(
        {
            A.view,
            A.download,
            A.create_case,
            A.edit,
            A.file,
            A.close,
            A.restrict,
            A.ingest,
            A.route,
        }
    ),
    Role.scanner: frozenset({A.view, A.download, A.ingest, A.qc_scan, A.migrate}),
}
# Roles whose reach is limited to their own org unit and the units beneath it.
UNIT_SCOPED = frozenset({Role.clerk, Role.scanner})
# Scanning staff see documents while they are in an inbox, never filed cases.
INBOX_ONLY = frozenset({Role.scanner})


def org_unit_subtree(session: Session, root_id: int) -> set[int]:
    rows = session.execute(select(OrgUnit.id, OrgUnit.parent_id)).all()
    children: dict[int | None, list[int]] = {}
    for unit_id, parent_id in rows:
        children.setdefault(parent_id, []).append(unit_id)
    found, stack = set(), [root_id]
    while stack:
        unit = stack.pop()
        if unit not in found:
            found.add(unit)
            stack.extend(children.get(unit, ()))
    return found


def _owner_unit(obj: Any) -> tuple[int | None, bool]:
    """(org unit responsible for obj, whether it is an inbox document)."""
    if isinstance(obj, Case):
        return obj.org_unit_id, False
    if isinstance(obj, Process):
        return obj.case.org_unit_id, False
    if isinstance(obj, Document):
        if obj.process_id is None or obj.process is None:  # the second: for the type checker
            return obj.inbox_org_unit_id, True
        return obj.process.case.org_unit_id, False
    if isinstance(obj, FilePlanNode):
        return obj.org_unit_id, False
    if isinstance(obj, ScanBatch | QuarantinedFile):
        return obj.org_unit_id, True  # the scanning desk's objects, like inbox documents
    return None, False


def _restricted(obj: Any) -> bool:
    if isinstance(obj, Case):
        return obj.restricted
    if isinstance(obj, Process):
        return obj.case.restricted
    if isinstance(obj, Document):
        return obj.restricted or (obj.process is not None and obj.process.case.restricted)
    return False


def _role_reaches(session: Session, user: User, role: Role, obj: Any) -> bool:
    if obj is None or isinstance(obj, FilePlanNode) or role not in UNIT_SCOPED:
        return True
    unit, in_inbox = _owner_unit(obj)
    if role in INBOX_ONLY and not in_inbox:
        return False
    return user.org_unit_id is not None and unit in org_unit_subtree(session, user.org_unit_id)


def can(session: Session, user: User, action: Action, obj: Any = None) -> bool:
    if not user.active:
        return False
    if obj is not None and getattr(obj, "tenant_id", user.tenant_id) != user.tenant_id:
        return False
    if _restricted(obj) and not any(Action.view_restricted in ROLE_ACTIONS[r] for r in user.roles):
        return False
    if _by_role(session, user, action, obj):
        return True
    # Issue 16: what is routed to someone they may open, also outside their unit, that object
    # only and while their step is current; a deputy sees what the absent person sees.
    if obj is None or action not in ROUTE_READ:
        return False
    if routed_to(session, user, obj):
        return True
    return any(
        principal.active
        and (_by_role(session, principal, action, obj) or routed_to(session, principal, obj))
        for principal in principals(session, user, obj)
    )


def _by_role(session: Session, user: User, action: Action, obj: Any) -> bool:
    return any(
        action in ROLE_ACTIONS[role] and _role_reaches(session, user, role, obj)
        for role in user.roles
    )


# --- routes and deputies (issue 16) ---

# What an addressee of a current step (and a deputy) may do with the object beyond their roles.
ROUTE_READ = frozenset({Action.view, Action.download})


def routed_to(session: Session, user: User, obj: Any) -> bool:
    """Whether ``user`` (or their org unit) is the addressee of a current step of an active
    route on ``obj``: a document routed itself or filed in a routed process, or a routed
    process."""
    if isinstance(obj, Document):
        on_obj = or_(
            Route.document_id == obj.id,
            and_(
                Route.document_id.is_(None),
                Route.process_id.is_not(None),
                Route.process_id == obj.process_id,
            ),
        )
    elif isinstance(obj, Process):
        on_obj = and_(Route.process_id == obj.id, Route.document_id.is_(None))
    else:
        return False
    addressed = RouteStep.addressee_user_id == user.id
    if user.org_unit_id is not None:
        addressed = or_(addressed, RouteStep.addressee_unit_id == user.org_unit_id)
    found = session.scalar(
        select(RouteStep.id)
        .join(Route, Route.id == RouteStep.route_id)
        .where(
            Route.tenant_id == user.tenant_id,
            Route.status == RouteStatus.active.value,
            RouteStep.status == StepStatus.current.value,
            addressed,
            on_obj,
        )
        .limit(1)
    )
    return found is not None


def principals(session: Session, deputy: User, obj: Any = None) -> list[User]:
    """Whom ``deputy`` stands in for today (the session's clock); with ``obj``, only the
    deputyships that cover its org unit (one unit's work or all work)."""
    day = clock.today(session)
    rows = session.scalars(
        select(Deputy).where(
            Deputy.deputy_id == deputy.id,
            Deputy.tenant_id == deputy.tenant_id,
            Deputy.starts_on <= day,
            or_(Deputy.ends_on.is_(None), Deputy.ends_on >= day),
        )
    ).all()
    if obj is not None and any(row.org_unit_id is not None for row in rows):
        unit, _ = _owner_unit(obj)
        rows = [
            row
            for row in rows
            if row.org_unit_id is None
            or (unit is not None and unit in org_unit_subtree(session, row.org_unit_id))
        ]
    found = {row.principal_id for row in rows}
    return [user for user in (session.get(User, uid) for uid in sorted(found)) if user]


def acting_for(
    session: Session,
    actor: User,
    addressee_user_id: int | None,
    addressee_unit_id: int | None,
    obj: Any = None,
) -> User | None:
    """Who ``actor`` acts for on work addressed to a user or a unit: None when it is their
    own (the addressee, a member of the unit), the absent person when ``actor`` stands in for
    them (i. V.); ``PermissionDenied`` otherwise."""
    if not actor.active:
        raise PermissionDenied(f"{actor.username} is not active")
    if addressee_user_id == actor.id or (
        addressee_unit_id is not None and addressee_unit_id == actor.org_unit_id
    ):
        return None
    for principal in principals(session, actor, obj):
        if addressee_user_id == principal.id or (
            addressee_unit_id is not None and addressee_unit_id == principal.org_unit_id
        ):
            return principal
    raise PermissionDenied(f"{actor.username} is not the addressee and stands in for nobody who is")


@dataclass(frozen=True)
class Visibility:
    """What a user may open, as data: lists and search filter with it (in SQL or in the index)
    and agree with ``can(user, Action.view, obj)``.

    ``unit_ids`` None means every org unit of the tenant (and objects without one).
    """

    tenant_id: int
    unit_ids: frozenset[int] | None
    inbox_only: bool
    restricted: bool
    nothing: bool = False


def visibility(session: Session, user: User) -> Visibility:
    viewers = [r for r in user.roles if Action.view in ROLE_ACTIONS[r]]
    restricted = any(Action.view_restricted in ROLE_ACTIONS[r] for r in user.roles)
    if not user.active or not viewers:
        return Visibility(user.tenant_id, frozenset(), True, False, nothing=True)
    if any(r not in UNIT_SCOPED for r in viewers):
        return Visibility(user.tenant_id, None, False, restricted)
    units = (
        frozenset(org_unit_subtree(session, user.org_unit_id))
        if user.org_unit_id is not None
        else frozenset()
    )
    inbox_only = all(r in INBOX_ONLY for r in viewers)
    return Visibility(user.tenant_id, units, inbox_only, restricted)


def unit_scope(vis: Visibility, unit_column) -> ColumnElement[bool]:
    """SQL condition for rows owned by an org unit (``unit_column``) that the user reaches;
    agrees with ``can`` for scan batches and quarantine entries."""
    if vis.nothing:
        return false()
    if vis.unit_ids is None:
        return true()
    return unit_column.in_(vis.unit_ids)


def require(session: Session, user: User, action: Action, obj: Any = None) -> None:
    """Raise unless allowed: ``NotFound`` when the user may not even see ``obj``."""
    if can(session, user, action, obj):
        return
    if obj is not None and action != Action.view and can(session, user, Action.view, obj):
        raise PermissionDenied(f"{user.username} may not {action} {type(obj).__name__}")
    if obj is not None:
        raise NotFound(f"{type(obj).__name__} not found for {user.username}")
    raise PermissionDenied(f"{user.username} may not {action}")
