"""Fields read from a document's content: an e-invoice's number, seller and amount today; the
values of a filled-in form or of recognition later (issue 25, issue 18)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import ForeignKey, Numeric, String, Text
from sqlalchemy.orm import Mapped, backref, mapped_column, relationship

from eakte.models.base import Base, CreatedMixin
from eakte.models.records import Document


class DocumentField(CreatedMixin, Base):
    """One named value of a document, as text, and typed where it is a date or a number
    (for sorting and ranges later); ``source`` says what read it (``einvoice``, ...)."""

    __tablename__ = "document_field"

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id"), index=True)
    source: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(100), index=True)
    position: Mapped[int] = mapped_column(default=0)  # the order the source gave
    value: Mapped[str] = mapped_column(Text)
    value_date: Mapped[date | None]
    value_number: Mapped[Decimal | None] = mapped_column(Numeric(20, 4))
    unit: Mapped[str] = mapped_column(String(20), default="")  # currency, unit of measure

    # ``document.fields`` without touching the records model.
    document: Mapped[Document] = relationship(
        backref=backref("fields", order_by="DocumentField.position", lazy="select")
    )
