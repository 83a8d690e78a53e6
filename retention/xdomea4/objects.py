"""Records objects (Akte, Vorgang, Dokument) in xdomea 4.0.0, written and read back.

The disposal types (``...AussonderungType``) and the Abgabe types differ by the ``Kontextobjekt``
flag only; ``context`` switches it. Element order follows ``xdomea-Baukasten.xsd``. Every
primary document carries its sha256 in ``Hash`` (algorithm from the KoSIT list), named
``<its own UUID>.<ext>`` in the container.
"""

from __future__ import annotations

import re
from datetime import date, datetime

from lxml import etree

from retention.xdomea.model import format_of
from retention.xdomea4.codelists import NOT_CLASSIFIED, SHA256
from retention.xdomea4.header import NS, code, el, text, timestamp
from retention.xdomea4.model import CaseObj, DocumentObj, FileObj, History, ProcessObj, VersionObj

ELECTRONIC = "001"  # Medium: elektronisch


def _general(
    parent: etree._Element,
    title: str,
    reference: str,
    *,
    org_unit: str = "",
    note: str = "",
    node: tuple[str, str] | None = None,
) -> None:
    general = el(parent, "AllgemeineMetadaten")
    el(general, "Betreff", title)
    if reference:
        el(general, "Kennzeichen", reference)
    if org_unit:
        el(general, "Federfuehrung", org_unit)
    secrecy = el(general, "Geheimhaltung")
    code(secrecy, "Geheimhaltungsgrad", "GeheimhaltungsgradCodeType", *NOT_CLASSIFIED)
    if note:
        el(general, "Bemerkung", note)
    code(general, "Medium", "MediumCodeType", ELECTRONIC)
    if node is not None and node[0]:
        unit = el(general, "Aktenplaneinheit")
        el(unit, "Kennzeichen", node[0])
        if node[1]:
            el(unit, "Inhaltsangabe", node[1])


def _history(parent: etree._Element, entries: list[History]) -> None:
    for entry in entries:
        item = el(parent, "HistorienProtokollInformation")
        el(item, "Akteur", entry.actor or "eAkte")
        el(item, "DatumUhrzeit", timestamp(entry.at))
        if entry.note:
            el(item, "Bemerkung", entry.note)
        el(item, "Aktion", entry.action)


def _period(parent: etree._Element, begin: date | None, end: date | None) -> None:
    if begin or end:
        period = el(parent, "Laufzeit")
        if begin:
            el(period, "Beginn", begin.isoformat())
        if end:
            el(period, "Ende", end.isoformat())


def _retention(parent: etree._Element, case: CaseObj) -> None:
    if not case.action:
        return
    meta = el(parent, "Aussonderungsmetadaten")
    duration = el(meta, "Aufbewahrungsdauer")
    if case.period_years is None:
        el(duration, "Unbefristet", "1")  # fixed value in the schema
    else:
        el(duration, "AnzahlJahre", str(case.period_years))
    code(el(meta, "Aussonderungsart"), "Aussonderungsart", "AussonderungsartCodeType", case.action)
    if case.proposal:
        code(meta, "Bewertungsvorschlag", "BewertungsvorschlagCodeType", case.proposal)
    if case.retention_end:
        el(meta, "Aufbewahrungsende", case.retention_end.isoformat())


def write_case(parent: etree._Element, case: CaseObj, *, context: bool | None, content: bool):
    """``Akte`` under ``parent``; ``context``: the disposal types' Kontextobjekt flag (None for
    the Abgabe types, which have none)."""
    record = el(parent, "Akte")
    el(el(record, "Identifikation"), "xdomeaUUID", case.uuid)
    if context is not None:
        el(record, "Kontextobjekt", "true" if context else "false")
    _general(
        record,
        case.title,
        case.reference,
        org_unit=case.org_unit,
        note=case.description,
        node=(case.node_code, case.node_title),
    )
    _retention(record, case)
    _period(record, case.created, case.closed)
    _history(record, case.history)
    if content and case.processes:
        inner = el(record, "Akteninhalt")
        for process in case.processes:
            _process(inner, case, process, context=context)
    el(record, "ZdA", "true" if case.closed else "false")
    if case.closed:
        el(record, "ZdADatum", case.closed.isoformat())


