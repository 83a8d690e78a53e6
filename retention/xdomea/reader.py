"""Reading what the archive sends back: the appraisal (0502) and the import confirmation (0506).

Untrusted input: parsed with defusedxml (no entities, no external references), checked element
by element, and turned into plain values. Anything that is not a well-formed xdomea 3.1.0 0502
or 0506 is refused with ``XdomeaRejected`` naming the first problem; the caller applies nothing
of a refused message.
"""

from __future__ import annotations

import io
import re
import zipfile
import zlib
from dataclasses import dataclass, field
from xml.etree.ElementTree import Element

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import ParseError, fromstring

from eakte.errors import XdomeaRejected
from retention.xdomea import APPRAISAL, IMPORT_CONFIRMATION, MESSAGE_NAMES, NAMESPACE

MAX_MESSAGE_BYTES = 50 * 1024 * 1024
MAX_ZIP_ENTRIES = 100  # a message ZIP holds one XML (and perhaps a few notes)
INFLATE_CHUNK = 1 << 20
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_ROOTS = {f"{{{NAMESPACE}}}{MESSAGE_NAMES[t]}.{t}": t for t in (APPRAISAL, IMPORT_CONFIRMATION)}


@dataclass
class Appraisal:
    """0502: the archive's decision per offered object: A (archive) or V (destroy)."""

    process_id: str
    decisions: dict[str, str] = field(default_factory=dict)


@dataclass
class ImportResult:
    object_id: str
    success: bool
    archive_id: str
    errors: list[str]


@dataclass
class ImportConfirmation:
    """0506: per transferred object, taken over (with the archive's identifier) or not."""

    process_id: str
    results: list[ImportResult] = field(default_factory=list)


def _q(tag: str) -> str:
    return f"{{{NAMESPACE}}}{tag}"


def unpack(data: bytes, name: str = "") -> bytes:
    """The XML of a message delivered as XML or as a ZIP holding one XML.

    The sizes a ZIP declares are not trusted: the entry is inflated as a stream, and reading
    stops as soon as more than ``MAX_MESSAGE_BYTES`` came out."""
    if data[:4] != b"PK\x03\x04":
        return data
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            entries = archive.infolist()
            if len(entries) > MAX_ZIP_ENTRIES:
                raise XdomeaRejected(
                    f"{name or 'the ZIP'} holds {len(entries)} entries; at most "
                    f"{MAX_ZIP_ENTRIES} are read"
                )
            names = [e.filename for e in entries if e.filename.lower().endswith(".xml")]
            if len(names) != 1:
                raise XdomeaRejected(f"{name or 'the ZIP'} holds {len(names)} XML files, not 1")
            return _inflate_bounded(archive, names[0])
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError) as exc:
        raise XdomeaRejected(f"{name or 'the file'} is not a readable ZIP: {exc}") from None
    except zlib.error as exc:
        raise XdomeaRejected(f"{name or 'the file'} is damaged: {exc}") from None


def _inflate_bounded(archive: zipfile.ZipFile, member: str) -> bytes:
    # zipfile bounds each read's output for deflate only (bzip2 and LZMA inflate a whole
    # input block at once): the other methods are refused.
    if archive.getinfo(member).compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise XdomeaRejected(f"{member} is compressed with a method other than deflate")
    out = bytearray()
    with archive.open(member) as stream:
        while chunk := stream.read(INFLATE_CHUNK):  # at most this much is produced per read
            out += chunk
            if len(out) > MAX_MESSAGE_BYTES:
                raise XdomeaRejected(f"{member} is larger than {MAX_MESSAGE_BYTES} bytes")
    return bytes(out)


