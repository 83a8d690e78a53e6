"""E-invoices: XRechnung in both syntaxes (UBL, UN/CEFACT CII) and ZUGFeRD / Factur-X PDFs.

An XML file is an e-invoice by its structure: its root element and namespace (UBL ``Invoice``
or ``CreditNote``, CII ``CrossIndustryInvoice``), never by its name. Such a file is kept
byte-exact as the original; the worker renders a readable PDF/A of it (German), and its
fields (seller, number, dates, amount, Leitweg-ID, ...) are kept as document fields and go
into the search text. A ZUGFeRD / Factur-X PDF carries the same XML as an embedded file; that
XML is read the same way, while the PDF itself stays what is archived and rendered.

XML from outside is read with defusedxml (no DTDs, no entities, no external references) under
limits on size, nesting depth and element count, so a hostile file costs little and ends in
quarantine with a reason. An invoice that parses but lacks mandatory fields is still a
received document: it is taken in with a note saying what is missing.
"""

from __future__ import annotations

import dataclasses
import logging
import xml.parsers.expat
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING
from xml.etree.ElementTree import Element, ParseError

import defusedxml
from defusedxml import ElementTree as SafeET

from eakte.ingest.reasons import Reason, Rejected, plain
from eakte.ingest.render_pdf import Section, write_pdfa
from eakte.ingest.validate import Inspection
from eakte.services.fields import FieldValue

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from eakte.ingest.intake import IntakeContext
    from eakte.ingest.process import ProcessContext
    from storage.blobstore import BlobStore

log = logging.getLogger(__name__)

UBL_INVOICE = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
UBL_CREDIT_NOTE = "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2"
CII = "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"
ROOTS = {
    (UBL_INVOICE, "Invoice"): "UBL",
    (UBL_CREDIT_NOTE, "CreditNote"): "UBL",
    (CII, "CrossIndustryInvoice"): "CII",
}
NS = {
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
    "rsm": CII,
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
    "udt": "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100",
}
# The names ZUGFeRD 1/2, Factur-X and XRechnung-in-PDF give the embedded invoice.
EMBEDDED_NAMES = frozenset({"factur-x.xml", "zugferd-invoice.xml", "xrechnung.xml"})

MAX_XML_BYTES = 32 * 1024 * 1024  # invoices may embed attachments (BG-24) as base64
MAX_DEPTH = 64
MAX_ELEMENTS = 500_000
SNIFF_BYTES = 256 * 1024  # the root element comes after at most this much prologue

FLAG = "einvoice"
FLAG_INCOMPLETE = "einvoice_incomplete"


class InvoiceError(Exception):
    """The XML cannot be read as an e-invoice (not well-formed, beyond a limit)."""


class UnsafeXml(InvoiceError):
    """The XML declares a DTD, entities or external references: refused, never expanded."""


# ------------------------------------------------------------------------------ recognition


DOCTYPE = "#doctype"  # root_of's namespace for a root named only by an entity-laden DOCTYPE


class _Root(Exception):
    def __init__(self, name: str):
        self.name = name


def root_of(head: bytes) -> tuple[str, str] | None:
    """(namespace, local name) of the root element, read from the start of a file with
    expat: parsing stops at the root's start tag, so nothing of the body is read. A file
    that declares entities stops there, before any could be expanded: then the DOCTYPE's
    name stands for the root, its namespace ``DOCTYPE``. None: no root element in ``head``."""
    parser = xml.parsers.expat.ParserCreate(namespace_separator=" ")
    doctype = []

    def start(name, attributes):
        raise _Root(name)

    def entity(name, *args):
        raise _Root(f"{DOCTYPE} {doctype[0] if doctype else ''}")

    parser.StartElementHandler = start
    parser.StartDoctypeDeclHandler = lambda name, *args: doctype.append(name.rpartition(":")[2])
    parser.EntityDeclHandler = entity
    try:
        parser.Parse(head, False)
    except _Root as found:
        namespace, _, local = found.name.rpartition(" ")
        return namespace, local
    except (xml.parsers.expat.ExpatError, ValueError):
        return None
    return None


