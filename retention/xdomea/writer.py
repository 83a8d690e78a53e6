"""Writing the offer list (0501) and the transfer message (0503) of xdomea 3.1.0.

Element order and content follow ``xdomea-Nachrichten-AussonderungDurchfuehren.xsd``, and every
message is validated against the packaged schema before it is returned
(``retention.xdomea.schema``): an invalid one never leaves. 0501 carries metadata only (no
primary documents, as the standard requires); 0503 adds every process, document and file — each
file named by its own UUID, PDF/A renditions as a second format of the same version, and the
sha256 of every file in an application-specific extension of the document.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime

from retention.xdomea import MESSAGE_NAMES, NAMESPACE, OFFER, TRANSFER, geschaeftsgang
from retention.xdomea.model import (
    DATEIFORMAT_LIST_VERSION,
    CaseEntry,
    DocumentEntry,
    FileEntry,
    Header,
    ProcessEntry,
    format_of,
)
from retention.xdomea.schema import check_outgoing

ET.register_namespace("xdomea", NAMESPACE)

CODE_LISTS = {
    "Nachrichtentyp": ("urn:xoev-de:xdomea:codeliste:nachrichtentyp", "2.0"),
    "Aussonderungsart": ("urn:xoev-de:xdomea:codeliste:aussonderungsart", "1.0"),
    "Bewertungsvorschlag": ("urn:xoev-de:xdomea:codeliste:bewertungsvorschlag", "1.0"),
    "Name": ("urn:xoev-de:xdomea:codeliste:dateiformat", DATEIFORMAT_LIST_VERSION),
}
FIXITY_EXTENSION = "urn:eakte:fixity:sha256"


def _q(tag: str) -> str:
    return f"{{{NAMESPACE}}}{tag}"


def _el(parent: ET.Element, tag: str, text: str | None = None) -> ET.Element:
    element = ET.SubElement(parent, _q(tag))
    if text is not None:
        element.text = text
    return element


def _code(parent: ET.Element, tag: str, code: str, name: str | None = None) -> ET.Element:
    list_uri, version = CODE_LISTS[tag]
    element = _el(parent, tag)
    element.set("listURI", list_uri)
    element.set("listVersionID", version)
    ET.SubElement(element, "code").text = code  # code and name are unqualified (xoev-code)
    if name:
        ET.SubElement(element, "name").text = name
    return element


def _time(value: datetime) -> str:
    return value.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _head(root: ET.Element, header: Header, message_type: str) -> ET.Element:
    head = _el(root, "Kopf")
    _el(head, "ProzessID", header.process_id)
    _code(head, "Nachrichtentyp", message_type, MESSAGE_NAMES[message_type])
    _el(head, "Erstellungszeitpunkt", _time(header.created_at))
    sender = _el(head, "Absender")
    _el(_el(sender, "Institution"), "Name", header.sender)
    if header.sender_unit:
        _el(_el(sender, "Organisationseinheit"), "Name", header.sender_unit)
    _el(_el(_el(head, "Empfaenger"), "Institution"), "Name", header.recipient)
    system = _el(head, "SendendesSystem")
    _el(system, "Produktname", "eAkte")
    if header.product_version:
        _el(system, "Version", header.product_version)
    return head


def _general(parent: ET.Element, subject: str, reference: str, node: CaseEntry | None = None):
    general = _el(parent, "AllgemeineMetadaten")
    _el(general, "Betreff", subject)
    _el(general, "Kennzeichen", reference)
    if node is not None:
        if node.org_unit:
            _el(general, "Federfuehrung", node.org_unit)
        unit = _el(general, "Aktenplaneinheit")
        _el(unit, "Kennzeichen", node.node_code)
        _el(unit, "Inhaltsangabe", node.node_title)


def _archive_metadata(parent: ET.Element, case: CaseEntry) -> None:
    meta = _el(parent, "ArchivspezifischeMetadaten")
    duration = _el(meta, "Aufbewahrungsdauer")
    if case.period_years is None:
        _el(duration, "Unbefristet", "1")
    else:
        _el(duration, "AnzahlJahre", str(case.period_years))
    _code(_el(meta, "Aussonderungsart"), "Aussonderungsart", case.action)
    if case.action == "A":
        _code(meta, "Bewertungsvorschlag", "A")
    if case.retention_end is not None:
        _el(meta, "Aufbewahrungsende", case.retention_end.isoformat())


def _case(parent: ET.Element, case: CaseEntry, *, with_content: bool) -> None:
    record = _el(_el(parent, "Schriftgutobjekt"), "Akte")
    _el(_el(record, "Identifikation"), "ID", case.uuid)
    _general(record, case.title, case.file_reference, case)
    _archive_metadata(record, case)
    period = _el(record, "Laufzeit")
    _el(period, "Beginn", case.created.isoformat())
    if case.closed:
        _el(period, "Ende", case.closed.isoformat())
    if with_content and case.processes:
        content = _el(record, "Akteninhalt")
        for process in case.processes:
            _process(content, case, process)
    _el(record, "ZdA", "1" if case.closed else "0")
    if case.closed:
        _el(record, "ZdADatum", case.closed.isoformat())


def _process(parent: ET.Element, case: CaseEntry, process: ProcessEntry) -> None:
    element = _el(parent, "Vorgang")
    ident = _el(element, "Identifikation")
    _el(ident, "ID", process.uuid)
    _el(ident, "NummerImUebergeordnetenContainer", str(process.number))
    _general(element, process.title, f"{case.file_reference}/{process.number}")
    _el(element, "ZdA", "1" if process.closed else "0")
    if process.closed:
        _el(element, "ZdADatum", process.closed.isoformat())
    geschaeftsgang.write(element, process.uuid, process.geschaeftsgang)  # issue 16
    for document in process.documents:
        _document(element, document)


def _document(parent: ET.Element, document: DocumentEntry) -> None:
    element = _el(parent, "Dokument")
    ident = _el(element, "Identifikation")
    _el(ident, "ID", document.uuid)
    _el(ident, "NummerImUebergeordnetenContainer", str(document.number))
    _general(element, document.title, document.uuid)
    if document.received:
        _el(element, "Posteingangsdatum", document.received.isoformat())
    if document.doc_type:
        _el(element, "Typ", document.doc_type)
    geschaeftsgang.write(element, document.uuid, document.geschaeftsgang)  # issue 16
    if document.files:
        version = _el(element, "Version")
        _el(version, "Nummer", "1")
        for entry in document.files:
            _format(version, entry)
        _fixity(element, document.files, document.scan)


def _format(parent: ET.Element, entry: FileEntry) -> None:
    code, name, format_version, _ = format_of(entry.mime, entry.kind)
    element = _el(parent, "Format")
    _code(element, "Name", code)
    _el(element, "SonstigerName", name)
    _el(element, "Version", format_version)
    primary = _el(element, "Primaerdokument")
    _el(primary, "Dateiname", entry.package_name)
    if entry.filename:
        _el(primary, "DateinameOriginal", entry.filename)
    _el(primary, "DatumUhrzeit", _time(entry.created_at))


def _fixity(parent: ET.Element, files: list[FileEntry], scan: list[tuple[str, str]]) -> None:
    extension = _el(parent, "AnwendungsspezifischeErweiterung")
    _el(extension, "Kennung", FIXITY_EXTENSION)
    _el(extension, "Name", "Prüfsummen (SHA-256) der Primärdateien")
    if scan:  # the schema allows one extension per document: the transfer note is a group of it
        group = _el(extension, "Feldgruppe")
        _el(group, "Name", "Transfervermerk")
        _el(group, "Beschreibung", "Scanstapel nach BSI TR-RESISCAN (TR-03138)")
        for name, value in scan:
            field = _el(group, "Feld")
            _el(field, "Name", name)
            _el(field, "Wert", value)
    for entry in files:
        field = _el(extension, "Feld")
        _el(field, "Name", entry.package_name)
        _el(field, "Beschreibung", f"sha256 ({entry.kind}, {entry.size} bytes)")
        _el(field, "Wert", entry.sha256)


def _serialise(root: ET.Element) -> bytes:
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def offer_list(header: Header, cases: list[CaseEntry]) -> bytes:
    """0501 Aussonderung.Anbieteverzeichnis: the cases offered, metadata only."""
    root = ET.Element(_q(f"{MESSAGE_NAMES[OFFER]}.{OFFER}"))
    _el(_head(root, header, OFFER), "Empfangsbestaetigung", "0")
    for case in cases:
        _case(root, case, with_content=False)
    return check_outgoing(_serialise(root), OFFER)


def transfer_message(header: Header, cases: list[CaseEntry]) -> bytes:
    """0503 Aussonderung.Aussonderung: the cases with their content, for the archive."""
    root = ET.Element(_q(f"{MESSAGE_NAMES[TRANSFER]}.{TRANSFER}"))
    head = _head(root, header, TRANSFER)
    _el(head, "Importbestaetigung", "1")
    _el(head, "RueckmeldungArchivkennung", "1")
    _el(head, "Empfangsbestaetigung", "0")
    for case in cases:
        _case(root, case, with_content=True)
    return check_outgoing(_serialise(root), TRANSFER)
