"""Mail files (issue 25): a message document and the documents of its attachments."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from eakte.models.base import Base


class MailMessage(Base):
    """A document that is a mail message (.eml or .msg): what it is found by (Message-ID)
    and whether all its attachments have been taken in (a crash in between is finished by
    the next run)."""

    __tablename__ = "mail_message"
    __table_args__ = (Index("ix_mail_message_tenant_message_id", "tenant_id", "message_id"),)

    document_id: Mapped[int] = mapped_column(ForeignKey("document.id"), primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenant.id"))
    message_id: Mapped[str] = mapped_column(String(500), default="")  # indexed: bounded
    subject: Mapped[str] = mapped_column(String(500), default="")
    sender: Mapped[str] = mapped_column(String(500), default="")
    sent_at: Mapped[datetime | None]
    attachment_count: Mapped[int] = mapped_column(Integer, default=0)
    complete: Mapped[bool] = mapped_column(default=False)


class MailAttachment(Base):
    """One attachment of a message: the document it became, or its quarantine entry."""

    __tablename__ = "mail_attachment"
    __table_args__ = (UniqueConstraint("message_document_id", "part_index"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    message_document_id: Mapped[int] = mapped_column(ForeignKey("document.id"), index=True)
    part_index: Mapped[int] = mapped_column(Integer)  # 1-based, in the message's order
    filename: Mapped[str] = mapped_column(String(300), default="")  # as the message names it
    document_id: Mapped[int | None] = mapped_column(ForeignKey("document.id"), index=True)
    quarantined_file_id: Mapped[int | None] = mapped_column(
        ForeignKey("quarantined_file.id"), index=True
    )
