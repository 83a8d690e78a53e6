"""The parts every xdomea 4.0.0 message shares: the root with its product attributes, the
``nachrichtenkopf`` (``nachrichtenUUID``, type, time, ``leser``, ``autor``, ``ProzessID``),
code values from the schema's lists, and the serialisation with the schema check."""

from __future__ import annotations

import uuid as uuidlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata

from lxml import etree

from retention.xdomea4 import NAMESPACE, VERSION
from retention.xdomea4.codelists import code_list, message_name, root_tag
from retention.xdomea4.schema import check_outgoing

NS = {"x": NAMESPACE}


@dataclass
class Head:
    process_id: str  # ProzessID: every message of one exchange shares it
    author: str  # the sending institution (tenant)
    reader: str  # the receiving archive or authority
    author_unit: str = ""
    message_uuid: str = field(default_factory=lambda: str(uuidlib.uuid4()))
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))


def q(tag: str) -> str:
    return f"{{{NAMESPACE}}}{tag}"


def el(parent: etree._Element, tag: str, text: str | None = None) -> etree._Element:
    element = etree.SubElement(parent, q(tag))
    if text is not None:
        element.text = text
    return element


def code(
    parent: etree._Element, tag: str, type_name: str, value: str, name: str = ""
) -> etree._Element:
    """A code value with the list URI and version the schema's list gives."""
    listing = code_list(type_name)
    element = el(parent, tag)
    if listing.uri:
        element.set("listURI", listing.uri)
    element.set("listVersionID", listing.version or "1.0")
    etree.SubElement(element, "code").text = value  # code and name are unqualified (xoev-code)
    label = name or listing.name(value)
    if label:
        etree.SubElement(element, "name").text = label
    return element


def timestamp(value: datetime) -> str:
    return value.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _product_version() -> str:
    try:
        return metadata.version("eakte")
    except metadata.PackageNotFoundError:
        return ""


def _contact(parent: etree._Element, tag: str, institution: str, unit: str = "") -> None:
    contact = el(parent, tag)
    el(el(contact, "NameInstitution"), "Name", institution)
    if unit:
        el(el(contact, "NameOrganisationseinheit"), "Name", unit)


def message(message_type: str, head: Head) -> etree._Element:
    """The root of a ``message_type`` message with its ``nachrichtenkopf``."""
    root = etree.Element(q(root_tag(message_type)), nsmap={"xdomea": NAMESPACE})
    root.set("produkt", "eAkte")
    root.set("produkthersteller", "eAkte-Projekt")
    version = _product_version()
    if version:
        root.set("produktversion", version)
    root.set("standard", "xdomea")
    root.set("version", VERSION)
    kopf = el(root, "nachrichtenkopf")
    ident = el(kopf, "identifikation.nachricht")
    etree.SubElement(ident, "nachrichtenUUID").text = head.message_uuid
    kind = etree.SubElement(ident, "nachrichtentyp")
    listing = code_list("NachrichtentypCodeType")
    kind.set("listURI", listing.uri)
    kind.set("listVersionID", listing.version)
    etree.SubElement(kind, "code").text = message_type
    etree.SubElement(kind, "name").text = message_name(message_type)
    etree.SubElement(ident, "erstellungszeitpunkt").text = timestamp(head.created_at)
    _contact(kopf, "leser", head.reader)
    _contact(kopf, "autor", head.author, head.author_unit)
    el(kopf, "ProzessID", head.process_id)
    return root


def sequence(root: etree._Element, number: int, total: int) -> None:
    el(root, "LfdNrNachrichtProTyp", str(number))
    el(root, "GesamtanzahlNachrichtenProTyp", str(total))


def finish(root: etree._Element, message_type: str) -> bytes:
    """The message as bytes, validated against the schema before it is returned."""
    xml = etree.tostring(root, encoding="UTF-8", xml_declaration=True, pretty_print=True)
    return check_outgoing(xml, message_type)


# --- reading -----------------------------------------------------------------------------


@dataclass
class ReadHead:
    message_type: str
    message_uuid: str
    process_id: str
    author: str
    reader: str
    origin_uuid: str = ""  # UUIDUrsprungsnachricht, if the message answers another
    number: int = 1
    total: int = 1


def text(node: etree._Element, path: str) -> str:
    found = node.find(path, NS)
    return (found.text or "").strip() if found is not None and found.text else ""


def read_head(root: etree._Element, message_type: str) -> ReadHead:
    kopf = root.find("x:nachrichtenkopf", NS)
    assert kopf is not None  # the schema requires it; check_incoming ran before
    number = text(root, "x:LfdNrNachrichtProTyp") or "1"
    total = text(root, "x:GesamtanzahlNachrichtenProTyp") or "1"
    return ReadHead(
        message_type=message_type,
        message_uuid=text(kopf, "x:identifikation.nachricht/nachrichtenUUID"),
        process_id=text(kopf, "x:ProzessID"),
        author=text(kopf, "x:autor/x:NameInstitution/x:Name"),
        reader=text(kopf, "x:leser/x:NameInstitution/x:Name"),
        origin_uuid=text(root, "x:UUIDUrsprungsnachricht"),
        number=int(number),
        total=int(total),
    )
