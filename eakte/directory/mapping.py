"""The admins' table: directory group → eAkte role and/or org unit.

Several groups may give several roles; a person gets the union of their groups' roles and the
org unit of the first mapped group that names one. Mapping a group to admin or records officer
is the operator's (``eakte ldap map``): in the web an admin could otherwise put any directory
group, their own included, into a four-eyes role alone.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from eakte import audit
from eakte.db import transaction
from eakte.errors import BadInput, Conflict, FourEyes, NotFound
from eakte.models import OrgUnit, Role, Tenant, User
from eakte.models.directory import DirectoryGroupMap
from eakte.permissions import Action, require
from eakte.services.role_grants import FOUR_EYES_ROLES


@dataclass(frozen=True)
class Mapped:
    roles: frozenset[Role]
    org_unit_id: int | None

    @property
    def any(self) -> bool:
        return bool(self.roles) or self.org_unit_id is not None


def resolve(session: Session, tenant_id: int, groups: tuple[str, ...]) -> Mapped:
    if not groups:
        return Mapped(frozenset(), None)
    rows = session.scalars(
        select(DirectoryGroupMap)
        .where(
            DirectoryGroupMap.tenant_id == tenant_id,
            DirectoryGroupMap.group_dn.in_([g.lower() for g in groups]),
        )
        .order_by(DirectoryGroupMap.id)
    ).all()
    roles = frozenset(Role(r.role) for r in rows if r.role)
    units = [r.org_unit_id for r in rows if r.org_unit_id is not None]
    return Mapped(roles, units[0] if units else None)


def add(
    session: Session,
    actor: User | None,
    tenant: Tenant,
    group_dn: str,
    role: Role | None,
    org_unit_code: str | None = None,
) -> DirectoryGroupMap:
    group_dn = group_dn.strip().lower()
    if not group_dn or len(group_dn) > 500 or "=" not in group_dn:
        raise BadInput("a group is given by its DN (cn=...,ou=...,dc=...)")
    if role is None and not org_unit_code:
        raise BadInput("a mapping needs a role or an org unit")
    with transaction(session):
        if actor is not None:
            require(session, actor, Action.manage_users)
            if role in FOUR_EYES_ROLES:
                raise FourEyes(
                    f"mapping a group to {role.value} is the operator's (eakte ldap map)"
                )
        unit_id = None
        if org_unit_code:
            unit_id = session.scalar(
                select(OrgUnit.id).where(
                    OrgUnit.tenant_id == tenant.id, OrgUnit.code == org_unit_code
                )
            )
            if unit_id is None:
                raise NotFound(f"org unit {org_unit_code!r} does not exist")
        exists = session.scalar(
            select(DirectoryGroupMap.id).where(
                DirectoryGroupMap.tenant_id == tenant.id,
                DirectoryGroupMap.group_dn == group_dn,
                DirectoryGroupMap.role.is_(None)
                if role is None
                else DirectoryGroupMap.role == role.value,
                DirectoryGroupMap.org_unit_id.is_(None)
                if unit_id is None
                else DirectoryGroupMap.org_unit_id == unit_id,
            )
        )
        if exists:
            raise Conflict("this mapping exists already")
        row = DirectoryGroupMap(
            tenant_id=tenant.id,
            group_dn=group_dn,
            role=role.value if role else None,
            org_unit_id=unit_id,
        )
        session.add(row)
        session.flush()
        audit.record(
            session,
            actor,
            "directory_map_add",
            tenant,
            tenant_id=tenant.id,
            group=group_dn,
            role=role.value if role else None,
            org_unit=org_unit_code,
        )
    return row


def remove(session: Session, actor: User | None, tenant: Tenant, mapping_id: int) -> None:
    with transaction(session):
        if actor is not None:
            require(session, actor, Action.manage_users)
        row = session.get(DirectoryGroupMap, mapping_id)
        if row is None or row.tenant_id != tenant.id:
            raise NotFound(f"mapping {mapping_id} not found")
        if actor is not None and row.role in {r.value for r in FOUR_EYES_ROLES}:
            raise FourEyes("a mapping to a four-eyes role is removed by the operator")
        session.delete(row)
        audit.record(
            session,
            actor,
            "directory_map_remove",
            tenant,
            tenant_id=tenant.id,
            group=row.group_dn,
            role=row.role,
        )


def listing(session: Session, tenant: Tenant) -> list[tuple[DirectoryGroupMap, str | None]]:
    """Every mapping of the tenant with its org unit's code."""
    return [
        (row, code)
        for row, code in session.execute(
            select(DirectoryGroupMap, OrgUnit.code)
            .outerjoin(OrgUnit, OrgUnit.id == DirectoryGroupMap.org_unit_id)
            .where(DirectoryGroupMap.tenant_id == tenant.id)
            .order_by(DirectoryGroupMap.group_dn, DirectoryGroupMap.id)
        ).all()
    ]


def listing_for(session: Session, actor: User) -> list[tuple[DirectoryGroupMap, str | None]]:
    """The admin's own tenant's mappings."""
    require(session, actor, Action.manage_users)
    return listing(session, session.get_one(Tenant, actor.tenant_id))
