"""The append-only, hash-chained audit trail (R20, R21)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from eakte.models.base import Base


class AuditEvent(Base):
    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime]
    tenant_id: Mapped[int | None] = mapped_column(ForeignKey("tenant.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    username: Mapped[str] = mapped_column(String(80), default="")
    action: Mapped[str] = mapped_column(String(40), index=True)
    object_type: Mapped[str] = mapped_column(String(40), default="")
    object_uuid: Mapped[str] = mapped_column(String(36), default="", index=True)
    outcome: Mapped[str] = mapped_column(String(16), default="ok")
    details: Mapped[str] = mapped_column(Text, default="{}")  # canonical JSON
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHead(Base):
    """One row: the chain's last entry. Writers lock it, so concurrent writers never fork."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(primary_key=True)
    last_id: Mapped[int] = mapped_column(default=0)
    last_hash: Mapped[str] = mapped_column(String(64))


class AuditAnchor(Base):
    """An anchor written to the bucket (see ``eakte.audit_anchors``). Only an index for the
    anchor job (has the head moved since?); verify trusts the bucket, never these rows."""

    __tablename__ = "audit_anchor"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime]
    last_id: Mapped[int] = mapped_column(index=True)
    last_hash: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(16))
    key: Mapped[str] = mapped_column(String(200), unique=True)
    timestamped: Mapped[bool] = mapped_column(default=False)


class PreviewView(Base):
    """When a user's preview of a document was last audited as a view (R20): one row per user
    and document, so at most one audit entry per user, document and hour."""

    __tablename__ = "preview_view"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True
    )
    document_id: Mapped[int] = mapped_column(
        ForeignKey("document.id", ondelete="CASCADE"), primary_key=True
    )
    hour: Mapped[int]  # hours since the epoch (UTC) of the last audited view
