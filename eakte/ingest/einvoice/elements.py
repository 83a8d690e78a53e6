"""The namespaces of both syntaxes (UBL 2.1, UN/CEFACT CII D16B) and namespace-aware
lookups on parsed elements."""

from __future__ import annotations

from xml.etree.ElementTree import Element

UBL_INVOICE = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
UBL_CREDIT_NOTE = "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2"
CII = "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"
NS = {
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
    "rsm": CII,
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
    "udt": "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100",
}


class Finder:
    """Namespace-aware lookups that answer '' for what is not there."""

    def __init__(self, element: Element):
        self.element = element

    def find(self, path: str) -> Element | None:
        return self.element.find(path, NS)

    def all(self, path: str) -> list[Element]:
        return self.element.findall(path, NS)

    def text(self, path: str) -> str:
        return text_of(self.find(path))

    def texts(self, path: str) -> list[str]:
        return [t for t in (text_of(e) for e in self.all(path)) if t]


def text_of(element: Element | None) -> str:
    if element is None or element.text is None:
        return ""
    return " ".join(element.text.split())[:2000]
