"""Tenants (Mandanten), org units and users with their roles."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from eakte.models.base import Base, CreatedMixin, UuidMixin


class UserKind(enum.StrEnum):
    person = "person"
    # A portal or script: acts only through API tokens an admin made for it, never signs in.
    service = "service"


class Role(enum.StrEnum):
    admin = "admin"
    records_officer = "records_officer"
    clerk = "clerk"
    scanner = "scanner"


class Tenant(UuidMixin, CreatedMixin, Base):
    """A municipality served by this installation; a single-town installation has one."""

    __tablename__ = "tenant"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))


class OrgUnit(UuidMixin, CreatedMixin, Base):
    """An organisational unit (Amt, Sachgebiet); a tree per tenant."""

    __tablename__ = "org_unit"
    __table_args__ = (UniqueConstraint("tenant_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenant.id"), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("org_unit.id"))
    code: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(200))


class User(UuidMixin, CreatedMixin, Base):
    __tablename__ = "user_account"
    __table_args__ = (UniqueConstraint("tenant_id", "username"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenant.id"), index=True)
    org_unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_unit.id"))
    username: Mapped[str] = mapped_column(String(80))
    display_name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(default=True)
    last_login_at: Mapped[datetime | None]
    kind: Mapped[str] = mapped_column(String(16), default=UserKind.person.value)
    # Set by an admin's password (new user, reset): it opens only the change-password page.
    must_change_password: Mapped[bool] = mapped_column(default=False)
    password_changed_at: Mapped[datetime | None]

    role_rows: Mapped[list[UserRole]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", foreign_keys="UserRole.user_id"
    )

    @property
    def is_service(self) -> bool:
        return self.kind == UserKind.service.value

    @property
    def roles(self) -> frozenset[Role]:
        return frozenset(Role(r.role) for r in self.role_rows)

    def has_role(self, role: Role) -> bool:
        return role in self.roles

    # The protocol Flask-Login expects of a user object (no Flask import here).
    is_authenticated = True
    is_anonymous = False

    @property
    def is_active(self) -> bool:
        return self.active

    def get_id(self) -> str:
        return str(self.uuid)


class UserRole(Base):
    __tablename__ = "user_role"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[str] = mapped_column(String(32), primary_key=True)
    # Who granted the role and who confirmed it (four eyes for admin and records_officer);
    # empty for roles from before release 0008 and for the operator's first accounts.
    granted_at: Mapped[datetime | None]
    granted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    confirmed_at: Mapped[datetime | None]
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))


class GrantStatus(enum.StrEnum):
    pending = "pending"
    confirmed = "confirmed"
    rejected = "rejected"


class RoleGrant(UuidMixin, CreatedMixin, Base):
    """A requested grant of a role that needs a second holder's confirmation."""

    __tablename__ = "role_grant"

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenant.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(32))
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    status: Mapped[str] = mapped_column(String(16), default=GrantStatus.pending.value)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    decided_at: Mapped[datetime | None]

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    requested_by: Mapped[User] = relationship(foreign_keys=[requested_by_id])