def syntax_of(head: bytes) -> str | None:
    """UBL or CII when ``head`` starts an e-invoice, else None. An XML that declares
    entities under an e-invoice's DOCTYPE counts as one, so that it is refused as such."""
    namespace, local = root_of(head) or ("", "")
    if namespace == DOCTYPE:
        return {"Invoice": "UBL", "CreditNote": "UBL", "CrossIndustryInvoice": "CII"}.get(local)
    return ROOTS.get((namespace, local))


def is_einvoice(path: Path) -> bool:
    with path.open("rb") as fh:
        return syntax_of(fh.read(SNIFF_BYTES)) is not None


# ---------------------------------------------------------------------------------- reading


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


def read_xml(source: Path | bytes) -> Invoice:
    """The invoice in an XML file or bytes; ``InvoiceError`` if it cannot be read."""
    size = source.stat().st_size if isinstance(source, Path) else len(source)
    if size > MAX_XML_BYTES:
        raise InvoiceError(f"the XML is larger than {MAX_XML_BYTES // (1024 * 1024)} MB")
    root = _parse_bounded(source)
    namespace, _, local = root.tag[1:].partition("}") if root.tag.startswith("{") else ("", "", "")
    syntax = ROOTS.get((namespace, local))
    if syntax is None:
        raise InvoiceError(f"the root element {root.tag!r} is not an e-invoice")
    if syntax == "UBL":
        return _read_ubl(root, credit_note=local == "CreditNote")
    return _read_cii(root)


def _parse_bounded(source: Path | bytes) -> Element:
    """defusedxml's parser (no DTD, entities or external references) with limits on depth
    and element count, checked while parsing."""
    import io

    stream = source.open("rb") if isinstance(source, Path) else io.BytesIO(source)
    depth = elements = 0
    root: Element | None = None
    try:
        with stream:
            events = SafeET.iterparse(stream, events=("start", "end"), forbid_dtd=True)
            for event, element in events:
                if event == "end":
                    depth -= 1
                    continue
                if root is None:
                    root = element
                depth += 1
                elements += 1
                if depth > MAX_DEPTH:
                    raise InvoiceError(f"the XML is nested deeper than {MAX_DEPTH} levels")
                if elements > MAX_ELEMENTS:
                    raise InvoiceError(f"the XML has more than {MAX_ELEMENTS:,} elements")
    except defusedxml.DefusedXmlException as exc:
        raise UnsafeXml(
            f"the XML declares a DTD or entities, which e-invoices never need ({exc})"
        ) from None
    except ParseError as exc:
        raise InvoiceError(f"the XML is not well-formed: {exc}") from None
    except (ValueError, LookupError, UnicodeError) as exc:  # e.g. an unknown encoding
        raise InvoiceError(f"the XML cannot be read: {exc}") from None
    if root is None:
        raise InvoiceError("the XML has no root element")
    return root


# --- UBL (EN 16931 syntax binding, OASIS UBL 2.1)


