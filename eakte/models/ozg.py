"""OZG application packages (issue 17): where a tenant's online services' applications go,
by the service's key (Leistungsschlüssel, LeiKa)."""

from __future__ import annotations

import enum

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from eakte.models.base import Base, CreatedMixin


class OzgMode(enum.StrEnum):
    inbox = "inbox"  # the package's documents go to the org unit's inbox
    case = "case"  # a case is created under the file-plan node, the documents filed into it


class OzgMapping(CreatedMixin, Base):
    __tablename__ = "ozg_mapping"
    __table_args__ = (UniqueConstraint("tenant_id", "service_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenant.id"), index=True)
    service_key: Mapped[str] = mapped_column(String(40))  # LeiKa key, e.g. 99050012104000
    service_name: Mapped[str] = mapped_column(String(300), default="")
    file_plan_code: Mapped[str] = mapped_column(String(64), default="")
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"))
    mode: Mapped[str] = mapped_column(String(10), default=OzgMode.inbox.value)
