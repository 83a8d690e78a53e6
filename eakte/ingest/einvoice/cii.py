"""Reading an invoice in CII (UN/CEFACT Cross Industry Invoice D16B)."""

from __future__ import annotations

from xml.etree.ElementTree import Element

from eakte.ingest.einvoice.elements import Finder, text_of
from eakte.ingest.einvoice.german import period
from eakte.ingest.einvoice.model import Invoice, Line, Party, TaxRow


def read(root: Element) -> Invoice:
    x = Finder(root)
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
        period=period(
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
            Finder(ref).text("ram:IssuerAssignedID") or "Anlage"
            for ref in x.all(f"{agreement}/ram:AdditionalReferencedDocument")
        ],
    )
    for tax in x.all(f"{settlement}/ram:ApplicableTradeTax"):
        t = Finder(tax)
        invoice.taxes.append(
            TaxRow(
                category=t.text("ram:CategoryCode"),
                percent=t.text("ram:RateApplicablePercent"),
                basis=t.text("ram:BasisAmount"),
                amount=t.text("ram:CalculatedAmount"),
            )
        )
    for element in x.all("rsm:SupplyChainTradeTransaction/ram:IncludedSupplyChainTradeLineItem"):
        line = Finder(element)
        quantity = line.find("ram:SpecifiedLineTradeDelivery/ram:BilledQuantity")
        invoice.lines.append(
            Line(
                id=line.text("ram:AssociatedDocumentLineDocument/ram:LineID"),
                name=line.text("ram:SpecifiedTradeProduct/ram:Name"),
                description=line.text("ram:SpecifiedTradeProduct/ram:Description"),
                quantity=text_of(quantity),
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
    p = Finder(element)
    a = "ram:PostalTradeAddress"
    lines = [p.text(f"{a}/ram:LineOne"), p.text(f"{a}/ram:LineTwo")]
    lines.append(
        " ".join(filter(None, [p.text(f"{a}/ram:PostcodeCode"), p.text(f"{a}/ram:CityName")]))
    )
    lines.append(p.text(f"{a}/ram:CountryID"))
    vat = ""
    for registration in p.all("ram:SpecifiedTaxRegistration/ram:ID"):
        if registration.get("schemeID") == "VA":
            vat = text_of(registration)
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
