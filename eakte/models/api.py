"""API tokens for online-service portals and scripts (JSON API, bearer tokens with scopes)."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from eakte.models.accounts import User
from eakte.models.base import Base, CreatedMixin, UuidMixin


class Scope(enum.StrEnum):
    intake = "intake"  # deliver applications (creates or fills cases)
    read = "read"  # read cases and documents
    search = "search"
    download = "download"
    workflow = "workflow"  # start and decide routes, add and finish Wiedervorlagen (issue 16)


class ApiToken(UuidMixin, CreatedMixin, Base):
    """A bearer token acting as its user; scopes narrow what the user may do further."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenant.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    name: Mapped[str] = mapped_column(String(200))
    prefix: Mapped[str] = mapped_column(String(16))  # shown to tell tokens apart
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)  # sha256 of the token
    scopes: Mapped[str] = mapped_column(String(200))  # space-separated Scope values
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    user: Mapped[User] = relationship(foreign_keys=[user_id])

    @property
    def scope_set(self) -> frozenset[Scope]:
        return frozenset(Scope(s) for s in self.scopes.split())
