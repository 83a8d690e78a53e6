"""R13: archive transfer with xdomea 3.1.0 — offer list 0501, appraisal 0502, transfer package
0503, import confirmation 0506; every XML validated against the schema; bad answers refused."""

import hashlib
import io
import tomllib
import uuid
import xml.etree.ElementTree as ET
import zipfile
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from defusedxml.ElementTree import fromstring
from sqlalchemy import func, select

from eakte.errors import RequestNotApproved, XdomeaInvalid, XdomeaRejected
from eakte.models import AuditEvent, Case
from eakte.services import fileplan
from retention import disposal, schedules, transfer
from retention.execution import execute_request
from retention.models import DestructionCertificate, DisposalItem, TransferMessage
from retention.xdomea import NAMESPACE, writer
from retention.xdomea.model import CaseEntry, Header
from retention.xdomea.schema import SCHEMA_DIR, check_outgoing
from tests.fixtures.s3 import wait_for_floor

NS = {"x": NAMESPACE}


def _archive_message(message_type: str, process_id: str, body) -> bytes:
    """What the archive's software sends back (built to the schema, validated in the tests)."""
    names = {
        "0502": "Aussonderung.Bewertungsverzeichnis",
        "0506": "Aussonderung.AussonderungImportBestaetigen",
    }
    root = ET.Element(f"{{{NAMESPACE}}}{names[message_type]}.{message_type}")

    def el(parent, tag, text=None):
        child = ET.SubElement(parent, f"{{{NAMESPACE}}}{tag}")
        child.text = text
        return child

    head = el(root, "Kopf")
    el(head, "ProzessID", process_id)
    kind = el(head, "Nachrichtentyp")
    ET.SubElement(kind, "code").text = message_type
    el(head, "Erstellungszeitpunkt", "2026-03-01T10:00:00Z")
    el(el(el(head, "Absender"), "Institution"), "Name", "Stadtarchiv Usingen")
    el(el(el(head, "Empfaenger"), "Institution"), "Name", "Stadt Usingen")
    if message_type == "0502":
        el(head, "Empfangsbestaetigung", "0")
    body(root, el)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def appraisal(process_id: str, decisions: dict[str, str]) -> bytes:
    def body(root, el):
        for object_id, code in decisions.items():
            item = el(root, "BewertetesObjekt")
            el(item, "ID", object_id)
            ET.SubElement(el(el(item, "Aussonderungsart"), "Aussonderungsart"), "code").text = code

    return _archive_message("0502", process_id, body)


def confirmation(process_id: str, results: dict[str, str | None], success=None) -> bytes:
    """0506; an object without an archive id failed, unless ``success`` says otherwise."""

    def body(root, el):
        for object_id, archive_id in results.items():
            item = el(root, "AusgesondertesSGO")
            el(item, "IDSGO", object_id)
            taken = bool(archive_id) if success is None else success
            el(item, "Erfolgreich", "true" if taken else "false")
            if not taken:
                el(item, "Fehlermeldung", "Primärdatei unlesbar")
            if archive_id:
                el(item, "Archivkennung", archive_id)

    return _archive_message("0506", process_id, body)


@pytest.fixture
def archive_plan(world):
    with world.session() as s:
        schedules.create_schedule(s, world.officer, "Bau A 5 Jahre", period_years=5, action="A")
        schedules.create_schedule(s, world.officer, "Bau B 5 Jahre", period_years=5, action="B")
        fileplan.create_node(
            s,
            world.officer,
            "60.02",
            "Bauordnung",
            parent_code="60",
            schedule_name="Bau A 5 Jahre",
            org_unit_code="60",
        )
        fileplan.create_node(
            s,
            world.officer,
            "60.03",
            "Bauberatung",
            parent_code="60",
            schedule_name="Bau B 5 Jahre",
            org_unit_code="60",
        )


def _xml_of(path) -> bytes:
    with zipfile.ZipFile(path) as archive:
        (name,) = [n for n in archive.namelist() if n.endswith(".xml")]
        return archive.read(name)


