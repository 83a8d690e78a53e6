"""What recognition learned about a document (issue 18): the quality of each OCRed page, the
metadata it suggested (and what the clerk accepted), and the filing model of a tenant."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Float, ForeignKey, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from eakte.models.base import Base, CreatedMixin


class PageVerdict(enum.StrEnum):
    ok = "ok"  # above the thresholds
    low = "low"  # below: to be looked at in the batch check
    accepted = "accepted"  # below, and a person accepted it as it is
    rescanned = "rescanned"  # below, and replaced by a re-scan (the new page is assessed anew)


class PageQuality(CreatedMixin, Base):
    """One OCRed page: Tesseract's mean word confidence and the share of German dictionary
    words in its text (TR-RESISCAN quality check)."""

    __tablename__ = "page_quality"
    __table_args__ = (UniqueConstraint("document_id", "page"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenant.id"), index=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id"), index=True)
    page: Mapped[int]  # from 1
    confidence: Mapped[float | None] = mapped_column(Float)  # 0-100; None: no words recognised
    dictionary_share: Mapped[float | None] = mapped_column(Float)  # 0-1
    words: Mapped[int] = mapped_column(default=0)
    verdict: Mapped[str] = mapped_column(String(16), default=PageVerdict.ok.value)
    checked_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    checked_at: Mapped[datetime | None]


class MetadataSuggestion(CreatedMixin, Base):
    """A value recognition suggested for a document's field, and what the clerk accepted
    (``accepted`` None: not decided yet), so accuracy can be measured in use."""

    __tablename__ = "metadata_suggestion"
    __table_args__ = (UniqueConstraint("document_id", "field"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenant.id"), index=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id"), index=True)
    field: Mapped[str] = mapped_column(String(40))  # title, letter_date, sender, doc_type
    suggested: Mapped[str] = mapped_column(Text, default="")
    accepted: Mapped[str | None] = mapped_column(Text)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    decided_at: Mapped[datetime | None]


class FilingModel(CreatedMixin, Base):
    """A tenant's filing classifier, trained on its filed documents by the worker. The model
    is eAkte's own serialisation (``eakte.suggest.filing``), read only from this table."""

    __tablename__ = "filing_model"

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenant.id"), unique=True)
    trained_at: Mapped[datetime]
    documents: Mapped[int] = mapped_column(default=0)
    last_document_id: Mapped[int] = mapped_column(default=0)  # the newest filed one it saw
    model: Mapped[bytes] = mapped_column(LargeBinary)
    note: Mapped[str] = mapped_column(Text, default="")
