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

from sqlalchemy import ColumnElement, false, select, true
from sqlalchemy.orm import Session

from eakte.errors import NotFound, PermissionDenied
from eakte.models import Case, Document, FilePlanNode, OrgUnit, Process, Role, ScanBatch, User
from eakte.models.ingest import QuarantinedFile


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
            A.manage_mail,
        }
    ),
    Role.clerk: frozenset(
        {A.view, A.download, A.create_case, A.edit, A.file, A.close, A.restrict, A.ingest}
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
    return any(
        action in ROLE_ACTIONS[role] and _role_reaches(session, user, role, obj)
        for role in user.roles
    )


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
