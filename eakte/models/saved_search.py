"""Saved searches (issue 22): a name and the query string of the search page, kept for one
user or shared with the members of an org unit; the start page shows them with their counts."""

from __future__ import annotations

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from eakte.models.base import Base, CreatedMixin, UuidMixin


class SavedSearch(UuidMixin, CreatedMixin, Base):
    __tablename__ = "saved_search"

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenant.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    # Shared with this org unit's members; None: the owner's own.
    org_unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_unit.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    query: Mapped[str] = mapped_column(String(2000))  # the search page's query string