def _process(parent: etree._Element, case: CaseObj, process: ProcessObj, *, context: bool | None):
    element = el(parent, "Vorgang")
    ident = el(element, "Identifikation")
    el(ident, "xdomeaUUID", process.uuid)
    el(ident, "NummerImUebergeordnetenContainer", str(process.number))
    if context is not None:
        el(element, "Kontextobjekt", "false")
    _general(element, process.title, process.reference or f"{case.reference}/{process.number}")
    el(element, "ZdA", "true" if process.closed else "false")
    if process.closed:
        el(element, "ZdADatum", process.closed.isoformat())
    _history(element, process.history)
    for document in process.documents:
        _document(el(element, "DokumentOderDokumentMitSchriftstueck"), document)


def _document(parent: etree._Element, document: DocumentObj) -> None:
    element = el(parent, "Dokument")
    ident = el(element, "Identifikation")
    el(ident, "xdomeaUUID", document.uuid)
    el(ident, "NummerImUebergeordnetenContainer", str(document.number))
    _general(element, document.title, document.reference)
    if document.received:
        el(element, "Posteingangsdatum", document.received.isoformat())
    if document.doc_type:
        el(element, "Typ", document.doc_type)
    _history(element, document.history)
    if document.correspondent:
        contact = el(element, "WeitererKontakt")
        el(el(contact, "NameInstitution"), "Name", document.correspondent)
        el(contact, "Rolle", "Korrespondent")
    for version in document.versions:
        _version(element, version)


def _version(parent: etree._Element, version: VersionObj) -> None:
    element = el(parent, "Version")
    el(element, "Nummer", str(version.number))
    for entry in version.files:
        format_code, name, format_version, _ = format_of(entry.mime, entry.kind)
        fmt = el(element, "Format")
        code(fmt, "Name", "DateiformatCodeType", format_code)
        el(fmt, "SonstigerName", f"{name} [{entry.kind}; {entry.mime}]")
        el(fmt, "Version", format_version)
        primary = el(fmt, "Primaerdokument")
        el(primary, "Dateiname", entry.package_name)
        if entry.filename:
            el(primary, "DateinameOriginal", entry.filename)
        el(primary, "DatumUhrzeit", timestamp(entry.created_at))
        digest = el(primary, "Hash")
        el(digest, "Wert", entry.sha256)
        code(digest, "Algorithmus", "KryptographischeAlgorithmenCodeType", *SHA256)


# --- reading -----------------------------------------------------------------------------

_KIND = re.compile(r"\[(original|rendition); ([^\]]*)\]$")


def _date(value: str) -> date | None:
    return date.fromisoformat(value[:10]) if value else None


