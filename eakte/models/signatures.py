"""Validated signatures of signed PDFs (issue 25): one row per signature of a document."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from eakte.models.base import Base


class PdfSignature(Base):
    """What the last validation found (``eakte.ingest.signatures``); replaced as a whole when
    the document's signatures are validated again."""

    __tablename__ = "pdf_signature"

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id"), index=True)
    position: Mapped[int] = mapped_column(default=0)  # order in the file
    field_name: Mapped[str] = mapped_column(String(300), default="")
    signer: Mapped[str] = mapped_column(String(300), default="")
    organisation: Mapped[str] = mapped_column(String(300), default="")
    email: Mapped[str] = mapped_column(String(300), default="")
    signing_time: Mapped[datetime | None]  # claimed by the signer
    timestamp_time: Mapped[datetime | None]  # from a timestamp token
    # valid, invalid, tampered, untrusted, expired, unknown
    status: Mapped[str] = mapped_column(String(16))
    trusted: Mapped[bool] = mapped_column(default=False)
    whole_document: Mapped[bool] = mapped_column(default=False)
    modified_after_signing: Mapped[bool] = mapped_column(default=False)
    qualified: Mapped[bool] = mapped_column(default=False)
    details: Mapped[str] = mapped_column(Text, default="")  # English
    validated_at: Mapped[datetime]
