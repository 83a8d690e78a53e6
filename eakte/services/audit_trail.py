"""Reading the audit trail with filters (records officers, admins); reading is itself logged."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from eakte.models import AuditEvent, User
from eakte.models.base import utcnow
from eakte.permissions import Action, require
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


@audited_refusals
def search_audit(session: Session, actor: User, flt: AuditFilter, page: int = 1) -> Page:
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
    return paginate(session, stmt.order_by(AuditEvent.id.desc()), page)


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=utcnow().tzinfo)
