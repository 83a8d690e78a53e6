"""Retention: legal holds, disposal requests, destruction certificates, transfers (issue 6).

Data only; the rules live in ``retention.holds``, ``retention.rules`` and the workflows. Mapped on
the shared ``eakte.models.Base``: whatever needs the whole metadata (the migration environment,
the composition root, tests) imports this module, the core never does.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from eakte.models.base import Base, CreatedMixin, UuidMixin
from eakte.models.records import Case


class HoldTarget(enum.StrEnum):
    case = "case"
    process = "process"
    node = "node"


class Hold(UuidMixin, CreatedMixin, Base):
    """R12: a legal hold on a case, a process or a file-plan node (and all beneath it).

    Active while ``released_at`` is None. ``s3_pending`` says the S3 legal holds of the objects
    beneath it still have to be brought in line (placed, or cleared after a release).
    """

    __tablename__ = "legal_hold"

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenant.id"), index=True)
    target_type: Mapped[str] = mapped_column(String(16))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case_record.id"), index=True)
    process_id: Mapped[int | None] = mapped_column(ForeignKey("process.id"), index=True)
    node_id: Mapped[int | None] = mapped_column(ForeignKey("file_plan_node.id"), index=True)
    reason: Mapped[str] = mapped_column(Text)
    authority: Mapped[str] = mapped_column(String(300))
    placed_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    placed_at: Mapped[datetime]
    released_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    released_at: Mapped[datetime | None] = mapped_column(index=True)
    release_reason: Mapped[str] = mapped_column(Text, default="")
    s3_pending: Mapped[bool] = mapped_column(default=True, index=True)

    @property
    def active(self) -> bool:
        return self.released_at is None


class RequestStatus(enum.StrEnum):
    proposed = "proposed"
    approved = "approved"
    rejected = "rejected"
    completed = "completed"


class ItemAction(enum.StrEnum):
    destroy = "destroy"  # schedule V, or the archive's appraisal V
    archive = "archive"  # schedule A or B: offered to the archive (xdomea 0501 ... 0506)


class ItemState(enum.StrEnum):
    pending = "pending"  # waiting for execution (destroy) or for the offer (archive)
    offered = "offered"  # listed in a 0501, waiting for the archive's appraisal (0502)
    to_transfer = "to_transfer"  # the archive wants it: goes into the next 0503
    sent = "sent"  # in a 0503, waiting for the import confirmation (0506)
    transferred = "transferred"  # the archive confirmed; the local copy is to be destroyed
    destroying = "destroying"  # execution started; some documents may be gone already
    held = "held"  # a legal hold stopped execution; resumes after the release
    done = "done"  # destroyed, certificate issued


class DisposalRequest(UuidMixin, CreatedMixin, Base):
    """R9: a set of due cases proposed by one records officer, decided by another."""

    __tablename__ = "disposal_request"

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenant.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default=RequestStatus.proposed.value)
    note: Mapped[str] = mapped_column(Text, default="")
    proposed_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    proposed_at: Mapped[datetime]
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    decided_at: Mapped[datetime | None]
    decision_reason: Mapped[str] = mapped_column(Text, default="")
    completed_at: Mapped[datetime | None]
    # ProzessID of the xdomea exchange with the archive (0501 ... 0506 share it).
    xdomea_process_id: Mapped[str] = mapped_column(String(36), unique=True)

    items: Mapped[list[DisposalItem]] = relationship(
        back_populates="request", order_by="DisposalItem.id"
    )


class DisposalItem(Base):
    __tablename__ = "disposal_item"
    __table_args__ = (UniqueConstraint("request_id", "case_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("disposal_request.id"), index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_record.id"), index=True)
    action: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16), default=ItemState.pending.value, index=True)
    appraisal: Mapped[str] = mapped_column(String(1), default="")  # the archive's A or V
    archive_id: Mapped[str] = mapped_column(String(200), default="")
    # What execution destroyed so far (JSON list, one entry per document): the certificate is
    # written from it, so a resumed run certifies documents destroyed before a crash.
    progress: Mapped[str] = mapped_column(Text, default="[]")
    note: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime | None]

    request: Mapped[DisposalRequest] = relationship(back_populates="items")
    case: Mapped[Case] = relationship()


class DestructionCertificate(UuidMixin, CreatedMixin, Base):
    """R11: kept permanently; metadata and hashes of what was destroyed, never content."""

    __tablename__ = "destruction_certificate"

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenant.id"), index=True)
    # One certificate per case, whatever crashes and resumes happen in between.
    case_id: Mapped[int] = mapped_column(ForeignKey("case_record.id"), unique=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("disposal_request.id"), index=True)
    case_uuid: Mapped[str] = mapped_column(String(36))
    file_reference: Mapped[str] = mapped_column(String(120))
    title: Mapped[str] = mapped_column(String(500))
    node_code: Mapped[str] = mapped_column(String(64))
    node_title: Mapped[str] = mapped_column(String(300))
    org_unit: Mapped[str] = mapped_column(String(200), default="")
    dates: Mapped[str] = mapped_column(Text, default="{}")  # JSON: created, closed, event, end
    schedule: Mapped[str] = mapped_column(Text, default="{}")  # JSON: name, basis, period, action
    proposer: Mapped[str] = mapped_column(String(80))
    approver: Mapped[str] = mapped_column(String(80))
    executed_by: Mapped[str] = mapped_column(String(80))
    destroyed_at: Mapped[datetime]
    method: Mapped[str] = mapped_column(Text)
    archive_id: Mapped[str] = mapped_column(String(200), default="")
    manifest: Mapped[str] = mapped_column(Text, default="[]")  # JSON: documents, files, sha256
    pdf_key: Mapped[str] = mapped_column(String(1024), default="")
    pdf_version_id: Mapped[str] = mapped_column(String(128), default="")
    pdf_sha256: Mapped[str] = mapped_column(String(64), default="")


class TransferMessage(UuidMixin, CreatedMixin, Base):
    """An xdomea message sent to (0501, 0503) or received from (0502, 0506) the archive."""

    __tablename__ = "transfer_message"

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenant.id"), index=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("disposal_request.id"), index=True)
    direction: Mapped[str] = mapped_column(String(3))  # "out" / "in"
    message_type: Mapped[str] = mapped_column(String(4))
    file_name: Mapped[str] = mapped_column(String(300))
    sha256: Mapped[str] = mapped_column(String(64))
    object_count: Mapped[int] = mapped_column(default=0)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))


# The disposal list (R8) filters on these; one index answers it at 100,000 cases.
Index(
    "ix_case_record_due",
    Case.tenant_id,
    Case.disposal_state,
    Case.status,
    Case.retention_end,
)

# The xdomea 4.0.0 exchange's tables (issue 27) map on the same Base: whoever needs retention's
# whole metadata (migrations, the schema comparison) gets them with this module.
from retention.xdomea4 import models as _xdomea4_models  # noqa: E402, F401
