"""The code lists of xdomea 4.0.0, read out of the packaged schema (``xdomea-Datentypen.xsd``):
their URIs, versions and codes come from there, not from strings in the code.

The schema carries most lists inline (``Nachrichtentyp``, ``Aussonderungsart``, ``Medium`` ...).
A few are published separately and the schema names only their URI (``Dateiformat``,
``Kryptographische Algorithmen``) or nothing at all (``Geheimhaltungsgrad``); for those the
versions eAkte writes are in ``EXTERNAL`` — one place, checked by the tests against the
schema's fixed URIs.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

from lxml import etree

from retention.xdomea4.schema import DATATYPES, parser

XS = "{http://www.w3.org/2001/XMLSchema}"


@dataclass(frozen=True)
class CodeList:
    type_name: str  # the schema's ``...CodeType``
    uri: str
    version: str
    codes: dict[str, str] = field(default_factory=dict)  # code -> description

    def name(self, code: str) -> str:
        return self.codes.get(code, "")


# Lists whose codes the schema does not carry: (URI, version) eAkte writes.
EXTERNAL: dict[str, tuple[str, str]] = {
    "DateiformatCodeType": ("urn:xoev-de:xdomea:codeliste:dateiformat", "2.0"),
    "KryptographischeAlgorithmenCodeType": (
        "urn:xoev-de:kosit:codeliste:xta.serviceprofile.kryptographische-algorithmen",
        "1.0.0",
    ),
    "BewertungsvorschlagCodeType": ("urn:xoev-de:xdomea:codeliste:bewertungsvorschlag", "1.0"),
    # Confidentiality: the list the xdomea 4.0.0 examples and archives use.
    "GeheimhaltungsgradCodeType": ("urn:xoev-de:xdomea:codeliste:vertraulichkeitsstufe", "1.0"),
}
SHA256 = ("SHA-256", "http://www.w3.org/2001/04/xmlenc#sha256")
NOT_CLASSIFIED = ("003", "Offen: Das Schriftgutobjekt ist nicht eingestuft.")


def _text(node: etree._Element | None) -> str:
    return (node.text or "").strip() if node is not None else ""


@functools.cache
def all_lists() -> dict[str, CodeList]:
    """Every ``...CodeType`` of the schema with its URI, version and (inline) codes."""
    root = etree.parse(str(DATATYPES), parser()).getroot()
    lists: dict[str, CodeList] = {}
    for node in root.iterfind(f"{XS}complexType"):
        name = node.get("name", "")
        if not name.endswith("CodeType"):
            continue
        uri = _text(node.find(f"{XS}annotation/{XS}appinfo/codeliste/kennung"))
        version = _text(node.find(f"{XS}annotation/{XS}appinfo/versionCodeliste/version"))
        for attribute in node.iter(f"{XS}attribute"):
            if attribute.get("name") == "listURI" and attribute.get("fixed"):
                uri = attribute.get("fixed", uri)
            if attribute.get("name") == "listVersionID" and attribute.get("fixed"):
                version = attribute.get("fixed", version)
        if name in EXTERNAL:
            external_uri, external_version = EXTERNAL[name]
            uri, version = uri or external_uri, version or external_version
        codes = {
            enum.get("value", ""): _text(enum.find(f"{XS}annotation/{XS}appinfo/beschreibung"))
            for enum in node.iter(f"{XS}enumeration")
        }
        lists[name] = CodeList(name, uri, version, codes)
    return lists


def code_list(type_name: str) -> CodeList:
    return all_lists()[type_name]


def message_name(message_type: str) -> str:
    """``Aussonderung.Aussonderung`` of ``0503``, as the schema's code list names it."""
    name = code_list("NachrichtentypCodeType").name(message_type)
    if not name:
        raise KeyError(f"no xdomea 4.0.0 message type {message_type}")
    return name


def root_tag(message_type: str) -> str:
    """The root element's local name: ``Aussonderung.Aussonderung.0503``."""
    return f"{message_name(message_type)}.{message_type}"
