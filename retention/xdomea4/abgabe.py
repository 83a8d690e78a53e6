"""Abgabe (handing files to another authority or system) in xdomea 4.0.0: the 0401 written
with whole cases — processes, documents, every version and format, metadata, dates, history;
the receiver's 0402 (import confirmed per object) and 0403 (received) read; and, receiving,
a 0401 or a 0503 read as cases and a 0402 written back."""

from __future__ import annotations

from dataclasses import dataclass, field

from lxml import etree

from retention.xdomea4.disposal import ObjectResult, _errors
from retention.xdomea4.header import (
    NS,
    Head,
    ReadHead,
    el,
    finish,
    message,
    read_head,
    sequence,
    text,
)
from retention.xdomea4.model import CaseObj
from retention.xdomea4.objects import read_case, write_case
from retention.xdomea4.schema import check_incoming

HANDOVER, IMPORTED, RECEIVED = "0401", "0402", "0403"
TAKE_IN = (HANDOVER, "0503")  # what another system may hand us


def handover(head: Head, cases: list[CaseObj], number: int = 1, total: int = 1) -> bytes:
    """0401 Abgabe.Abgabe: the cases with all their content."""
    root = message(HANDOVER, head)
    el(root, "Importbestaetigung", "1")  # fixed by the schema
    el(root, "Empfangsbestaetigung", "true")
    sequence(root, number, total)
    for case in cases:
        write_case(el(root, "Schriftgutobjekt"), case, context=None, content=True)
    return finish(root, HANDOVER)


def import_confirmation(head: Head, origin_uuid: str, results: list[ObjectResult]) -> bytes:
    """0402 Abgabe.ImportBestaetigen: per object taken in, success or the reasons."""
    root = message(IMPORTED, head)
    el(root, "UUIDUrsprungsnachricht", origin_uuid)
    sequence(root, 1, 1)
    overall = el(root, "ErfolgOderMisserfolg")
    el(overall, "Erfolgreich", "true" if all(r.success for r in results) else "false")
    for entry in results:
        item = el(root, "AbgegebenesObjekt")
        el(item, "xdomeaUUID", entry.object_id)
        outcome = el(item, "ErfolgOderMisserfolg")
        el(outcome, "Erfolgreich", "true" if entry.success else "false")
        for error in entry.errors:
            el(outcome, "Fehlermeldung", error)
    return finish(root, IMPORTED)


@dataclass
class Answer:
    head: ReadHead
    success: bool = True
    results: list[ObjectResult] = field(default_factory=list)


def read_answer(xml: bytes, name: str = "") -> Answer:
    """A receiver's 0402 or 0403 (``XdomeaRejected`` if it is not a valid one)."""
    root = check_incoming(xml, (IMPORTED, RECEIVED), name)
    kind = etree.QName(root).localname.rsplit(".", 1)[-1]
    answer = Answer(read_head(root, kind))
    if kind == IMPORTED:
        overall = root.find("x:ErfolgOderMisserfolg", NS)
        assert overall is not None
        answer.success = text(overall, "x:Erfolgreich") in ("true", "1")
        for item in root.iterfind("x:AbgegebenesObjekt", NS):
            outcome = item.find("x:ErfolgOderMisserfolg", NS)
            assert outcome is not None
            answer.results.append(
                ObjectResult(
                    text(item, "x:xdomeaUUID"),
                    text(outcome, "x:Erfolgreich") in ("true", "1"),
                    errors=_errors(outcome),
                )
            )
    return answer


@dataclass
class Handed:
    head: ReadHead
    cases: list[CaseObj]
    problems: list[str]


def read_handover(xml: bytes, name: str = "") -> Handed:
    """The cases of a 0401 or 0503 from another system; what cannot be taken in is named in
    ``problems`` (the schema check raises ``XdomeaRejected`` before)."""
    root = check_incoming(xml, TAKE_IN, name)
    kind = etree.QName(root).localname.rsplit(".", 1)[-1]
    problems: list[str] = []
    cases = []
    for wrapper in root.iterfind("x:Schriftgutobjekt", NS):
        node = next(c for c in wrapper if isinstance(c.tag, str))
        if etree.QName(node).localname == "DokumentOderDokumentMitSchriftstueck":
            problems.append("a loose document outside a file or process is not taken in")
            continue
        cases.append(read_case(node, problems))
    return Handed(read_head(root, kind), cases, problems)