def _read_ubl(root: Element, credit_note: bool) -> Invoice:
    x = _Finder(root)
    line_tag, quantity_tag = (
        ("cac:CreditNoteLine", "cbc:CreditedQuantity")
        if credit_note
        else ("cac:InvoiceLine", "cbc:InvoicedQuantity")
    )
    invoice = Invoice(
        syntax="UBL",
        credit_note_root=credit_note,
        specification=x.text("cbc:CustomizationID"),
        number=x.text("cbc:ID"),
        type_code=x.text("cbc:CreditNoteTypeCode" if credit_note else "cbc:InvoiceTypeCode"),
        issue_date=x.text("cbc:IssueDate"),
        due_date=x.text("cbc:DueDate") or x.text("cac:PaymentMeans/cbc:PaymentDueDate"),
        currency=x.text("cbc:DocumentCurrencyCode"),
        buyer_reference=x.text("cbc:BuyerReference"),
        order_reference=x.text("cac:OrderReference/cbc:ID"),
        period=_period(
            x.text("cac:InvoicePeriod/cbc:StartDate"), x.text("cac:InvoicePeriod/cbc:EndDate")
        ),
        seller=_ubl_party(x.find("cac:AccountingSupplierParty/cac:Party")),
        buyer=_ubl_party(x.find("cac:AccountingCustomerParty/cac:Party")),
        line_total=x.text("cac:LegalMonetaryTotal/cbc:LineExtensionAmount"),
        tax_exclusive=x.text("cac:LegalMonetaryTotal/cbc:TaxExclusiveAmount"),
        tax_inclusive=x.text("cac:LegalMonetaryTotal/cbc:TaxInclusiveAmount"),
        prepaid=x.text("cac:LegalMonetaryTotal/cbc:PrepaidAmount"),
        payable=x.text("cac:LegalMonetaryTotal/cbc:PayableAmount"),
        means_code=x.text("cac:PaymentMeans/cbc:PaymentMeansCode"),
        iban=x.text("cac:PaymentMeans/cac:PayeeFinancialAccount/cbc:ID"),
        account_name=x.text("cac:PaymentMeans/cac:PayeeFinancialAccount/cbc:Name"),
        bic=x.text(
            "cac:PaymentMeans/cac:PayeeFinancialAccount/cac:FinancialInstitutionBranch/cbc:ID"
        ),
        payment_reference=x.text("cac:PaymentMeans/cbc:PaymentID"),
        terms=x.text("cac:PaymentTerms/cbc:Note"),
        notes=x.texts("cbc:Note"),
        attachments=[
            _Finder(ref).text("cbc:ID") or "Anlage"
            for ref in x.all("cac:AdditionalDocumentReference")
        ],
    )
    for total in x.all("cac:TaxTotal"):
        t = _Finder(total)
        if t.text("cbc:TaxAmount") and not invoice.tax_total:
            # The first TaxTotal is in the invoice currency (a second one may be in the VAT
            # accounting currency, BT-111).
            invoice.tax_total = t.text("cbc:TaxAmount")
        for sub in t.all("cac:TaxSubtotal"):
            s = _Finder(sub)
            invoice.taxes.append(
                TaxRow(
                    category=s.text("cac:TaxCategory/cbc:ID"),
                    percent=s.text("cac:TaxCategory/cbc:Percent"),
                    basis=s.text("cbc:TaxableAmount"),
                    amount=s.text("cbc:TaxAmount"),
                )
            )
    for element in x.all(line_tag):
        line = _Finder(element)
        quantity = line.find(quantity_tag)
        invoice.lines.append(
            Line(
                id=line.text("cbc:ID"),
                name=line.text("cac:Item/cbc:Name"),
                description=line.text("cac:Item/cbc:Description"),
                quantity=_text(quantity),
                unit=quantity.get("unitCode", "") if quantity is not None else "",
                price=line.text("cac:Price/cbc:PriceAmount"),
                amount=line.text("cbc:LineExtensionAmount"),
                vat_percent=line.text("cac:Item/cac:ClassifiedTaxCategory/cbc:Percent"),
            )
        )
    return invoice


def _ubl_party(element: Element | None) -> Party:
    if element is None:
        return Party()
    p = _Finder(element)
    address = p.find("cac:PostalAddress")
    a = _Finder(address) if address is not None else None
    lines = []
    if a is not None:
        lines = [a.text("cbc:StreetName"), a.text("cbc:AdditionalStreetName")]
        lines.append(" ".join(filter(None, [a.text("cbc:PostalZone"), a.text("cbc:CityName")])))
        lines.append(a.text("cac:Country/cbc:IdentificationCode"))
    return Party(
        name=p.text("cac:PartyLegalEntity/cbc:RegistrationName")
        or p.text("cac:PartyName/cbc:Name"),
        address=[line for line in lines if line],
        vat_id=p.text("cac:PartyTaxScheme/cbc:CompanyID"),
        contact=" ".join(
            filter(None, [p.text("cac:Contact/cbc:Name"), p.text("cac:Contact/cbc:Telephone")])
        ),
        email=p.text("cac:Contact/cbc:ElectronicMail"),
    )


# --- CII (UN/CEFACT Cross Industry Invoice D16B)


