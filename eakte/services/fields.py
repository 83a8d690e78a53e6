"""Document fields: named values read from a document's content (an e-invoice today).

They are kept in ``document_field`` and written into the document's search text, so that a
search for an invoice number or a Leitweg-ID finds the document whatever its pages say.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from eakte.models import Document
from eakte.models.fields import DocumentField

# German names in the search text, so that "Rechnungsnummer" or "Leitweg" find them too.
SEARCH_LABELS = {
    "invoice_type": "Rechnungsart",
    "invoice_number": "Rechnungsnummer",
    "invoice_date": "Rechnungsdatum",
    "due_date": "Fälligkeitsdatum",
    "seller": "Verkäufer",
    "buyer": "Käufer",
    "leitweg_id": "Leitweg-ID",
    "amount_due": "Zahlbetrag",
    "order_reference": "Bestellnummer",
    "iban": "IBAN",
    "einvoice_format": "E-Rechnung",
}
VALUES = {"invoice": "Rechnung", "credit_note": "Gutschrift"}
MAX_VALUE = 2000


@dataclass(frozen=True)
class FieldValue:
    name: str
    value: str
    value_date: date | None = None
    value_number: Decimal | None = None
    unit: str = ""


def attach(
    session: Session, document: Document, values: list[FieldValue], source: str = "einvoice"
) -> None:
    """In the caller's transaction: the values as the document's fields; a text already
    extracted (a born-digital PDF finished at intake) gets them for search."""
    for position, item in enumerate(values):
        session.add(
            DocumentField(
                document_id=document.id,
                source=source,
                name=item.name[:100],
                position=position,
                value=item.value[:MAX_VALUE],
                value_date=item.value_date,
                value_number=item.value_number,
                unit=item.unit[:20],
            )
        )
    if document.extracted_text:
        document.extracted_text = with_text(document.extracted_text, values)


def search_text(values: list[FieldValue]) -> str:
    """The fields as lines of text ("Rechnungsnummer: RE-2026-0042")."""
    lines = []
    for item in values:
        label = SEARCH_LABELS.get(item.name, item.name)
        value = VALUES.get(item.value, item.value)
        lines.append(f"{label}: {value} {item.unit}".strip())
    return "\n".join(lines)


def with_text(text: str, values: list[FieldValue]) -> str:
    extra = search_text(values)
    if not extra or extra in text:  # e.g. the text taken over from a duplicate
        return text
    return f"{text}\n\n{extra}".strip()


def with_stored_fields(session: Session, document_id: int, text: str) -> str:
    """``text`` with the fields the document already has (the worker's result)."""
    rows = session.scalars(
        select(DocumentField)
        .where(DocumentField.document_id == document_id)
        .order_by(DocumentField.position, DocumentField.id)
    ).all()
    values = [FieldValue(r.name, r.value, r.value_date, r.value_number, r.unit) for r in rows]
    return with_text(text, values)


def field_json(row: DocumentField) -> dict:
    return {
        "name": row.name,
        "value": row.value,
        "date": row.value_date.isoformat() if row.value_date else None,
        "number": str(row.value_number) if row.value_number is not None else None,
        "unit": row.unit or None,
        "source": row.source,
    }
