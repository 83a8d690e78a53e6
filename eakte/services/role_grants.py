"""Role grants under four eyes: admin and records officer are granted only once a second
holder of the role confirms; where a held role came from. Each function owns its transaction
(``grant`` runs in the caller's)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from eakte import audit
from eakte.db import transaction
from eakte.errors import Conflict, FourEyes, NotFound
from eakte.models import Role, RoleGrant, User, UserRole
from eakte.models.accounts import GrantStatus
from eakte.models.base import utcnow
from eakte.services.guard import audited_refusals, load

# Granting these needs a second holder's confirmation: they are the two sides of four eyes.
FOUR_EYES_ROLES = frozenset({Role.admin, Role.records_officer})


def grant(session: Session, actor: User, user: User, role: Role) -> RoleGrant | None:
    """``role`` for ``user``: at once, or (a four-eyes role) a pending grant, returned."""
    now = utcnow()
    if role in FOUR_EYES_ROLES:
        pending = session.scalar(
            select(RoleGrant).where(
                RoleGrant.user_id == user.id,
                RoleGrant.role == role.value,
                RoleGrant.status == GrantStatus.pending.value,
            )
        )
        if pending is not None:
            raise Conflict(f"the role {role.value} for {user.username!r} is already requested")
        grant = RoleGrant(
            tenant_id=user.tenant_id, user_id=user.id, role=role.value, requested_by_id=actor.id
        )
        session.add(grant)
        session.flush()
        audit.record(session, actor, "request_role", user, role=role.value, grant=str(grant.uuid))
        return grant
    session.add(UserRole(user_id=user.id, role=role.value, granted_at=now, granted_by_id=actor.id))
    session.flush()
    session.expire(user, ["role_rows"])
    audit.record(session, actor, "grant_role", user, role=role.value)
    return None


@audited_refusals
def decide_grant(session: Session, actor: User, grant_ident: str, confirm: bool) -> RoleGrant:
    """A second holder of the role confirms (or rejects) a pending grant. Neither the one who
    asked for it nor the user who would get it can decide."""
    with transaction(session):
        grant = load(session, actor, RoleGrant, grant_ident)
        role = Role(grant.role)
        if grant.status != GrantStatus.pending.value:
            raise Conflict("the role grant was decided already")
        if not actor.has_role(role) or actor.is_service:
            raise FourEyes(f"only a holder of {role.value} confirms its grants")
        if actor.id in (grant.requested_by_id, grant.user_id):
            raise FourEyes("a role grant needs a second person to confirm it")
        now = utcnow()
        grant.status = (GrantStatus.confirmed if confirm else GrantStatus.rejected).value
        grant.decided_by_id, grant.decided_at = actor.id, now
        if confirm:
            session.add(
                UserRole(
                    user_id=grant.user_id,
                    role=role.value,
                    granted_at=grant.created_at,
                    granted_by_id=grant.requested_by_id,
                    confirmed_at=now,
                    confirmed_by_id=actor.id,
                )
            )
            session.flush()
            session.expire(grant.user, ["role_rows"])
        audit.record(
            session,
            actor,
            "confirm_role" if confirm else "reject_role",
            grant.user,
            role=role.value,
            grant=str(grant.uuid),
            requested_by=grant.requested_by.username,
        )
    return grant


def pending_grants(session: Session, actor: User) -> list[RoleGrant]:
    """The grants waiting for a holder of their role: the ones ``actor`` could decide, and
    (for admins) every one, so that the one who asked sees them waiting."""
    query = select(RoleGrant).where(
        RoleGrant.tenant_id == actor.tenant_id, RoleGrant.status == GrantStatus.pending.value
    )
    if not actor.has_role(Role.admin):
        query = query.where(RoleGrant.role.in_([r.value for r in actor.roles]))
    return list(session.scalars(query.order_by(RoleGrant.id)))


@dataclass(frozen=True)
class RoleProvenance:
    """How a user came to hold a role: who granted it and who confirmed it, when."""

    username: str
    role: str
    held: bool
    # When the person last set their own password: a recent one after a reset is worth a look.
    password_changed_at: datetime | None = None
    granted_at: datetime | None = None
    granted_by: str | None = None
    confirmed_at: datetime | None = None
    confirmed_by: str | None = None


def role_provenance(session: Session, user_id: int, role: Role) -> RoleProvenance:
    """Shown beside the two parties of a disposal, so that the approver sees whether the
    other side's role came from the same admin, and when."""

    def name(ident: int | None) -> str | None:
        return session.scalar(select(User.username).where(User.id == ident)) if ident else None

    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"user {user_id} not found")
    row = session.get(UserRole, (user_id, role.value))
    if row is None:
        return RoleProvenance(user.username, role.value, held=False)
    return RoleProvenance(
        user.username,
        role.value,
        held=True,
        password_changed_at=user.password_changed_at,
        granted_at=row.granted_at,
        granted_by=name(row.granted_by_id),
        confirmed_at=row.confirmed_at,
        confirmed_by=name(row.confirmed_by_id),
    )
