"""The file plan in xdomea 4.0.0: exchanged as 0301 (Aktenplan.Aktenplan, receipt 0302) and
sent to the archive for appraisal as 0511 (receipt 0512); the archive's appraisal catalogue
0513 read (A / B / V per file-plan unit) and answered with 0514 (import confirmed per unit)
and 0515 (received)."""

from __future__ import annotations

from dataclasses import dataclass, field

from lxml import etree

from retention.xdomea4.disposal import ObjectResult
from retention.xdomea4.header import (
    NS,
    Head,
    ReadHead,
    code,
    el,
    finish,
    message,
    read_head,
    sequence,
    text,
)
from retention.xdomea4.schema import check_incoming

PLAN, PLAN_RECEIVED = "0301", "0302"
FOR_APPRAISAL, FOR_APPRAISAL_RECEIVED = "0511", "0512"
CATALOGUE, CATALOGUE_IMPORTED, CATALOGUE_RECEIVED = "0513", "0514", "0515"


@dataclass
class Unit:
    uuid: str
    code: str
    title: str
    action: str  # the effective schedule's A / B / V ("B" when none)
    period_years: int | None  # None: permanent (or no schedule)
    children: list[Unit] = field(default_factory=list)


def _units(parent: etree._Element, units: list[Unit], *, with_uuid: bool) -> None:
    for unit in units:
        element = el(parent, "Einheit")
        el(element, "Kennzeichen", unit.code)
        el(element, "Inhaltsangabe", unit.title)
        if with_uuid:
            el(element, "xdomeaUUID", unit.uuid)
        choice = el(element, "Aussonderungsart")
        code(choice, "Aussonderungsart", "AussonderungsartCodeType", unit.action)
        el(element, "Stillgelegt", "false")
        duration = el(element, "Aufbewahrungsdauer")
        if unit.period_years is None:
            el(duration, "Unbefristet", "1")  # fixed by the schema
        else:
            el(duration, "AnzahlJahre", str(unit.period_years))
        _units(element, unit.children, with_uuid=with_uuid)


def plan(head: Head, name: str, version: str, units: list[Unit]) -> bytes:
    """0301: the plan for another system (no receipt asked)."""
    root = message(PLAN, head)
    el(root, "Empfangsbestaetigung", "false")
    plan_el = el(root, "Aktenplan")
    el(plan_el, "Bezeichnung", name)
    el(plan_el, "Version", version)
    _units(plan_el, units, with_uuid=False)
    return finish(root, PLAN)


def for_appraisal(head: Head, plan_uuid: str, name: str, version: str, units: list[Unit]) -> bytes:
    """0511: the plan sent to the archive for appraisal ahead of time (receipt 0512 asked)."""
    root = message(FOR_APPRAISAL, head)
    el(root, "Empfangsbestaetigung", "true")
    sequence(root, 1, 1)
    plan_el = el(root, "Aktenplan")
    el(plan_el, "xdomeaUUID", plan_uuid)
    el(plan_el, "Bezeichnung", name)
    el(plan_el, "Version", version)
    _units(plan_el, units, with_uuid=True)
    return finish(root, FOR_APPRAISAL)


def catalogue_imported(head: Head, origin_uuid: str, results: list[ObjectResult]) -> bytes:
    """0514: per unit of the catalogue, applied or why not."""
    root = message(CATALOGUE_IMPORTED, head)
    el(root, "UUIDUrsprungsnachricht", origin_uuid)
    sequence(root, 1, 1)
    overall = el(root, "ErfolgOderMisserfolg")
    el(overall, "Erfolgreich", "true" if all(r.success for r in results) else "false")
    for entry in results:
        item = el(root, "BewerteteAktenplaneinheit")
        el(item, "xdomeaUUID", entry.object_id)
        outcome = el(item, "ErfolgOderMisserfolg")
        el(outcome, "Erfolgreich", "true" if entry.success else "false")
        for error in entry.errors:
            el(outcome, "Fehlermeldung", error)
    return finish(root, CATALOGUE_IMPORTED)


def receipt(message_type: str, head: Head, origin_uuid: str) -> bytes:
    """0302 (the header only: it answers by the ProzessID) or 0512 / 0515."""
    root = message(message_type, head)
    if message_type != PLAN_RECEIVED:
        el(root, "UUIDUrsprungsnachricht", origin_uuid)
        sequence(root, 1, 1)
    return finish(root, message_type)


@dataclass
class ReadUnit:
    code: str
    title: str
    parent: str
    action: str
    period_years: int | None


@dataclass
class Incoming:
    head: ReadHead
    wants_receipt: bool = False
    units: list[ReadUnit] = field(default_factory=list)  # 0301
    decisions: dict[str, str] = field(default_factory=dict)  # 0513: unit uuid -> A/B/V
    results: list[ObjectResult] = field(default_factory=list)


def _read_units(parent: etree._Element, parent_code: str, out: list[ReadUnit]) -> None:
    for unit in parent.iterfind("x:Einheit", NS):
        years = text(unit, "x:Aufbewahrungsdauer/x:AnzahlJahre")
        item = ReadUnit(
            text(unit, "x:Kennzeichen"),
            text(unit, "x:Inhaltsangabe") or text(unit, "x:BetreffKurz"),
            parent_code,
            text(unit, "x:Aussonderungsart/x:Aussonderungsart/code"),
            int(years) if years else None,
        )
        out.append(item)
        _read_units(unit, item.code, out)


def read(xml: bytes, name: str = "") -> Incoming:
    """A 0301, 0302, 0512 or 0513 (``XdomeaRejected`` if it is not a valid one)."""
    root = check_incoming(xml, (PLAN, PLAN_RECEIVED, FOR_APPRAISAL_RECEIVED, CATALOGUE), name)
    kind = etree.QName(root).localname.rsplit(".", 1)[-1]
    incoming = Incoming(
        read_head(root, kind), wants_receipt=text(root, "x:Empfangsbestaetigung") in ("true", "1")
    )
    if kind == PLAN:
        for plan_el in root.iterfind("x:Aktenplan", NS):
            _read_units(plan_el, "", incoming.units)
    elif kind == CATALOGUE:
        for unit in root.iterfind("x:BewerteteAktenplaneinheit", NS):
            incoming.decisions[text(unit, "x:xdomeaUUID")] = text(
                unit, "x:Aussonderungsart/x:Aussonderungsart/code"
            ) or text(unit, "x:Aussonderungsart/x:AussonderungsartKonfigurierbar")
    return incoming
