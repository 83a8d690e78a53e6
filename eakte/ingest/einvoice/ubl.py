"""Reading an invoice or credit note in UBL (EN 16931 syntax binding, OASIS UBL 2.1)."""

from __future__ import annotations

from xml.etree.ElementTree import Element

from eakte.ingest.einvoice.elements import Finder, text_of
from eakte.ingest.einvoice.german import period
from eakte.ingest.einvoice.model import Invoice, Line, Party, TaxRow


def read(root: Element, credit_note: bool) -> Invoice:
    x = Finder(root)
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
        period=period(
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
            Finder(ref).text("cbc:ID") or "Anlage"
            for ref in x.all("cac:AdditionalDocumentReference")
        ],
    )
    for total in x.all("cac:TaxTotal"):
        t = Finder(total)
        if t.text("cbc:TaxAmount") and not invoice.tax_total:
            # The first TaxTotal is in the invoice currency (a second one may be in the VAT
            # accounting currency, BT-111).
            invoice.tax_total = t.text("cbc:TaxAmount")
        for sub in t.all("cac:TaxSubtotal"):
            s = Finder(sub)
            invoice.taxes.append(
                TaxRow(
                    category=s.text("cac:TaxCategory/cbc:ID"),
                    percent=s.text("cac:TaxCategory/cbc:Percent"),
                    basis=s.text("cbc:TaxableAmount"),
                    amount=s.text("cbc:TaxAmount"),
                )
            )
    for element in x.all(line_tag):
        line = Finder(element)
        quantity = line.find(quantity_tag)
        invoice.lines.append(
            Line(
                id=line.text("cbc:ID"),
                name=line.text("cac:Item/cbc:Name"),
                description=line.text("cac:Item/cbc:Description"),
                quantity=text_of(quantity),
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
    p = Finder(element)
    address = p.find("cac:PostalAddress")
    a = Finder(address) if address is not None else None
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
