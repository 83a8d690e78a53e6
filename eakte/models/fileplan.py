"""The file plan (Aktenplan), retention schedules and file-reference sequences."""

from __future__ import annotations

import enum

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from eakte.models.base import Base, CreatedMixin, UuidMixin


class RetentionAction(enum.StrEnum):
    archive = "A"  # offer to the public archive
    destroy = "V"  # vernichten
    appraise = "B"  # the archive appraises (bewerten)


class RetentionTrigger(enum.StrEnum):
    closure = "closure"
    event = "event"


class RetentionSchedule(UuidMixin, CreatedMixin, Base):
    """R6. Data only; the rules that use it live in ``retention/``."""

    __tablename__ = "retention_schedule"
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenant.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    legal_basis: Mapped[str] = mapped_column(Text, default="")
    period_years: Mapped[int | None] = mapped_column(Integer)  # None: permanent
    trigger: Mapped[str] = mapped_column(String(16), default=RetentionTrigger.closure.value)
    trigger_event: Mapped[str] = mapped_column(String(200), default="")
    action: Mapped[str] = mapped_column(String(1))

    @property
    def permanent(self) -> bool:
        return self.period_years is None


class FilePlanNode(UuidMixin, CreatedMixin, Base):
    """An Aktenplaneinheit: code like ``32.10.05``; cases live under nodes with a schedule."""

    __tablename__ = "file_plan_node"
    __table_args__ = (UniqueConstraint("tenant_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenant.id"), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("file_plan_node.id"), index=True)
    code: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(300))
    org_unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_unit.id"))
    schedule_id: Mapped[int | None] = mapped_column(ForeignKey("retention_schedule.id"))

    schedule: Mapped[RetentionSchedule | None] = relationship(lazy="joined")
    parent: Mapped[FilePlanNode | None] = relationship(remote_side=[id])


class FileReferenceCounter(Base):
    """The running number per node and year (R2); rows are never deleted, so numbers are never
    reused, even after destruction."""

    __tablename__ = "file_reference_counter"

    node_id: Mapped[int] = mapped_column(ForeignKey("file_plan_node.id"), primary_key=True)
    year: Mapped[int] = mapped_column(primary_key=True)
    last_value: Mapped[int] = mapped_column(default=0)
