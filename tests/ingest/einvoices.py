# ruff: noqa: E501  (the XML samples are kept one element per line, as invoices are written)
"""E-invoices built by the tests: XRechnung 3.0 in UBL and CII syntax, a credit note, a
ZUGFeRD / Factur-X PDF (PDF/A-3 with ``factur-x.xml`` as an associated file) and hostile XML.
Realistic content (a Usingen supplier, umlauts, a Leitweg-ID), written here, no licence
questions."""

from __future__ import annotations

import io
from dataclasses import dataclass

import pikepdf

from tests.ingest.conftest import born_digital_pdf

XRECHNUNG = "urn:cen.eu:en16931:2017#compliant#urn:xeinkauf.de:kosit:xrechnung_3.0"
FACTURX_EN16931 = "urn:cen.eu:en16931:2017"


@dataclass(frozen=True)
class Sample:
    number: str = "RE-2026-0042"
    leitweg: str = "04011000-12345-34"
    seller: str = "Müller & Söhne Gebäudetechnik GmbH"
    buyer: str = "Stadt Usingen – Fachbereich Bauen"
    issued: str = "2026-11-20"
    due: str = "2026-12-04"
    payable: str = "1844.50"


def ubl_invoice(s: Sample = Sample(), *, credit_note: bool = False, omit: tuple = ()) -> bytes:
    root, line, qty, type_tag, code = (
        ("CreditNote", "CreditNoteLine", "CreditedQuantity", "CreditNoteTypeCode", "381")
        if credit_note
        else ("Invoice", "InvoiceLine", "InvoicedQuantity", "InvoiceTypeCode", "380")
    )
    ns = f"urn:oasis:names:specification:ubl:schema:xsd:{root}-2"

    def part(name: str, xml: str) -> str:
        return "" if name in omit else xml

    due = part("due", f"<cbc:DueDate>{s.due}</cbc:DueDate>") if not credit_note else ""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<ubl:{root} xmlns:ubl="{ns}"
  xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
  xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2">
  <cbc:CustomizationID>{XRECHNUNG}</cbc:CustomizationID>
  <cbc:ProfileID>urn:fdc:peppol.eu:2017:poacc:billing:01:1.0</cbc:ProfileID>
  {part("number", f"<cbc:ID>{s.number}</cbc:ID>")}
  <cbc:IssueDate>{s.issued}</cbc:IssueDate>
  {due}
  <cbc:{type_tag}>{code}</cbc:{type_tag}>
  <cbc:Note>Wartung der Heizungsanlage im Bürgerhaus, Straße „Am Weiher“ 3.</cbc:Note>
  <cbc:DocumentCurrencyCode>EUR</cbc:DocumentCurrencyCode>
  {part("leitweg", f"<cbc:BuyerReference>{s.leitweg}</cbc:BuyerReference>")}
  <cac:InvoicePeriod><cbc:StartDate>2026-11-01</cbc:StartDate><cbc:EndDate>2026-11-15</cbc:EndDate></cac:InvoicePeriod>
  <cac:OrderReference><cbc:ID>B-2026-117</cbc:ID></cac:OrderReference>
  <cac:AccountingSupplierParty><cac:Party>
    <cbc:EndpointID schemeID="EM">rechnung@mueller-soehne.example</cbc:EndpointID>
    <cac:PartyName><cbc:Name>Müller &amp; Söhne</cbc:Name></cac:PartyName>
    <cac:PostalAddress><cbc:StreetName>Weilburger Straße 17</cbc:StreetName>
      <cbc:CityName>Usingen</cbc:CityName><cbc:PostalZone>61250</cbc:PostalZone>
      <cac:Country><cbc:IdentificationCode>DE</cbc:IdentificationCode></cac:Country></cac:PostalAddress>
    <cac:PartyTaxScheme><cbc:CompanyID>DE123456789</cbc:CompanyID><cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme></cac:PartyTaxScheme>
    <cac:PartyLegalEntity>{part("seller", f"<cbc:RegistrationName>{s.seller.replace('&', '&amp;')}</cbc:RegistrationName>")}</cac:PartyLegalEntity>
    <cac:Contact><cbc:Name>Jürgen Weiß</cbc:Name><cbc:Telephone>06081 12345</cbc:Telephone>
      <cbc:ElectronicMail>j.weiss@mueller-soehne.example</cbc:ElectronicMail></cac:Contact>
  </cac:Party></cac:AccountingSupplierParty>
  <cac:AccountingCustomerParty><cac:Party>
    <cbc:EndpointID schemeID="0204">{s.leitweg}</cbc:EndpointID>
    <cac:PostalAddress><cbc:StreetName>Wilhelmjstraße 1</cbc:StreetName>
      <cbc:CityName>Usingen</cbc:CityName><cbc:PostalZone>61250</cbc:PostalZone>
      <cac:Country><cbc:IdentificationCode>DE</cbc:IdentificationCode></cac:Country></cac:PostalAddress>
    <cac:PartyLegalEntity><cbc:RegistrationName>{s.buyer}</cbc:RegistrationName></cac:PartyLegalEntity>
  </cac:Party></cac:AccountingCustomerParty>
  <cac:PaymentMeans><cbc:PaymentMeansCode>58</cbc:PaymentMeansCode><cbc:PaymentID>{s.number}</cbc:PaymentID>
    <cac:PayeeFinancialAccount><cbc:ID>DE02120300000000202051</cbc:ID><cbc:Name>Müller &amp; Söhne</cbc:Name>
      <cac:FinancialInstitutionBranch><cbc:ID>BYLADEM1001</cbc:ID></cac:FinancialInstitutionBranch></cac:PayeeFinancialAccount>
  </cac:PaymentMeans>
  <cac:PaymentTerms><cbc:Note>Zahlbar innerhalb von 14 Tagen ohne Abzug.</cbc:Note></cac:PaymentTerms>
  <cac:TaxTotal><cbc:TaxAmount currencyID="EUR">294.50</cbc:TaxAmount>
    <cac:TaxSubtotal><cbc:TaxableAmount currencyID="EUR">1550.00</cbc:TaxableAmount><cbc:TaxAmount currencyID="EUR">294.50</cbc:TaxAmount>
      <cac:TaxCategory><cbc:ID>S</cbc:ID><cbc:Percent>19</cbc:Percent><cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme></cac:TaxCategory></cac:TaxSubtotal>
  </cac:TaxTotal>
  <cac:LegalMonetaryTotal>
    <cbc:LineExtensionAmount currencyID="EUR">1550.00</cbc:LineExtensionAmount>
    <cbc:TaxExclusiveAmount currencyID="EUR">1550.00</cbc:TaxExclusiveAmount>
    <cbc:TaxInclusiveAmount currencyID="EUR">1844.50</cbc:TaxInclusiveAmount>
    {part("payable", f'<cbc:PayableAmount currencyID="EUR">{s.payable}</cbc:PayableAmount>')}
  </cac:LegalMonetaryTotal>
  <cac:{line}><cbc:ID>1</cbc:ID><cbc:{qty} unitCode="HUR">12.5</cbc:{qty}>
    <cbc:LineExtensionAmount currencyID="EUR">1150.00</cbc:LineExtensionAmount>
    <cac:Item><cbc:Description>Prüfung und Wartung Gasbrennwertkessel</cbc:Description><cbc:Name>Wartung Heizungsanlage</cbc:Name>
      <cac:ClassifiedTaxCategory><cbc:ID>S</cbc:ID><cbc:Percent>19</cbc:Percent><cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme></cac:ClassifiedTaxCategory></cac:Item>
    <cac:Price><cbc:PriceAmount currencyID="EUR">92.00</cbc:PriceAmount></cac:Price>
  </cac:{line}>
  <cac:{line}><cbc:ID>2</cbc:ID><cbc:{qty} unitCode="C62">4</cbc:{qty}>
    <cbc:LineExtensionAmount currencyID="EUR">400.00</cbc:LineExtensionAmount>
    <cac:Item><cbc:Name>Umwälzpumpe Größe 25/6</cbc:Name>
      <cac:ClassifiedTaxCategory><cbc:ID>S</cbc:ID><cbc:Percent>19</cbc:Percent><cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme></cac:ClassifiedTaxCategory></cac:Item>
    <cac:Price><cbc:PriceAmount currencyID="EUR">100.00</cbc:PriceAmount></cac:Price>
  </cac:{line}>