def _read_cii(root: Element) -> Invoice:
    x = _Finder(root)
    agreement = "rsm:SupplyChainTradeTransaction/ram:ApplicableHeaderTradeAgreement"
    settlement = "rsm:SupplyChainTradeTransaction/ram:ApplicableHeaderTradeSettlement"
    sums = f"{settlement}/ram:SpecifiedTradeSettlementHeaderMonetarySummation"
    means = f"{settlement}/ram:SpecifiedTradeSettlementPaymentMeans"
    invoice = Invoice(
        syntax="CII",
        specification=x.text(
            "rsm:ExchangedDocumentContext/ram:GuidelineSpecifiedDocumentContextParameter/ram:ID"
        ),
        number=x.text("rsm:ExchangedDocument/ram:ID"),
        type_code=x.text("rsm:ExchangedDocument/ram:TypeCode"),
        issue_date=x.text("rsm:ExchangedDocument/ram:IssueDateTime/udt:DateTimeString"),
        due_date=x.text(
            f"{settlement}/ram:SpecifiedTradePaymentTerms/ram:DueDateDateTime/udt:DateTimeString"
        ),
        currency=x.text(f"{settlement}/ram:InvoiceCurrencyCode"),
        buyer_reference=x.text(f"{agreement}/ram:BuyerReference"),
        order_reference=x.text(
            f"{agreement}/ram:BuyerOrderReferencedDocument/ram:IssuerAssignedID"
        ),
        period=_period(
            x.text(f"{settlement}/ram:BillingSpecifiedPeriod/ram:StartDateTime/udt:DateTimeString"),
            x.text(f"{settlement}/ram:BillingSpecifiedPeriod/ram:EndDateTime/udt:DateTimeString"),
        ),
        seller=_cii_party(x.find(f"{agreement}/ram:SellerTradeParty")),
        buyer=_cii_party(x.find(f"{agreement}/ram:BuyerTradeParty")),
        line_total=x.text(f"{sums}/ram:LineTotalAmount"),
        tax_exclusive=x.text(f"{sums}/ram:TaxBasisTotalAmount"),
        tax_total=x.text(f"{sums}/ram:TaxTotalAmount"),
        tax_inclusive=x.text(f"{sums}/ram:GrandTotalAmount"),
        prepaid=x.text(f"{sums}/ram:TotalPrepaidAmount"),
        payable=x.text(f"{sums}/ram:DuePayableAmount"),
        means_code=x.text(f"{means}/ram:TypeCode"),
        iban=x.text(f"{means}/ram:PayeePartyCreditorFinancialAccount/ram:IBANID"),
        account_name=x.text(f"{means}/ram:PayeePartyCreditorFinancialAccount/ram:AccountName"),
        bic=x.text(f"{means}/ram:PayeeSpecifiedCreditorFinancialInstitution/ram:BICID"),
        payment_reference=x.text(f"{settlement}/ram:PaymentReference"),
        terms=x.text(f"{settlement}/ram:SpecifiedTradePaymentTerms/ram:Description"),
        notes=x.texts("rsm:ExchangedDocument/ram:IncludedNote/ram:Content"),
        attachments=[
            _Finder(ref).text("ram:IssuerAssignedID") or "Anlage"
            for ref in x.all(f"{agreement}/ram:AdditionalReferencedDocument")
        ],
    )
    for tax in x.all(f"{settlement}/ram:ApplicableTradeTax"):
        t = _Finder(tax)
        invoice.taxes.append(
            TaxRow(
                category=t.text("ram:CategoryCode"),
                percent=t.text("ram:RateApplicablePercent"),
                basis=t.text("ram:BasisAmount"),
                amount=t.text("ram:CalculatedAmount"),
            )
        )
    for element in x.all("rsm:SupplyChainTradeTransaction/ram:IncludedSupplyChainTradeLineItem"):
        line = _Finder(element)
        quantity = line.find("ram:SpecifiedLineTradeDelivery/ram:BilledQuantity")
        invoice.lines.append(
            Line(
                id=line.text("ram:AssociatedDocumentLineDocument/ram:LineID"),
                name=line.text("ram:SpecifiedTradeProduct/ram:Name"),
                description=line.text("ram:SpecifiedTradeProduct/ram:Description"),
                quantity=_text(quantity),
                unit=quantity.get("unitCode", "") if quantity is not None else "",
                price=line.text(
                    "ram:SpecifiedLineTradeAgreement/ram:NetPriceProductTradePrice/ram:ChargeAmount"
                ),
                amount=line.text(
                    "ram:SpecifiedLineTradeSettlement/"
                    "ram:SpecifiedTradeSettlementLineMonetarySummation/ram:LineTotalAmount"
                ),
                vat_percent=line.text(
                    "ram:SpecifiedLineTradeSettlement/ram:ApplicableTradeTax/ram:RateApplicablePercent"
                ),
            )
        )
    return invoice


