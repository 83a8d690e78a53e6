"""Reading the audit trail with filters (records officers, admins); reading is itself logged.

An entry's values (old → new, details) are shown only where the reader may open its object:
``view_audit`` lets an admin see that a restricted case was changed, not its title (issue 13).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from eakte.models import AuditEvent, Case, Document, FilePlanNode, Process, User
from eakte.models.base import UuidMixin, utcnow
from eakte.permissions import Action, can, require
from eakte.services.guard import audited_refusals
from eakte.services.listing import Page, paginate

ACTIONS = (
    "create",
    "view",
    "download",
    "change",
    "file",
    "refile",
    "close",
    "reopen",
    "restrict",
    "unrestrict",
    "login",
    "override_schedule",
    "fileplan_import",
    "move",
)


@dataclass(frozen=True)
class AuditFilter:
    username: str = ""
    action: str = ""
    object_uuid: str = ""
    outcome: str = ""
    since: date | None = None
    until: date | None = None


# Audit object types that are records: their values are shown only to who may open them.
RECORD_TYPES: dict[str, type[UuidMixin]] = {
    cls.__name__.lower(): cls for cls in (Case, Process, Document, FilePlanNode)
}


@dataclass(frozen=True)
class AuditRow:
    entry: AuditEvent
    values_visible: bool


@audited_refusals
def search_audit(session: Session, actor: User, flt: AuditFilter, page: int = 1) -> Page:
    """A page of entries as ``AuditRow``s, newest first."""
    require(session, actor, Action.view_audit)
    stmt = select(AuditEvent).where(AuditEvent.tenant_id == actor.tenant_id)
    if flt.username:
        stmt = stmt.where(AuditEvent.username == flt.username)
    if flt.action:
        stmt = stmt.where(AuditEvent.action == flt.action)
    if flt.object_uuid:
        stmt = stmt.where(AuditEvent.object_uuid == flt.object_uuid)
    if flt.outcome:
        stmt = stmt.where(AuditEvent.outcome == flt.outcome)
    if flt.since:
        stmt = stmt.where(AuditEvent.at >= _start_of(flt.since))
    if flt.until:
        stmt = stmt.where(AuditEvent.at < _start_of(flt.until + timedelta(days=1)))
    found = paginate(session, stmt.order_by(AuditEvent.id.desc()), page)
    visible = _openable(session, actor, found.items)
    rows = [
        AuditRow(e, e.object_type not in RECORD_TYPES or e.object_uuid in visible)
        for e in found.items
    ]
    return replace(found, items=rows)


def _openable(session: Session, actor: User, entries: list[AuditEvent]) -> set[str]:
    """The uuids of the page's record objects the actor may open (a record that no longer
    exists counts as not openable)."""
    wanted: dict[str, set[uuid.UUID]] = {}
    for e in entries:
        if e.object_type in RECORD_TYPES and e.object_uuid:
            try:
                wanted.setdefault(e.object_type, set()).add(uuid.UUID(e.object_uuid))
            except ValueError:
                continue
    openable = set()
    for object_type, uuids in wanted.items():
        model = RECORD_TYPES[object_type]
        for obj in session.scalars(select(model).where(model.uuid.in_(uuids))):
            if can(session, actor, Action.view, obj):
                openable.add(str(obj.uuid))
    return openable


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=utcnow().tzinfo)