</ubl:{root}>
""".encode()


def cii_invoice(s: Sample = Sample(), guideline: str = XRECHNUNG) -> bytes:
    def d(iso: str) -> str:
        return iso.replace("-", "")

    return f"""<?xml version="1.0" encoding="UTF-8"?>
<rsm:CrossIndustryInvoice xmlns:rsm="urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"
  xmlns:ram="urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"
  xmlns:udt="urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100">
  <rsm:ExchangedDocumentContext><ram:GuidelineSpecifiedDocumentContextParameter><ram:ID>{guideline}</ram:ID></ram:GuidelineSpecifiedDocumentContextParameter></rsm:ExchangedDocumentContext>
  <rsm:ExchangedDocument><ram:ID>{s.number}</ram:ID><ram:TypeCode>380</ram:TypeCode>
    <ram:IssueDateTime><udt:DateTimeString format="102">{d(s.issued)}</udt:DateTimeString></ram:IssueDateTime>
    <ram:IncludedNote><ram:Content>Straßenbeleuchtung Ortsteil Eschbach, Austausch Leuchtmittel.</ram:Content></ram:IncludedNote>
  </rsm:ExchangedDocument>
  <rsm:SupplyChainTradeTransaction>
    <ram:IncludedSupplyChainTradeLineItem>
      <ram:AssociatedDocumentLineDocument><ram:LineID>1</ram:LineID></ram:AssociatedDocumentLineDocument>
      <ram:SpecifiedTradeProduct><ram:Name>LED-Leuchtmittel 40 W, wärmeweiß</ram:Name></ram:SpecifiedTradeProduct>
      <ram:SpecifiedLineTradeAgreement><ram:NetPriceProductTradePrice><ram:ChargeAmount>55.00</ram:ChargeAmount></ram:NetPriceProductTradePrice></ram:SpecifiedLineTradeAgreement>
      <ram:SpecifiedLineTradeDelivery><ram:BilledQuantity unitCode="C62">20</ram:BilledQuantity></ram:SpecifiedLineTradeDelivery>
      <ram:SpecifiedLineTradeSettlement><ram:ApplicableTradeTax><ram:TypeCode>VAT</ram:TypeCode><ram:CategoryCode>S</ram:CategoryCode><ram:RateApplicablePercent>19</ram:RateApplicablePercent></ram:ApplicableTradeTax>
        <ram:SpecifiedTradeSettlementLineMonetarySummation><ram:LineTotalAmount>1100.00</ram:LineTotalAmount></ram:SpecifiedTradeSettlementLineMonetarySummation></ram:SpecifiedLineTradeSettlement>
    </ram:IncludedSupplyChainTradeLineItem>
    <ram:IncludedSupplyChainTradeLineItem>
      <ram:AssociatedDocumentLineDocument><ram:LineID>2</ram:LineID></ram:AssociatedDocumentLineDocument>
      <ram:SpecifiedTradeProduct><ram:Name>Hubsteigereinsatz</ram:Name></ram:SpecifiedTradeProduct>
      <ram:SpecifiedLineTradeAgreement><ram:NetPriceProductTradePrice><ram:ChargeAmount>110.00</ram:ChargeAmount></ram:NetPriceProductTradePrice></ram:SpecifiedLineTradeAgreement>
      <ram:SpecifiedLineTradeDelivery><ram:BilledQuantity unitCode="HUR">4</ram:BilledQuantity></ram:SpecifiedLineTradeDelivery>
      <ram:SpecifiedLineTradeSettlement><ram:ApplicableTradeTax><ram:TypeCode>VAT</ram:TypeCode><ram:CategoryCode>S</ram:CategoryCode><ram:RateApplicablePercent>19</ram:RateApplicablePercent></ram:ApplicableTradeTax>
        <ram:SpecifiedTradeSettlementLineMonetarySummation><ram:LineTotalAmount>440.00</ram:LineTotalAmount></ram:SpecifiedTradeSettlementLineMonetarySummation></ram:SpecifiedLineTradeSettlement>
    </ram:IncludedSupplyChainTradeLineItem>
    <ram:ApplicableHeaderTradeAgreement>
      <ram:BuyerReference>{s.leitweg}</ram:BuyerReference>
      <ram:SellerTradeParty><ram:Name>{s.seller.replace("&", "&amp;")}</ram:Name>
        <ram:DefinedTradeContact><ram:PersonName>Jürgen Weiß</ram:PersonName>
          <ram:TelephoneUniversalCommunication><ram:CompleteNumber>06081 12345</ram:CompleteNumber></ram:TelephoneUniversalCommunication>
          <ram:EmailURIUniversalCommunication><ram:URIID>j.weiss@example.org</ram:URIID></ram:EmailURIUniversalCommunication></ram:DefinedTradeContact>
        <ram:PostalTradeAddress><ram:PostcodeCode>61250</ram:PostcodeCode><ram:LineOne>Weilburger Straße 17</ram:LineOne><ram:CityName>Usingen</ram:CityName><ram:CountryID>DE</ram:CountryID></ram:PostalTradeAddress>
        <ram:SpecifiedTaxRegistration><ram:ID schemeID="VA">DE123456789</ram:ID></ram:SpecifiedTaxRegistration>
      </ram:SellerTradeParty>
      <ram:BuyerTradeParty><ram:Name>{s.buyer}</ram:Name>
        <ram:PostalTradeAddress><ram:PostcodeCode>61250</ram:PostcodeCode><ram:LineOne>Wilhelmjstraße 1</ram:LineOne><ram:CityName>Usingen</ram:CityName><ram:CountryID>DE</ram:CountryID></ram:PostalTradeAddress>
      </ram:BuyerTradeParty>
    </ram:ApplicableHeaderTradeAgreement>
    <ram:ApplicableHeaderTradeDelivery/>
    <ram:ApplicableHeaderTradeSettlement>
      <ram:PaymentReference>{s.number}</ram:PaymentReference>
      <ram:InvoiceCurrencyCode>EUR</ram:InvoiceCurrencyCode>
      <ram:SpecifiedTradeSettlementPaymentMeans><ram:TypeCode>58</ram:TypeCode>
        <ram:PayeePartyCreditorFinancialAccount><ram:IBANID>DE02120300000000202051</ram:IBANID></ram:PayeePartyCreditorFinancialAccount></ram:SpecifiedTradeSettlementPaymentMeans>
      <ram:ApplicableTradeTax><ram:CalculatedAmount>292.60</ram:CalculatedAmount><ram:TypeCode>VAT</ram:TypeCode><ram:BasisAmount>1540.00</ram:BasisAmount><ram:CategoryCode>S</ram:CategoryCode><ram:RateApplicablePercent>19</ram:RateApplicablePercent></ram:ApplicableTradeTax>
      <ram:SpecifiedTradePaymentTerms><ram:Description>Zahlbar bis {s.due} ohne Abzug.</ram:Description>
        <ram:DueDateDateTime><udt:DateTimeString format="102">{d(s.due)}</udt:DateTimeString></ram:DueDateDateTime></ram:SpecifiedTradePaymentTerms>
      <ram:SpecifiedTradeSettlementHeaderMonetarySummation>
        <ram:LineTotalAmount>1540.00</ram:LineTotalAmount><ram:TaxBasisTotalAmount>1540.00</ram:TaxBasisTotalAmount>
        <ram:TaxTotalAmount currencyID="EUR">292.60</ram:TaxTotalAmount><ram:GrandTotalAmount>1832.60</ram:GrandTotalAmount>
        <ram:DuePayableAmount>{s.payable}</ram:DuePayableAmount>
      </ram:SpecifiedTradeSettlementHeaderMonetarySummation>
    </ram:ApplicableHeaderTradeSettlement>
  </rsm:SupplyChainTradeTransaction>