def _cii_party(element: Element | None) -> Party:
    if element is None:
        return Party()
    p = _Finder(element)
    a = "ram:PostalTradeAddress"
    lines = [p.text(f"{a}/ram:LineOne"), p.text(f"{a}/ram:LineTwo")]
    lines.append(
        " ".join(filter(None, [p.text(f"{a}/ram:PostcodeCode"), p.text(f"{a}/ram:CityName")]))
    )
    lines.append(p.text(f"{a}/ram:CountryID"))
    vat = ""
    for registration in p.all("ram:SpecifiedTaxRegistration/ram:ID"):
        if registration.get("schemeID") == "VA":
            vat = _text(registration)
    contact = "ram:DefinedTradeContact"
    return Party(
        name=p.text("ram:Name"),
        address=[line for line in lines if line],
        vat_id=vat,
        contact=" ".join(
            filter(
                None,
                [
                    p.text(f"{contact}/ram:PersonName"),
                    p.text(f"{contact}/ram:TelephoneUniversalCommunication/ram:CompleteNumber"),
                ],
            )
        ),
        email=p.text(f"{contact}/ram:EmailURIUniversalCommunication/ram:URIID"),
    )


class _Finder:
    """Namespace-aware lookups that answer '' for what is not there."""

    def __init__(self, element: Element):
        self.element = element

    def find(self, path: str) -> Element | None:
        return self.element.find(path, NS)

    def all(self, path: str) -> list[Element]:
        return self.element.findall(path, NS)

    def text(self, path: str) -> str:
        return _text(self.find(path))

    def texts(self, path: str) -> list[str]:
        return [t for t in (_text(e) for e in self.all(path)) if t]


def _text(element: Element | None) -> str:
    if element is None or element.text is None:
        return ""
    return " ".join(element.text.split())[:2000]


def _period(start: str, end: str) -> str:
    if not (start or end):
        return ""
    return f"{german_date(start) or '…'} – {german_date(end) or '…'}"


# ------------------------------------------------------------------------ values, German


def parse_date(text: str) -> date | None:
    """UBL dates (2026-01-31) and CII format 102 (20260131)."""
    for pattern in ("%Y-%m-%d", "%Y%m%d"):
        try:
            return datetime.strptime(text.strip(), pattern).date()
        except ValueError:
            continue
    return None


def german_date(text: str) -> str:
    parsed = parse_date(text) if text else None
    return parsed.strftime("%d.%m.%Y") if parsed else text


def amount(text: str) -> Decimal | None:
    try:
        value = Decimal(text.strip())
    except (InvalidOperation, AttributeError):
        return None
    return value if value.is_finite() else None


def german_number(text: str, places: int | None = None) -> str:
    """1234.5 → 1.234,50 (``places``: at least this many decimals); text that is not a
    number stays as written."""
    value = amount(text) if text else None
    if value is None:
        return text
    decimals = max(places or 0, -value.as_tuple().exponent if value.as_tuple().exponent < 0 else 0)
    formatted = f"{value:,.{decimals}f}"
    return formatted.replace(",", "\x00").replace(".", ",").replace("\x00", ".")


def money(text: str, currency: str) -> str:
    return f"{german_number(text, 2)} {currency}".strip() if text else ""


