"""Disposal (Aussonderung) messages of xdomea 4.0.0: the offer 0501 and the transfer 0503
written, in several messages of one ``ProzessID`` when asked; the archive's 0502 (appraisal),
0504 (offer received), 0506 (import confirmed per object) and 0507 (transfer received) read;
0505 (appraisal received) written for an archive that asks for it, and read as well.

Plain values in, bytes out and back; ``retention.xdomea4.transfer`` acts on them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from lxml import etree

from retention.xdomea4.header import NS, Head, el, finish, message, read_head, sequence, text
from retention.xdomea4.model import CaseObj
from retention.xdomea4.objects import write_case
from retention.xdomea4.schema import check_incoming

OFFER, APPRAISAL, TRANSFER = "0501", "0502", "0503"
OFFER_RECEIVED, APPRAISAL_RECEIVED = "0504", "0505"
IMPORT_CONFIRMATION, TRANSFER_RECEIVED = "0506", "0507"
INCOMING = (APPRAISAL, OFFER_RECEIVED, APPRAISAL_RECEIVED, IMPORT_CONFIRMATION, TRANSFER_RECEIVED)


def offer(head: Head, cases: list[CaseObj], number: int = 1, total: int = 1) -> bytes:
    """0501 Aussonderung.Anbieteverzeichnis: metadata only, no primary documents."""
    root = message(OFFER, head)
    el(root, "Empfangsbestaetigung", "true")  # we want the 0504
    sequence(root, number, total)
    for case in cases:
        write_case(el(root, "Schriftgutobjekt"), case, context=False, content=False)
    return finish(root, OFFER)


def transfer(head: Head, cases: list[CaseObj], number: int, total: int) -> bytes:
    """0503 Aussonderung.Aussonderung: number ``number`` of ``total`` of the process."""
    root = message(TRANSFER, head)
    el(root, "Importbestaetigung", "1")  # fixed by the schema: the 0506 is always wanted
    el(root, "RueckmeldungArchivkennung", "true")  # ... with the archive's identifiers
    el(root, "Empfangsbestaetigung", "true")  # and the 0507
    sequence(root, number, total)
    for case in cases:
        write_case(el(root, "Schriftgutobjekt"), case, context=False, content=True)
    return finish(root, TRANSFER)


def receipt(message_type: str, head: Head, origin_uuid: str) -> bytes:
    """A plain receipt (0504, 0505, 0507, ...): which message arrived."""
    root = message(message_type, head)
    el(root, "UUIDUrsprungsnachricht", origin_uuid)
    sequence(root, 1, 1)
    return finish(root, message_type)


@dataclass
class ObjectResult:
    object_id: str
    success: bool
    archive_id: str = ""
    errors: list[str] = field(default_factory=list)


@dataclass
class Incoming:
    """What a 0502 / 0504 / 0505 / 0506 / 0507 says."""

    message_type: str
    message_uuid: str
    process_id: str
    origin_uuid: str
    number: int
    total: int
    author: str = ""
    wants_receipt: bool = False
    decisions: dict[str, str] = field(default_factory=dict)  # 0502: xdomeaUUID -> A/B/V
    success: bool = True  # 0506: the import as a whole
    errors: list[str] = field(default_factory=list)
    results: list[ObjectResult] = field(default_factory=list)  # 0506 per object


def _errors(node: etree._Element) -> list[str]:
    messages = [(e.text or "").strip() for e in node.iterfind("x:Fehlermeldung", NS)]
    messages += [
        " ".join(filter(None, [text(c, "code"), text(c, "name")]))
        for c in node.iterfind("x:FehlermeldungCode", NS)
    ]
    return [m for m in messages if m]


def read(xml: bytes, name: str = "") -> Incoming:
    """The content of a valid incoming disposal message (``XdomeaRejected`` otherwise)."""
    root = check_incoming(xml, INCOMING, name)
    kind = etree.QName(root).localname.rsplit(".", 1)[-1]
    head = read_head(root, kind)
    result = Incoming(
        kind,
        head.message_uuid,
        head.process_id,
        head.origin_uuid,
        head.number,
        head.total,
        head.author,
        wants_receipt=text(root, "x:Empfangsbestaetigung") in ("true", "1"),
    )
    if kind == APPRAISAL:
        for item in root.iterfind("x:BewertetesSGO", NS):
            decision = text(item, "x:Aussonderungsart/x:Aussonderungsart/code")
            result.decisions[text(item, "x:xdomeaUUID")] = decision or text(
                item, "x:Aussonderungsart/x:AussonderungsartKonfigurierbar"
            )
    elif kind == IMPORT_CONFIRMATION:
        overall = root.find("x:ErfolgOderMisserfolg", NS)
        assert overall is not None
        result.success = text(overall, "x:Erfolgreich") in ("true", "1")
        result.errors = _errors(overall)
        for item in root.iterfind("x:AusgesondertesSGO", NS):
            outcome = item.find("x:ErfolgOderMisserfolg", NS)
            assert outcome is not None
            result.results.append(
                ObjectResult(
                    text(item, "x:xdomeaUUID"),
                    text(outcome, "x:Erfolgreich") in ("true", "1"),
                    text(item, "x:Archivkennung"),
                    _errors(outcome),
                )
            )
    return result