</rsm:CrossIndustryInvoice>
""".encode()


def facturx_pdf(xml: bytes, name: str = "factur-x.xml", extra: bytes | None = None) -> bytes:
    """A born-digital invoice PDF with the XML attached as an associated file (/AF, the
    EmbeddedFiles name tree, Factur-X's XMP); ``extra``: a second, unrelated attachment."""
    with pikepdf.open(io.BytesIO(born_digital_pdf(1, "Rechnung RE-2026-0077 Stadtwerke"))) as pdf:
        spec = pikepdf.AttachedFileSpec(pdf, xml, filename=name, mime_type="text/xml")
        spec.obj.AFRelationship = pikepdf.Name.Data
        pdf.attachments[name] = spec
        pdf.Root.AF = pikepdf.Array([spec.obj])
        if extra is not None:
            pdf.attachments["anlage.txt"] = pikepdf.AttachedFileSpec(
                pdf, extra, filename="anlage.txt"
            )
        with pdf.open_metadata(set_pikepdf_as_editor=False) as meta:
            meta["pdfaid:part"] = "3"
            meta["pdfaid:conformance"] = "B"
        out = io.BytesIO()
        pdf.save(out)
        return out.getvalue()


def xxe_invoice() -> bytes:
    return b"""<?xml version="1.0"?>
<!DOCTYPE Invoice [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
  xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2">
  <cbc:ID>&secret;</cbc:ID>
</Invoice>
"""


def billion_laughs_invoice(doctype: str = "rsm:CrossIndustryInvoice") -> bytes:
    entities = "".join(f'<!ENTITY lol{n} "{f"&lol{n - 1};" * 10}">' for n in range(1, 10))
    return f"""<?xml version="1.0"?>
<!DOCTYPE {doctype} [<!ENTITY lol0 "lol">{entities}]>
<rsm:CrossIndustryInvoice xmlns:rsm="urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"
  note="&lol9;">&lol9;</rsm:CrossIndustryInvoice>
""".encode()


def malformed_invoice() -> bytes:
    return ubl_invoice()[:-400]  # cut off in the middle: not well-formed
