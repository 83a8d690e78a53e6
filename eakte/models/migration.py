"""Paper archive migrations (Altaktenübernahme, issue 21): a manifest prepared by scanning
staff, approved by a records officer, run by scanning staff.

Data only; the rules live in ``eakte/services/migration.py``.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from eakte.models.accounts import User
from eakte.models.base import Base, CreatedMixin, UuidMixin


class MigrationStatus(enum.StrEnum):
    prepared = "prepared"  # checked, waiting for a records officer
    approved = "approved"  # may run (and be run again until done)
    rejected = "rejected"
    done = "done"


class MigrationRun(UuidMixin, CreatedMixin, Base):
    """One migration manifest (with its plan-code mapping), who prepared, approved and ran it.

    The manifest is kept as it was approved: running uses this text, never a file that could
    have changed since."""

    __tablename__ = "migration_run"
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenant.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"))  # scanned for
    manifest: Mapped[str] = mapped_column(Text)
    plan_map: Mapped[str] = mapped_column(Text, default="")  # old code → today's code (CSV)
    sha256: Mapped[str] = mapped_column(String(64))  # of manifest and map, as approved
    # Scan profile of the boxes (R15), unless the manifest names one per box.
    device: Mapped[str] = mapped_column(String(200), default="")
    dpi: Mapped[int | None]
    colour_mode: Mapped[str] = mapped_column(String(32), default="")
    case_count: Mapped[int] = mapped_column(default=0)
    document_count: Mapped[int] = mapped_column(default=0)
    status: Mapped[str] = mapped_column(
        String(16), default=MigrationStatus.prepared.value, index=True
    )
    prepared_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    decided_at: Mapped[datetime | None]
    decision_note: Mapped[str] = mapped_column(Text, default="")
    run_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]

    prepared_by: Mapped[User] = relationship(foreign_keys=[prepared_by_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])