def parse(data: bytes) -> Appraisal | ImportConfirmation:
    """Parse a 0502 or 0506; refuse anything else."""
    if len(data) > MAX_MESSAGE_BYTES:
        raise XdomeaRejected(f"the message is larger than {MAX_MESSAGE_BYTES} bytes")
    try:
        root = fromstring(data, forbid_dtd=True)
    except (ParseError, DefusedXmlException, ValueError) as exc:
        raise XdomeaRejected(f"not well-formed XML: {exc}") from None
    message_type = _ROOTS.get(root.tag)
    if message_type is None:
        namespace, _, local = (
            root.tag[1:].partition("}") if root.tag.startswith("{") else ("", "", root.tag)
        )
        if namespace != NAMESPACE:
            raise XdomeaRejected(
                f"not an xdomea 3.1.0 message (namespace {namespace or 'none'!r}, root {local!r})"
            )
        raise XdomeaRejected(f"{local} is not an appraisal (0502) or import confirmation (0506)")
    process_id = _head(root, message_type)
    if message_type == APPRAISAL:
        return _appraisal(root, process_id)
    return _confirmation(root, process_id)


def _child(parent: Element, tag: str, where: str) -> Element:
    found = parent.find(_q(tag))
    if found is None:
        raise XdomeaRejected(f"{where}: element {tag} is missing")
    return found


def _text(parent: Element, tag: str, where: str) -> str:
    text = (_child(parent, tag, where).text or "").strip()
    if not text:
        raise XdomeaRejected(f"{where}: element {tag} is empty")
    return text


def _uuid(value: str, where: str) -> str:
    if not _UUID.match(value):
        raise XdomeaRejected(f"{where}: {value!r} is not a UUID")
    return value.lower()


def _head(root: Element, message_type: str) -> str:
    head = _child(root, "Kopf", "message")
    process_id = _uuid(_text(head, "ProzessID", "Kopf"), "Kopf/ProzessID")
    code = (_child(head, "Nachrichtentyp", "Kopf").findtext("code") or "").strip()
    if code != message_type:
        raise XdomeaRejected(f"Kopf/Nachrichtentyp says {code!r} in a {message_type} message")
    return process_id


def _appraisal(root: Element, process_id: str) -> Appraisal:
    result = Appraisal(process_id)
    objects = root.findall(_q("BewertetesObjekt"))
    if not objects:
        raise XdomeaRejected("the appraisal lists no object (BewertetesObjekt)")
    for number, element in enumerate(objects, start=1):
        where = f"BewertetesObjekt {number}"
        object_id = _uuid(_text(element, "ID", where), f"{where}/ID")
        kind = _child(element, "Aussonderungsart", where)
        code = (kind.findtext(f"{_q('Aussonderungsart')}/code") or "").strip()
        if code not in ("A", "V"):
            raise XdomeaRejected(
                f"{where}: appraisal {code or 'missing'!r} for {object_id}; "
                "the archive must decide A (archive) or V (destroy)"
            )
        if object_id in result.decisions:
            raise XdomeaRejected(f"{where}: object {object_id} is appraised twice")
        result.decisions[object_id] = code
    return result


def _confirmation(root: Element, process_id: str) -> ImportConfirmation:
    result = ImportConfirmation(process_id)
    objects = root.findall(_q("AusgesondertesSGO"))
    if not objects:
        raise XdomeaRejected("the import confirmation lists no object (AusgesondertesSGO)")
    seen: set[str] = set()
    for number, element in enumerate(objects, start=1):
        where = f"AusgesondertesSGO {number}"
        object_id = _uuid(_text(element, "IDSGO", where), f"{where}/IDSGO")
        flag = _text(element, "Erfolgreich", where).lower()
        if flag not in ("true", "false", "1", "0"):
            raise XdomeaRejected(f"{where}: Erfolgreich must be a boolean, not {flag!r}")
        success = flag in ("true", "1")
        archive_id = (element.findtext(_q("Archivkennung")) or "").strip()
        if success and not archive_id:
            raise XdomeaRejected(
                f"{where}: object {object_id} is confirmed without the archive's identifier"
            )
        if object_id in seen:
            raise XdomeaRejected(f"{where}: object {object_id} is confirmed twice")
        seen.add(object_id)
        errors = [(e.text or "").strip() for e in element.findall(_q("Fehlermeldung"))]
        result.results.append(ImportResult(object_id, success, archive_id, errors))
    return result
