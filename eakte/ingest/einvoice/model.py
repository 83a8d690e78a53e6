"""The e-invoice as read from either syntax: parties, lines, tax rows and totals as written,
what it is (invoice or credit note), which mandatory fields it lacks, and what is kept of it
as the document's fields."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from eakte.ingest.einvoice.german import amount, parse_date
from eakte.services.fields import FieldValue


@dataclass
class Party:
    name: str = ""
    address: list[str] = field(default_factory=list)
    vat_id: str = ""
    contact: str = ""
    email: str = ""


@dataclass
class Line:
    id: str = ""
    name: str = ""
    description: str = ""
    quantity: str = ""
    unit: str = ""
    price: str = ""
    amount: str = ""
    vat_percent: str = ""


@dataclass
class TaxRow:
    category: str = ""
    percent: str = ""
    basis: str = ""
    amount: str = ""


@dataclass
class Invoice:
    syntax: str  # UBL or CII
    credit_note_root: bool = False
    specification: str = ""  # BT-24, e.g. urn:cen.eu:en16931:2017#compliant#...xrechnung_3.0
    number: str = ""  # BT-1
    type_code: str = ""  # BT-3
    issue_date: str = ""  # BT-2 as written
    due_date: str = ""  # BT-9 as written
    currency: str = ""  # BT-5
    buyer_reference: str = ""  # BT-10: the Leitweg-ID for public buyers
    order_reference: str = ""  # BT-13
    period: str = ""  # BG-14, readable
    seller: Party = field(default_factory=Party)
    buyer: Party = field(default_factory=Party)
    lines: list[Line] = field(default_factory=list)
    taxes: list[TaxRow] = field(default_factory=list)
    line_total: str = ""  # BT-106
    tax_exclusive: str = ""  # BT-109
    tax_total: str = ""  # BT-110
    tax_inclusive: str = ""  # BT-112
    prepaid: str = ""  # BT-113
    payable: str = ""  # BT-115
    means_code: str = ""  # BT-81
    iban: str = ""  # BT-84
    bic: str = ""  # BT-86
    account_name: str = ""  # BT-85
    payment_reference: str = ""  # BT-83
    terms: str = ""  # BT-20
    notes: list[str] = field(default_factory=list)  # BT-22
    attachments: list[str] = field(default_factory=list)  # BG-24, names only
    source: str = ""  # where the XML came from: "" (the file itself) or the PDF attachment

    # --- what it is

    @property
    def credit_note(self) -> bool:
        return self.credit_note_root or self.type_code in ("381", "396", "532")

    @property
    def kind(self) -> str:
        return "credit_note" if self.credit_note else "invoice"

    @property
    def kind_label(self) -> str:
        return "Gutschrift" if self.credit_note else "Rechnung"

    @property
    def issued(self) -> date | None:
        return parse_date(self.issue_date)

    @property
    def due(self) -> date | None:
        return parse_date(self.due_date)

    def title(self) -> str:
        parts = [f"{self.kind_label} {self.number}".strip()]
        if self.seller.name:
            parts.append(self.seller.name)
        return " – ".join(parts)

    def missing(self, german: bool = False) -> list[str]:
        """Mandatory fields (EN 16931 core, XRechnung's BT-10) that are empty or unreadable;
        in English for the record and logs, in German for the rendition."""
        required = [
            (self.number, "invoice number", "Rechnungsnummer", "BT-1"),
            (self.issue_date, "invoice date", "Rechnungsdatum", "BT-2"),
            (self.type_code, "invoice type", "Rechnungsart", "BT-3"),
            (self.currency, "currency", "Währung", "BT-5"),
            (self.buyer_reference, "buyer reference / Leitweg-ID", "Leitweg-ID", "BT-10"),
            (self.seller.name, "seller name", "Name des Verkäufers", "BT-27"),
            (self.buyer.name, "buyer name", "Name des Käufers", "BT-44"),
            (self.payable, "amount due for payment", "Zahlbetrag", "BT-115"),
            (self.lines, "invoice lines", "Rechnungspositionen", "BG-25"),
        ]
        problems = [
            f"{de if german else en} ({code})" for value, en, de, code in required if not value
        ]
        unreadable = [
            (self.issued is None, self.issue_date, "invoice date", "Rechnungsdatum", "BT-2"),
            (amount(self.payable) is None, self.payable, "amount due", "Zahlbetrag", "BT-115"),
        ]
        for bad, value, en, de, code in unreadable:
            if value and bad:
                said = (
                    f"{de} ({code}) ist nicht lesbar" if german else f"{en} ({code}) is unreadable"
                )
                problems.append(f"{said}: {value!r}")
        return problems

    def fields(self) -> list[FieldValue]:
        """What is kept as the document's fields (``document_field``)."""
        found = [
            FieldValue("invoice_type", self.kind),
            FieldValue("invoice_number", self.number),
            FieldValue("invoice_date", self.issue_date, value_date=self.issued),
            FieldValue("due_date", self.due_date, value_date=self.due),
            FieldValue("seller", self.seller.name),
            FieldValue("buyer", self.buyer.name),
            FieldValue("leitweg_id", self.buyer_reference),
            FieldValue(
                "amount_due", self.payable, value_number=amount(self.payable), unit=self.currency
            ),
            FieldValue("order_reference", self.order_reference),
            FieldValue("iban", self.iban),
            FieldValue("einvoice_format", self.format_label()),
        ]
        return [f for f in found if f.value]

    def format_label(self) -> str:
        xrechnung = "xrechnung" in self.specification.lower()
        name = "XRechnung" if xrechnung else "EN 16931"
        if self.source:
            name = f"ZUGFeRD/Factur-X ({name})"
        return f"{name}, {self.syntax}"