TYPE_CODES = {
    "326": "Teilrechnung",
    "380": "Rechnung",
    "381": "Gutschrift (Rechnungskorrektur)",
    "384": "Korrigierte Rechnung",
    "389": "Selbst ausgestellte Rechnung",
    "875": "Teilschlussrechnung (Bau)",
    "876": "Abschlagsrechnung (Bau)",
    "877": "Schlussrechnung (Bau)",
}
UNITS = {
    "C62": "Stück",
    "H87": "Stück",
    "EA": "Stück",
    "XPP": "Stück",
    "HUR": "Std.",
    "MIN": "Min.",
    "DAY": "Tage",
    "WEE": "Wochen",
    "MON": "Monate",
    "ANN": "Jahre",
    "KGM": "kg",
    "TNE": "t",
    "MTR": "m",
    "MTK": "m²",
    "MTQ": "m³",
    "LTR": "l",
    "KWH": "kWh",
    "LS": "pauschal",
    "SET": "Satz",
    "P1": "%",
}
PAYMENT_MEANS = {
    "1": "nicht angegeben",
    "10": "Barzahlung",
    "30": "Überweisung",
    "31": "Überweisung",
    "42": "Zahlung auf Bankkonto",
    "48": "Kartenzahlung",
    "49": "Lastschrift",
    "57": "Dauerauftrag",
    "58": "SEPA-Überweisung",
    "59": "SEPA-Lastschrift",
    "97": "Verrechnung",
}
TAX_CATEGORIES = {
    "S": "Normalsatz",
    "Z": "Nullsatz",
    "E": "steuerbefreit",
    "AE": "Steuerschuldnerschaft des Leistungsempfängers",
    "K": "innergemeinschaftliche Lieferung",
    "G": "Ausfuhr",
    "O": "nicht steuerbar",
    "L": "IGIC",
    "M": "IPSI",
}


def _coded(table: dict[str, str], code: str) -> str:
    return f"{table[code]} ({code})" if code in table else code


# ------------------------------------------------------------------------------- rendering


def sections(invoice: Invoice, problems: list[str] | None = None) -> list[Section]:
    """The invoice as a German, readable page: what the PDF/A rendition shows."""
    cur = invoice.currency
    out = [
        Section(
            "Rechnungsangaben",
            _rows(
                ("Art", _coded(TYPE_CODES, invoice.type_code) or invoice.kind_label),
                ("Rechnungsnummer", invoice.number),
                ("Rechnungsdatum", german_date(invoice.issue_date)),
                ("Fällig am", german_date(invoice.due_date)),
                ("Leitweg-ID (Käuferreferenz)", invoice.buyer_reference),
                ("Bestellnummer", invoice.order_reference),
                ("Leistungszeitraum", invoice.period),
                ("Währung", cur),
                ("Format", invoice.format_label()),
                ("Spezifikation", invoice.specification),
            ),
        ),
        Section("Verkäufer", _party_rows(invoice.seller)),
        Section("Käufer", _party_rows(invoice.buyer)),
    ]
    line_rows = []
    for number, line in enumerate(invoice.lines, 1):
        label = f"Pos. {line.id or number}"
        quantity = " ".join(filter(None, [german_number(line.quantity), _unit(line.unit)]))
        price = money(line.price, cur)
        detail = [line.name or "(ohne Bezeichnung)"]
        if line.description and line.description != line.name:
            detail.append(line.description)
        figures = "Menge: " + (quantity or "–")
        if price:
            figures += f" × Einzelpreis {price}"
        figures += f" = {money(line.amount, cur) or '–'}"
        if line.vat_percent:
            figures += f" (USt {german_number(line.vat_percent)} %)"
        detail.append(figures)
        line_rows.append((label, "\n".join(detail)))
    out.append(Section("Positionen", line_rows or [("–", "keine Positionen angegeben")]))
    tax_rows = [
        (
            " ".join(
                filter(
                    None,
                    [
                        f"{german_number(t.percent)} %" if t.percent else "",
                        f"– {_coded(TAX_CATEGORIES, t.category)}" if t.category else "",
                    ],
                )
            )
            or "USt",
            f"Bemessungsgrundlage {money(t.basis, cur) or '–'}, "
            f"Steuer {money(t.amount, cur) or '–'}",
        )
        for t in invoice.taxes
    ]
    if tax_rows:
        out.append(Section("Umsatzsteuer", tax_rows))
    out.append(
        Section(
            "Summen",
            _rows(
                ("Summe der Positionen (netto)", money(invoice.line_total, cur)),
                ("Gesamtbetrag ohne USt", money(invoice.tax_exclusive, cur)),
                ("Umsatzsteuer", money(invoice.tax_total, cur)),
                ("Gesamtbetrag mit USt", money(invoice.tax_inclusive, cur)),
                ("Bereits gezahlt", money(invoice.prepaid, cur)),
                ("Zahlbetrag", money(invoice.payable, cur)),
            ),
        )
    )
    payment = _rows(
        ("Zahlungsart", _coded(PAYMENT_MEANS, invoice.means_code)),
        ("IBAN", _spaced_iban(invoice.iban)),
        ("BIC", invoice.bic),
        ("Kontoinhaber", invoice.account_name),
        ("Verwendungszweck", invoice.payment_reference),
        ("Zahlungsbedingungen", invoice.terms),
    )
    if payment:
        out.append(Section("Zahlung", payment))
    if invoice.notes:
        out.append(Section("Bemerkungen", paragraphs=invoice.notes))
    if invoice.attachments:
        out.append(Section("Anlagen (in der XML-Datei enthalten)", paragraphs=invoice.attachments))
    notes = [
        "Diese Ansicht hat eAkte aus der elektronischen Rechnung erzeugt. Maßgeblich ist die "
        "XML-Datei, die unverändert als Original aufbewahrt wird."
    ]
    if problems:
        notes.insert(0, "Es fehlen Pflichtangaben: " + "; ".join(problems))
    out.append(Section("Hinweise", paragraphs=notes))
    return out


