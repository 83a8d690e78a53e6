"""Recognising e-invoice XML by its root element, and reading it under bounds.

An XML file is an e-invoice by its structure: its root element and namespace (UBL ``Invoice``
or ``CreditNote``, CII ``CrossIndustryInvoice``), never by its name. XML from outside is read
with defusedxml (no DTDs, no entities, no external references) under limits on size, nesting
depth and element count, so a hostile file costs little and ends in quarantine with a reason.
"""

from __future__ import annotations

import io
import xml.parsers.expat
from pathlib import Path
from xml.etree.ElementTree import Element, ParseError

import defusedxml
from defusedxml import ElementTree as SafeET

from eakte.ingest.einvoice import cii, ubl
from eakte.ingest.einvoice.elements import CII, UBL_CREDIT_NOTE, UBL_INVOICE
from eakte.ingest.einvoice.model import Invoice

ROOTS = {
    (UBL_INVOICE, "Invoice"): "UBL",
    (UBL_CREDIT_NOTE, "CreditNote"): "UBL",
    (CII, "CrossIndustryInvoice"): "CII",
}

MAX_XML_BYTES = 32 * 1024 * 1024  # invoices may embed attachments (BG-24) as base64
MAX_DEPTH = 64
MAX_ELEMENTS = 500_000
SNIFF_BYTES = 256 * 1024  # the root element comes after at most this much prologue


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
    doctype: list[str] = []

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
        return ubl.read(root, credit_note=local == "CreditNote")
    return cii.read(root)


def _parse_bounded(source: Path | bytes) -> Element:
    """defusedxml's parser (no DTD, entities or external references) with limits on depth
    and element count, checked while parsing."""
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
