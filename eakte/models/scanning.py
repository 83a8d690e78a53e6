"""Scan batches (BSI TR-RESISCAN, R15-R17)."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from eakte.models.base import Base, CreatedMixin, UuidMixin


class QcStatus(enum.StrEnum):
    pending = "pending"
    passed = "passed"
    failed = "failed"


class ScanBatch(UuidMixin, CreatedMixin, Base):
    __tablename__ = "scan_batch"
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenant.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    operator: Mapped[str] = mapped_column(String(200))
    device: Mapped[str] = mapped_column(String(200), default="")
    dpi: Mapped[int | None]
    colour_mode: Mapped[str] = mapped_column(String(32), default="")
    scanned_at: Mapped[datetime | None]
    page_count: Mapped[int] = mapped_column(default=0)
    qc_status: Mapped[str] = mapped_column(String(16), default=QcStatus.pending.value)
    qc_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    qc_at: Mapped[datetime | None]
    qc_note: Mapped[str] = mapped_column(Text, default="")
    # R16 transfer note: who, when, how, anomalies
    transfer_note: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    # R22: the org unit whose staff reach the batch (its inbox, else its creator's unit)
    org_unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_unit.id"), index=True)