def _rows(*pairs: tuple[str, str]) -> list[tuple[str, str]]:
    return [(label, value) for label, value in pairs if value]


def _party_rows(party: Party) -> list[tuple[str, str]]:
    return _rows(
        ("Name", party.name),
        ("Anschrift", "\n".join(party.address)),
        ("USt-IdNr.", party.vat_id),
        ("Kontakt", party.contact),
        ("E-Mail", party.email),
    ) or [("Name", "(nicht angegeben)")]


def _unit(code: str) -> str:
    return UNITS.get(code, code)


def _spaced_iban(iban: str) -> str:
    compact = "".join(iban.split())
    return " ".join(compact[i : i + 4] for i in range(0, len(compact), 4))


def render(invoice: Invoice, target: Path) -> None:
    """The PDF/A rendition of an invoice."""
    title = f"{invoice.kind_label} {invoice.number}".strip()
    if invoice.seller.name:
        title += f" – {invoice.seller.name}"
    write_pdfa(target, title, sections(invoice, invoice.missing(german=True)))


# ------------------------------------------------------------------------- ZUGFeRD / Factur-X


@dataclass
class Embedded:
    """What a PDF carries: the invoice XML (if found), whether every embedded file is that
    XML (then embedded files are expected, not a warning), and a problem to note."""

    invoice: Invoice | None = None
    only_invoice: bool = False
    problem: str = ""


def read_pdf(path: Path) -> Embedded:
    """The e-invoice embedded in a PDF (ZUGFeRD / Factur-X / XRechnung in /AF or the
    EmbeddedFiles name tree), read with the same bounds as an XML file."""
    import pikepdf

    with path.open("rb") as stream, pikepdf.open(stream) as pdf:
        specs = list(_file_specs(pdf))
        found = [spec for spec in specs if _spec_name(spec).lower() in EMBEDDED_NAMES]
        if not found:
            return Embedded()
        only = {_identity(spec) for spec in specs} == {_identity(found[0])}
        try:
            data = _embedded_bytes(found[0])
            invoice = read_xml(data)
        except InvoiceError as exc:
            return Embedded(problem=f"the embedded e-invoice cannot be read: {plain(exc)}")
    invoice.source = _spec_name(found[0])
    return Embedded(invoice=invoice, only_invoice=only)


def _file_specs(pdf) -> Iterator:
    """Every file specification with an embedded file, once (indirect objects and those
    written directly inside them, e.g. in /AF arrays or name trees)."""
    import pikepdf

    from eakte.ingest.bounds import direct_parts

    seen: set = set()
    for top in pdf.objects:
        for obj, _ in direct_parts(top):
            if isinstance(obj, pikepdf.Dictionary) and "/EF" in obj:
                key = _identity(obj)
                if key not in seen:
                    seen.add(key)
                    yield obj


def _identity(spec) -> object:
    return spec.objgen if spec.is_indirect else id(spec)


def _spec_name(spec) -> str:
    for key in ("/UF", "/F"):
        value = spec.get(key)
        if value is not None:
            try:
                return str(value)
            except (ValueError, TypeError):
                continue
    return ""


