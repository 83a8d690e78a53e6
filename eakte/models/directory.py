"""Directory (LDAP / Active Directory) sign-in and the second factor (issue 19)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from eakte.models.base import Base, CreatedMixin


class DirectoryConfig(CreatedMixin, Base):
    """A tenant's own directory (or subtree), kept by its admins; overrides ``EAKTE_LDAP_*``.

    The bind password is stored encrypted (``eakte.directory.secrets``) and never shown again.
    """

    __tablename__ = "directory_config"

    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenant.id"), primary_key=True)
    enabled: Mapped[bool] = mapped_column(default=True)
    url: Mapped[str] = mapped_column(String(300))
    starttls: Mapped[bool] = mapped_column(default=False)
    ca_file: Mapped[str] = mapped_column(String(500), default="")
    base_dn: Mapped[str] = mapped_column(String(500))
    user_filter: Mapped[str] = mapped_column(String(500))
    group_base_dn: Mapped[str] = mapped_column(String(500), default="")
    group_filter: Mapped[str] = mapped_column(String(500))
    bind_dn: Mapped[str] = mapped_column(String(500), default="")
    bind_password_enc: Mapped[str] = mapped_column(Text, default="")
    # Local accounts that still sign in with their eAkte password (break-glass admins).
    local_users: Mapped[str] = mapped_column(String(500), default="admin")
    updated_at: Mapped[datetime | None]


class DirectoryGroupMap(CreatedMixin, Base):
    """One directory group → one eAkte role and/or org unit; several rows per group allowed."""

    __tablename__ = "directory_group_map"
    __table_args__ = (UniqueConstraint("tenant_id", "group_dn", "role", "org_unit_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenant.id"), index=True)
    group_dn: Mapped[str] = mapped_column(String(500))  # stored lower-case: DNs compare so
    role: Mapped[str | None] = mapped_column(String(32))
    org_unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_unit.id"))


class DirectoryAccount(Base):
    """Marks a user as managed by the directory: its roles and unit follow the groups."""

    __tablename__ = "directory_account"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True
    )
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenant.id"), index=True)
    dn: Mapped[str] = mapped_column(String(500))
    groups: Mapped[str] = mapped_column(Text, default="")  # as last seen, one DN a line
    last_seen_at: Mapped[datetime | None]
    # Set when the nightly sync disabled the user (gone or no mapped group left).
    disabled_by_sync_at: Mapped[datetime | None]


class TotpSecret(CreatedMixin, Base):
    """A user's TOTP secret (RFC 6238), encrypted; usable once ``confirmed_at`` is set."""

    __tablename__ = "totp_secret"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True
    )
    secret_enc: Mapped[str] = mapped_column(Text)
    confirmed_at: Mapped[datetime | None]
    # The last 30-second step accepted: a code is never accepted twice (replay).
    last_step: Mapped[int] = mapped_column(default=0)


class RecoveryCode(CreatedMixin, Base):
    """A one-time recovery code, stored as a hash only."""

    __tablename__ = "recovery_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    code_hash: Mapped[str] = mapped_column(String(255))
    used_at: Mapped[datetime | None]
