"""Deputies (Vertretung, R30): who stands in for whom, from when to when, for all work or one
org unit's. Deputies see and act on the absent person's desk during the period; their actions
record both people (see ``eakte.permissions.acting_for``)."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from eakte import audit
from eakte.db import transaction
from eakte.errors import BadInput, Conflict, NotFound, PermissionDenied
from eakte.models import OrgUnit, User
from eakte.models.workflow import Deputy
from eakte.permissions import Action, can
from eakte.services.guard import audited_refusals, load
from eakte.workflow import clock


def _user(session: Session, actor: User, name: str) -> User:
    user = session.scalar(
        select(User).where(User.tenant_id == actor.tenant_id, User.username == name)
    )
    if user is None:
        raise NotFound(f"user {name!r} not found")
    return user


def _may_manage(session: Session, actor: User, principal: User) -> None:
    """The absent person arranges their own deputy; an admin for anyone."""
    if actor.id != principal.id and not can(session, actor, Action.manage_users):
        raise PermissionDenied(f"{actor.username} may not set deputies for {principal.username}")


@audited_refusals
def add(
    session: Session,
    actor: User,
    *,
    deputy: str,
    principal: str | None = None,
    starts_on: date,
    ends_on: date | None = None,
    org_unit: str | None = None,
) -> Deputy:
    if ends_on is not None and ends_on < starts_on:
        raise BadInput("a deputyship ends on or after its first day")
    with transaction(session):
        absent = actor if principal is None else _user(session, actor, principal)
        _may_manage(session, actor, absent)
        stand_in = _user(session, actor, deputy)
        if stand_in.id == absent.id:
            raise BadInput("nobody stands in for themselves")
        if not stand_in.active:
            raise BadInput(f"user {deputy!r} is not active")
        unit_id = None
        if org_unit:
            unit = session.scalar(
                select(OrgUnit).where(
                    OrgUnit.tenant_id == actor.tenant_id, OrgUnit.code == org_unit
                )
            )
            if unit is None:
                raise NotFound(f"org unit {org_unit!r} not found")
            unit_id = unit.id
        row = Deputy(
            tenant_id=actor.tenant_id,
            deputy_id=stand_in.id,
            principal_id=absent.id,
            org_unit_id=unit_id,
            starts_on=starts_on,
            ends_on=ends_on,
            created_by_id=actor.id,
        )
        session.add(row)
        session.flush()
        audit.record(
            session,
            actor,
            "deputy_add",
            absent,
            deputyship=str(row.uuid),
            deputy=stand_in.username,
            principal=absent.username,
            starts_on=starts_on.isoformat(),
            ends_on=ends_on.isoformat() if ends_on else None,
            org_unit=org_unit or "",
        )
    return row


@audited_refusals
def end(session: Session, actor: User, ident: int | str) -> Deputy:
    """Ends a deputyship: from today on it covers nothing; its history stays."""
    with transaction(session):
        row = load(session, actor, Deputy, ident)
        absent = session.get(User, row.principal_id)
        assert absent is not None
        _may_manage(session, actor, absent)
        today = clock.today(session)
        if row.ends_on is not None and row.ends_on < today:
            raise Conflict(f"deputyship {row.uuid} has already ended")
        old = row.ends_on
        # From today on it no longer covers; one not yet begun never does (it ends the day
        # before its first day).
        row.ends_on = min(today, row.starts_on) - timedelta(days=1)
        audit.record(
            session,
            actor,
            "deputy_end",
            absent,
            deputyship=str(row.uuid),
            changes={"ends_on": [old, row.ends_on]},
        )
    return row


def list_for(session: Session, actor: User, *, current_only: bool = False) -> list[Deputy]:
    """Deputyships that involve ``actor`` (both ways); an admin sees all of the tenant."""
    query = select(Deputy).where(Deputy.tenant_id == actor.tenant_id)
    if not can(session, actor, Action.manage_users):
        query = query.where(or_(Deputy.deputy_id == actor.id, Deputy.principal_id == actor.id))
    if current_only:
        day = clock.today(session)
        query = query.where(
            Deputy.starts_on <= day, or_(Deputy.ends_on.is_(None), Deputy.ends_on >= day)
        )
    return list(session.scalars(query.order_by(Deputy.starts_on, Deputy.id)))
