"""The xdomea 4.0.0 schema, shipped in the package (``schema/4.0.0``, copied unchanged from
``../shared/xdomea/4.0.0``; ``schema/SOURCE.md`` says where from), and the checks every message
passes: before it leaves (``check_outgoing``: a defect, ``XdomeaInvalid``) and before anything
acts on it (``check_incoming``: bad input, ``XdomeaRejected``).

``xdomea-Nachrichten-VBS.xsd`` includes all seven message groups, so one compiled schema
validates every message type. It is read on first use, once per process, never at import.
"""

from __future__ import annotations

import functools
from pathlib import Path

from lxml import etree

from eakte.errors import XdomeaInvalid, XdomeaRejected
from retention.xdomea4 import NAMESPACE

SCHEMA_DIR = Path(__file__).parent / "schema"
ENTRY = SCHEMA_DIR / "4.0.0" / "xdomea-Nachrichten-VBS.xsd"
DATATYPES = SCHEMA_DIR / "4.0.0" / "xdomea-Datentypen.xsd"
_SHOWN = 3  # problems named in the error; the rest are counted


def parser() -> etree.XMLParser:
    """No entity expanded, no DTD loaded, nothing fetched: messages are untrusted input."""
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        huge_tree=True,
        load_dtd=False,
        dtd_validation=False,
    )


@functools.cache
def message_schema() -> etree.XMLSchema:
    """The compiled schema of every xdomea 4.0.0 message."""
    return etree.XMLSchema(etree.parse(str(ENTRY), parser()))


def message_type_of(root: etree._Element) -> str:
    """``0503`` of ``{urn:...:4.0.0}Aussonderung.Aussonderung.0503``; '' for anything else."""
    qname = etree.QName(root)
    if qname.namespace != NAMESPACE:
        return ""
    return qname.localname.rsplit(".", 1)[-1]


def _problems(root: etree._Element) -> str:
    schema = message_schema()
    if schema.validate(root):
        return ""
    errors = list(schema.error_log)
    shown = "; ".join(f"line {e.line}: {e.message}" for e in errors[:_SHOWN])
    more = f" (and {len(errors) - _SHOWN} more)" if len(errors) > _SHOWN else ""
    return shown + more


def check_outgoing(xml: bytes, message_type: str) -> bytes:
    """``xml`` unchanged if it is a valid ``message_type`` message; ``XdomeaInvalid`` otherwise
    (and the caller writes and sends nothing)."""
    root = etree.fromstring(xml, parser())
    if message_type_of(root) != message_type:
        raise XdomeaInvalid(f"the xdomea 4.0.0 message is not a {message_type}")
    problems = _problems(root)
    if problems:
        raise XdomeaInvalid(
            f"the xdomea 4.0.0 {message_type} message does not match the schema and was not "
            f"written: {problems}"
        )
    return xml


def check_incoming(xml: bytes, expected: tuple[str, ...], name: str = "") -> etree._Element:
    """The parsed root of a valid 4.0.0 message of one of the ``expected`` types;
    ``XdomeaRejected`` naming the problems otherwise (nothing of it is applied)."""
    label = name or "the message"
    if b"<!DOCTYPE" in xml[:4096] or b"<!ENTITY" in xml:
        raise XdomeaRejected(f"{label}: a DOCTYPE or entity declaration is not accepted")
    try:
        root = etree.fromstring(xml, parser())
    except etree.XMLSyntaxError as exc:
        raise XdomeaRejected(f"{label} is not well-formed XML: {exc}") from None
    kind = message_type_of(root)
    if kind not in expected:
        raise XdomeaRejected(
            f"{label} is a {etree.QName(root).localname} ({etree.QName(root).namespace}), "
            f"not an xdomea 4.0.0 {' / '.join(expected)}"
        )
    problems = _problems(root)
    if problems:
        raise XdomeaRejected(f"{label} does not match the xdomea 4.0.0 schema: {problems}")
    return root
