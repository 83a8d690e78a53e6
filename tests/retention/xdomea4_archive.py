"""What an archive's software sends back in xdomea 4.0.0 — built to the schema here, the way an
archive would, and validated by a second validator (xmlschema) in the tests."""

from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET

NS4 = "urn:xoev-de:xdomea:schema:4.0.0"
NAMES = {
    "0502": "Aussonderung.Bewertungsverzeichnis",
    "0504": "Aussonderung.AnbietungEmpfangBestaetigen",
    "0506": "Aussonderung.AussonderungImportBestaetigen",
    "0507": "Aussonderung.AussonderungEmpfangBestaetigen",
    "0402": "Abgabe.ImportBestaetigen",
    "0512": "Aussonderung.AktenplanZurBewertungEmpfangBestaetigen",
    "0513": "Aussonderung.Bewertungskatalog",
    "0403": "Abgabe.EmpfangBestaetigen",
}


def _el(parent, tag, text=None):
    child = ET.SubElement(parent, f"{{{NS4}}}{tag}")
    child.text = text
    return child


def message(kind: str, process_id: str, origin: str, body=None, *, message_uuid=None) -> bytes:
    root = ET.Element(f"{{{NS4}}}{NAMES[kind]}.{kind}")
    for key, value in {
        "produkt": "Archivsoftware",
        "produkthersteller": "Landesarchiv",
        "standard": "xdomea",
        "version": "4.0.0",
    }.items():
        root.set(key, value)
    head = _el(root, "nachrichtenkopf")
    ident = _el(head, "identifikation.nachricht")
    ET.SubElement(ident, "nachrichtenUUID").text = message_uuid or str(uuid.uuid4())
    kind_el = ET.SubElement(ident, "nachrichtentyp")
    kind_el.set("listURI", "urn:xoev-de:xdomea:codeliste:nachrichtentyp")
    kind_el.set("listVersionID", "3.0")
    ET.SubElement(kind_el, "code").text = kind
    ET.SubElement(ident, "erstellungszeitpunkt").text = "2026-03-01T10:00:00Z"
    _el(_el(_el(head, "leser"), "NameInstitution"), "Name", "Stadt Usingen")
    _el(_el(_el(head, "autor"), "NameInstitution"), "Name", "Landesarchiv")
    _el(head, "ProzessID", process_id)
    if kind in ("0502", "0513"):
        _el(root, "Empfangsbestaetigung", "true")
    _el(root, "UUIDUrsprungsnachricht", origin)
    _el(root, "LfdNrNachrichtProTyp", "1")
    _el(root, "GesamtanzahlNachrichtenProTyp", "1")
    if body:
        body(root, _el)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def appraisal(process_id: str, origin: str, decisions: dict[str, str]) -> bytes:
    def body(root, el):
        for object_id, decision in decisions.items():
            item = el(root, "BewertetesSGO")
            el(item, "xdomeaUUID", object_id)
            code = el(el(item, "Aussonderungsart"), "Aussonderungsart")
            code.set("listURI", "urn:xoev-de:xdomea:codeliste:aussonderungsart")
            code.set("listVersionID", "1.0")
            ET.SubElement(code, "code").text = decision

    return message("0502", process_id, origin, body)


def _outcome(parent, el, ok: bool, reason: str = ""):
    outcome = el(parent, "ErfolgOderMisserfolg")
    el(outcome, "Erfolgreich", "true" if ok else "false")
    if reason:
        el(outcome, "Fehlermeldung", reason)


def confirmation(process_id: str, origin: str, results: dict[str, str | None]) -> bytes:
    """0506: per object, the archive's identifier (taken over) or None (failed)."""

    def body(root, el):
        _outcome(root, el, all(results.values()), "" if all(results.values()) else "Teilfehler")
        for object_id, archive_id in results.items():
            item = el(root, "AusgesondertesSGO")
            el(item, "xdomeaUUID", object_id)
            _outcome(item, el, bool(archive_id), "" if archive_id else "Primärdatei unlesbar")
            if archive_id:
                el(item, "Archivkennung", archive_id)

    return message("0506", process_id, origin, body)


def import_confirmation(process_id: str, origin: str, results: dict[str, bool]) -> bytes:
    """0402: per object handed over, taken in or not."""

    def body(root, el):
        _outcome(root, el, all(results.values()))
        for object_id, ok in results.items():
            item = el(root, "AbgegebenesObjekt")
            el(item, "xdomeaUUID", object_id)
            _outcome(item, el, ok, "" if ok else "abgelehnt")

    return message("0402", process_id, origin, body)


def catalogue(process_id: str, origin: str, decisions: dict[str, str]) -> bytes:
    """0513: the archive's appraisal per file-plan unit (by the unit's xdomeaUUID)."""

    def body(root, el):
        for unit_uuid, decision in decisions.items():
            item = el(root, "BewerteteAktenplaneinheit")
            el(item, "xdomeaUUID", unit_uuid)
            code = el(el(item, "Aussonderungsart"), "Aussonderungsart")
            code.set("listURI", "urn:xoev-de:xdomea:codeliste:aussonderungsart")
            code.set("listVersionID", "1.0")
            ET.SubElement(code, "code").text = decision

    return message("0513", process_id, origin, body)