def test_r13_offer_transfer_and_read_back_then_local_destruction(
    records, world, archive_plan, xsd, tmp_path
):
    keep = records.case("Rathausneubau", node="60.02", closed_on=date(2012, 5, 1), rendition=True)
    appraise = records.case("Bauberatung Meier", node="60.03", closed_on=date(2012, 5, 1))
    destroy = records.case("Gewerbe Zeller", closed_on=date(2010, 5, 1))
    with world.session() as s:
        request = disposal.propose(s, world.officer, [keep.id, appraise.id, destroy.id])
        with pytest.raises(RequestNotApproved):  # nothing leaves before the approval (R9)
            transfer.export_offer(s, world.officer, request.id, tmp_path)
        disposal.approve(s, world.officer2, request.id)
        process_id = request.xdomea_process_id
        wait_for_floor(records.store)  # what is destroyed here must be past its floor

        # 0501: the archive items only, metadata only, valid against the schema.
        offer = transfer.export_offer(s, world.officer, request.id, tmp_path, archive="Stadtarchiv")
        assert offer.path.name == f"{process_id}_Aussonderung.Anbieteverzeichnis.0501.zip"
        xml = _xml_of(offer.path)
        xsd.validate(xml.decode())
        root = fromstring(xml)
        offered = [
            e.text for e in root.findall("x:Schriftgutobjekt/x:Akte/x:Identifikation/x:ID", NS)
        ]
        assert offered == [str(keep.uuid), str(appraise.uuid)]
        assert root.find(".//x:Akteninhalt", NS) is None  # no primary documents in an offer

        # 0502: the archive takes the A case, the B case may be destroyed.
        answer = appraisal(process_id, {str(keep.uuid): "A", str(appraise.uuid): "V"})
        xsd.validate(answer.decode())
        received = transfer.receive(s, world.officer, answer, name="0502.xml")
        assert received.archived == [keep.file_reference]
        assert received.destroy == [appraise.file_reference]
        report = execute_request(s, world.officer, records.store, request.id)
        assert sorted(report.destroyed) == sorted([appraise.file_reference, destroy.file_reference])
        assert report.waiting == [keep.file_reference]

        # 0503: the package — XML plus every file named by its own UUID, sha256 per file.
        package = transfer.export_transfer(s, world.officer, records.store, request.id, tmp_path)
        assert package.path.name == f"{process_id}_Aussonderung.Aussonderung.0503.zip"
        with zipfile.ZipFile(package.path) as archive:
            members = {n: archive.read(n) for n in archive.namelist()}
        xml = members.pop(f"{process_id}_Aussonderung.Aussonderung.0503.xml")
        xsd.validate(xml.decode())
        root = fromstring(xml)
        fields = {
            f.find("x:Name", NS).text: f.find("x:Wert", NS).text
            for f in root.iterfind(".//x:AnwendungsspezifischeErweiterung/x:Feld", NS)
        }
        assert set(fields) == set(members) and len(members) == 2
        for name, data in members.items():
            assert fields[name] == hashlib.sha256(data).hexdigest()
            uuid.UUID(name.rsplit(".", 1)[0])  # named by a UUID of its own
        formats = {
            f.find("x:Primaerdokument/x:Dateiname", NS).text: (
                f.find("x:Name/code", NS).text,
                f.find("x:SonstigerName", NS).text,
            )
            for f in root.iterfind(".//x:Format", NS)
        }
        assert sorted(n for n, _ in formats.values()) == ["018", "019"]
        assert any("PDF/A" in name for _, name in formats.values())

        # 0506: taken over, with the archive's identifier → transferred, then destroyed here.
        confirmed = confirmation(process_id, {str(keep.uuid): "StAU Best. 12 Nr. 345"})
        xsd.validate(confirmed.decode())
        transfer.receive(s, world.officer, confirmed, name="0506.xml")
        moved = s.get(Case, keep.id)
        assert (moved.archive_id, moved.disposal_state) == ("StAU Best. 12 Nr. 345", "transferred")
        report = execute_request(s, world.officer, records.store, request.id)
        assert report.destroyed == [keep.file_reference] and report.completed
        certificate = s.scalar(
            select(DestructionCertificate).where(DestructionCertificate.case_id == keep.id)
        )
        assert "archive" in certificate.method and certificate.archive_id == "StAU Best. 12 Nr. 345"
        assert s.get(Case, keep.id).disposal_state == "transferred"
        kinds = {m.message_type for m in s.scalars(select(TransferMessage))}
        assert kinds == {"0501", "0502", "0503", "0506"}
    for key in records.keys_of_case(keep.id):
        assert records.versions_under(key) == []


BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>
<x>&lol2;</x>"""


@pytest.mark.parametrize(
    "case",
    [
        "not xml",
        "entity bomb",
        "our own offer",
        "other xdomea version",
        "unknown process",
        "foreign object",
        "no decision",
        "confirmation before transfer",
        "no archive id",
        "zip with two messages",
    ],
)
def test_r13_malformed_or_foreign_answer_is_rejected_and_changes_nothing(
    records, world, archive_plan, tmp_path, case
):
    keep = records.case("Rathausanbau", node="60.02", closed_on=date(2012, 5, 1))
    with world.session() as s:
        request = disposal.propose(s, world.officer, [keep.id])
        disposal.approve(s, world.officer2, request.id)
        offer = transfer.export_offer(s, world.officer, request.id, tmp_path)
        pid, obj = request.xdomea_process_id, str(keep.uuid)
    good = appraisal(pid, {obj: "A"})
    messages = {
        "not xml": b"%PDF-1.4 not a message",
        "entity bomb": BOMB,
        "our own offer": _xml_of(offer.path),
        "other xdomea version": good.replace(
            NAMESPACE.encode(), b"urn:xoev-de:xdomea:schema:2.4.0"
        ),
        "unknown process": appraisal(str(uuid.uuid4()), {obj: "A"}),
        "foreign object": appraisal(pid, {str(uuid.uuid4()): "A"}),
        "no decision": appraisal(pid, {obj: "B"}),
        "confirmation before transfer": confirmation(pid, {obj: "StAU 1"}),
        "no archive id": confirmation(pid, {obj: None}, success=True),
        "zip with two messages": _zip({"a.xml": good, "b.xml": good}),
    }
    with world.session() as s:
        before = [(i.state, i.action, i.appraisal) for i in s.scalars(select(DisposalItem))]
        with pytest.raises(XdomeaRejected) as refused:
            transfer.receive(s, world.officer, messages[case], name=f"{case}.xml")
        assert str(refused.value)
        after = [(i.state, i.action, i.appraisal) for i in s.scalars(select(DisposalItem))]
        assert after == before
        assert s.get(Case, keep.id).disposal_state == ""
        incoming = select(func.count(TransferMessage.id)).where(TransferMessage.direction == "in")
        assert s.scalar(incoming) == 0
        logged = s.scalar(
            select(AuditEvent)
            .where(AuditEvent.action == "xdomea_receive")
            .order_by(AuditEvent.id.desc())
        )
        assert logged.outcome == "refused"


def _zip(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()


def test_r13_an_invalid_message_is_refused_before_it_leaves(records, world, archive_plan, tmp_path):
    keep = records.case("Rathausanbau", node="60.02", closed_on=date(2012, 5, 1))
    with world.session() as s, s.begin():
        # A control character from an old import: no XML can carry it.
        s.get(Case, keep.id).title = "Rathaus\x0banbau"
    with world.session() as s:
        request = disposal.propose(s, world.officer, [keep.id])
        disposal.approve(s, world.officer2, request.id)
        out = tmp_path / "out"
        out.mkdir()
        with pytest.raises(XdomeaInvalid) as refused:
            transfer.export_offer(s, world.officer, request.id, out)
        assert "0501" in str(refused.value)
        assert list(out.iterdir()) == []  # no ZIP, not even a part of one
        assert [i.state for i in s.scalars(select(DisposalItem))] == ["pending"]
        assert s.scalar(select(func.count(TransferMessage.id))) == 0


def test_r13_the_schema_check_names_what_is_wrong():
    case = CaseEntry(
        uuid=str(uuid.uuid4()),
        file_reference="60.02-0001/2012",
        title="Rathausanbau",
        node_code="60.02",
        node_title="Bauordnung",
        org_unit="Bauamt",
        created=date(2011, 1, 1),
        closed=date(2012, 5, 1),
        retention_end=date(2018, 1, 1),
        period_years=5,
        action="A",
    )
    sent = datetime(2026, 3, 1, tzinfo=UTC)
    for write in (writer.offer_list, writer.transfer_message):
        with pytest.raises(XdomeaInvalid, match="ProzessID"):
            write(Header("not-a-uuid", sent, "Stadt Usingen", "", "Archiv"), [case])
    good = writer.offer_list(Header(str(uuid.uuid4()), sent, "Stadt", "", "Archiv"), [case])
    assert check_outgoing(good, "0501") == good
    with pytest.raises(XdomeaInvalid, match="not a 0503"):
        check_outgoing(good, "0503")


def test_the_schema_ships_as_package_data():
    """Every schema file the check reads is package data (a wheel without them would refuse
    every message)."""
    root = Path(__file__).resolve().parents[2]
    patterns = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"][
        "package-data"
    ]["retention"]
    shipped = {p for pattern in patterns for p in (root / "retention").glob(pattern)}
    files = set(SCHEMA_DIR.rglob("*.xsd"))
    assert len(files) >= 5 and files <= shipped