def _embedded_bytes(spec) -> bytes:
    """The embedded file, decompressed with a bound (a small stream could inflate to
    gigabytes); other filters than Flate are not expected in e-invoices."""
    import pikepdf

    ef = spec.get("/EF")
    stream = ef.get("/F") or ef.get("/UF") if isinstance(ef, pikepdf.Dictionary) else None
    if not isinstance(stream, pikepdf.Stream):
        raise InvoiceError("the embedded file has no content")
    filters = stream.get("/Filter")
    names = [filters] if isinstance(filters, pikepdf.Name) else list(filters or [])
    raw = stream.read_raw_bytes()
    if len(raw) > MAX_XML_BYTES:
        raise InvoiceError("the embedded XML is too large")
    if not names:
        return raw
    if [str(n) for n in names] != ["/FlateDecode"] or "/DecodeParms" in stream:
        raise InvoiceError(f"the embedded XML is encoded with {names}, not read")
    inflate = zlib.decompressobj()
    try:
        data = inflate.decompress(raw, MAX_XML_BYTES + 1)
    except zlib.error as exc:
        raise InvoiceError(f"the embedded XML cannot be decompressed: {exc}") from None
    if len(data) > MAX_XML_BYTES:
        raise InvoiceError(f"the embedded XML is larger than {MAX_XML_BYTES // (1024 * 1024)} MB")
    return data


# --------------------------------------------------------------------- intake and worker


@dataclass
class InvoiceInspection(Inspection):
    invoice: Invoice | None = None


def inspect_xml(path: Path) -> InvoiceInspection:
    """The checks of ``validate`` for an XML e-invoice: read in full under the bounds (a
    file that cannot be read is quarantined); what is missing becomes a note."""
    try:
        invoice = read_xml(path)
    except UnsafeXml as exc:
        raise Rejected(Reason.xml_unsafe, str(exc)) from None
    except InvoiceError as exc:
        raise Rejected(Reason.xml_damaged, str(exc)) from None
    return InvoiceInspection(mime="", kind="einvoice", pages=0, invoice=invoice)


def read_invoice(session: Session, store: BlobStore, ctx: IntakeContext) -> None:
    """An intake step: an e-invoice (an XML one, or the XML inside a ZUGFeRD / Factur-X PDF)
    gives the document its fields, and its title, type and correspondent where the person
    taking it in left them empty."""
    inspection = ctx.inspection
    if inspection is None:
        return
    invoice = getattr(inspection, "invoice", None)
    if inspection.kind == "pdf" and "embedded_files" in inspection.flags:
        try:
            embedded = read_pdf(ctx.path)
        except Exception as exc:  # the PDF passed validate: a reading problem is only a note
            log.warning("reading the embedded e-invoice of %s failed: %s", ctx.source, exc)
            embedded = Embedded(problem=f"the embedded e-invoice cannot be read: {plain(exc)}")
        if embedded.problem:
            inspection.anomalies.append(embedded.problem)
        invoice = embedded.invoice
        if invoice is not None and embedded.only_invoice:
            # The one embedded file is the invoice a ZUGFeRD PDF must carry: expected.
            inspection.flags.remove("embedded_files")
            inspection.anomalies[:] = [a for a in inspection.anomalies if "embedded files" not in a]
    if invoice is None:
        return
    inspection.flags.append(FLAG)
    problems = invoice.missing()
    if problems:
        inspection.flags.append(FLAG_INCOMPLETE)
        inspection.anomalies.append("e-invoice lacks mandatory fields: " + "; ".join(problems))
    ctx.fields = invoice.fields()
    metadata = ctx.metadata
    ctx.metadata = dataclasses.replace(
        metadata,
        title=metadata.title or invoice.title(),
        doc_type=metadata.doc_type or invoice.kind_label,
        correspondent=metadata.correspondent or invoice.seller.name,
    )


def prepare(ctx: ProcessContext) -> None:
    """In the worker (confined child): the XML rendered to a PDF/A, which is the rendition
    and its text (no OCR)."""
    from eakte.ingest.process import Failure
    from eakte.ingest.text import page_texts

    try:
        invoice = read_xml(ctx.local)
    except InvoiceError as exc:
        raise Failure(str(exc)) from None
    ctx.rendition = ctx.pdf = ctx.workdir / "rendition.pdf"
    render(invoice, ctx.rendition)
    ctx.texts = page_texts(ctx.rendition)
    ctx.pages = len(ctx.texts)
    ctx.born_digital = False