def _datetime(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _read_history(node: etree._Element) -> list[History]:
    return [
        History(
            actor=text(item, "x:Akteur"),
            at=_datetime(text(item, "x:DatumUhrzeit")),
            action=text(item, "x:Aktion"),
            note=text(item, "x:Bemerkung"),
        )
        for item in node.iterfind("x:HistorienProtokollInformation", NS)
    ]


def _read_file(fmt: etree._Element, problems: list[str]) -> FileObj:
    primary = fmt.find("x:Primaerdokument", NS)
    assert primary is not None  # required by the schema
    name = text(primary, "x:Dateiname")
    other = text(fmt, "x:SonstigerName")
    match = _KIND.search(other)
    kind, mime = (match.group(1), match.group(2)) if match else ("original", "")
    algorithm = text(primary, "x:Hash/x:Algorithmus/code")
    sha256 = text(primary, "x:Hash/x:Wert").lower()
    if not sha256:
        problems.append(f"{name}: no hash of the primary document")
    elif algorithm and algorithm != SHA256[0]:
        problems.append(f"{name}: hash algorithm {algorithm} is not accepted (SHA-256 only)")
    stem, _, extension = name.rpartition(".")
    return FileObj(
        uuid=stem or name,
        kind=kind,
        filename=text(primary, "x:DateinameOriginal") or name,
        mime=mime,
        sha256=sha256,
        size=0,
        created_at=_datetime(text(primary, "x:DatumUhrzeit") or "1970-01-01T00:00:00Z"),
        extension=extension,
    )


def _read_document(node: etree._Element, problems: list[str]) -> DocumentObj:
    document = DocumentObj(
        uuid=text(node, "x:Identifikation/x:xdomeaUUID"),
        number=int(text(node, "x:Identifikation/x:NummerImUebergeordnetenContainer") or 0),
        title=text(node, "x:AllgemeineMetadaten/x:Betreff"),
        reference=text(node, "x:AllgemeineMetadaten/x:Kennzeichen"),
        received=_date(text(node, "x:Posteingangsdatum")),
        doc_type=text(node, "x:Typ"),
        correspondent=text(node, "x:WeitererKontakt/x:NameInstitution/x:Name"),
        history=_read_history(node),
    )
    for version in node.iterfind("x:Version", NS):
        number = text(version, "x:Nummer")
        document.versions.append(
            VersionObj(
                int(number) if number.isdigit() else len(document.versions) + 1,
                [_read_file(f, problems) for f in version.iterfind("x:Format", NS)],
            )
        )
    return document


def _documents(node: etree._Element, problems: list[str]) -> list[DocumentObj]:
    found = []
    for wrapper in node.iterfind("x:DokumentOderDokumentMitSchriftstueck", NS):
        doc = wrapper.find("x:Dokument", NS)
        if doc is None:
            problems.append("a DokumentMitSchriftstueck is not supported; take it in as documents")
            continue
        found.append(_read_document(doc, problems))
    return found


def _read_process(node: etree._Element, number: int, problems: list[str]) -> ProcessObj:
    closed = text(node, "x:ZdADatum") or text(node, "x:Laufzeit/x:Ende")
    process = ProcessObj(
        uuid=text(node, "x:Identifikation/x:xdomeaUUID"),
        number=int(text(node, "x:Identifikation/x:NummerImUebergeordnetenContainer") or number),
        title=text(node, "x:AllgemeineMetadaten/x:Betreff"),
        reference=text(node, "x:AllgemeineMetadaten/x:Kennzeichen"),
        closed=_date(closed) if text(node, "x:ZdA") in ("true", "1") or closed else None,
        history=_read_history(node),
        documents=_documents(node, problems),
    )
    if node.find("x:Teilvorgang", NS) is not None:
        problems.append(f"process {process.uuid}: sub-processes (Teilvorgang) are not supported")
    return process


def _retention_of(node: etree._Element, case: CaseObj) -> None:
    meta = node.find("x:Aussonderungsmetadaten", NS)
    if meta is None:
        return
    years = text(meta, "x:Aufbewahrungsdauer/x:AnzahlJahre")
    case.period_years = int(years) if years else None
    case.action = text(meta, "x:Aussonderungsart/x:Aussonderungsart/code")
    case.retention_end = _date(text(meta, "x:Aufbewahrungsende"))


def read_case(node: etree._Element, problems: list[str]) -> CaseObj:
    """A ``Akte`` (with its processes and their documents) or a lone ``Vorgang`` (taken in as
    a case with that one process) as plain values; what cannot be taken in goes to
    ``problems``."""
    tag = etree.QName(node).localname
    case = CaseObj(
        uuid=text(node, "x:Identifikation/x:xdomeaUUID"),
        reference=text(node, "x:AllgemeineMetadaten/x:Kennzeichen"),
        title=text(node, "x:AllgemeineMetadaten/x:Betreff"),
        node_code=text(node, "x:AllgemeineMetadaten/x:Aktenplaneinheit/x:Kennzeichen"),
        node_title=text(node, "x:AllgemeineMetadaten/x:Aktenplaneinheit/x:Inhaltsangabe"),
        org_unit=text(node, "x:AllgemeineMetadaten/x:Federfuehrung"),
        description=text(node, "x:AllgemeineMetadaten/x:Bemerkung"),
        created=_date(text(node, "x:Laufzeit/x:Beginn")),
        closed=_date(text(node, "x:ZdADatum") or text(node, "x:Laufzeit/x:Ende")),
        history=_read_history(node),
    )
    _retention_of(node, case)
    if tag == "Vorgang":
        case.processes.append(_read_process(node, 1, problems))
        return case
    inner = node.find("x:Akteninhalt", NS)
    if inner is not None:
        if inner.find("x:Teilakte", NS) is not None:
            problems.append(f"case {case.reference}: sub-files (Teilakte) are not supported")
        loose = _documents(inner, problems)
        for number, process_node in enumerate(inner.iterfind("x:Vorgang", NS), start=1):
            case.processes.append(_read_process(process_node, number, problems))
        if loose:  # documents directly in the file: a process of their own
            case.processes.append(
                ProcessObj(case.uuid, len(case.processes) + 1, "Dokumente", documents=loose)
            )
    return case
