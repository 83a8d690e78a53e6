"""Issue 27: disposal in xdomea 4.0.0 beside 3.1.0 — 0501, 0502 (+ 0505 receipt), 0503 split
into several messages of one ProzessID, 0504 / 0507 receipts, 0506 per object; every message
validated by a second validator; foreign answers refused with nothing applied."""

import hashlib
import uuid
import zipfile
from datetime import date

import pytest
import xmlschema
from lxml import etree
from sqlalchemy import select

from eakte.errors import XdomeaRejected
from eakte.models import Case
from retention import disposal
from retention.models import DisposalItem
from retention.xdomea4 import codelists, takein, transfer
from retention.xdomea4.models import XdomeaMessage
from retention.xdomea4.schema import ENTRY
from tests.fixtures.s3 import wait_for_floor
from tests.retention import xdomea4_archive as archive
from tests.retention.test_xdomea import archive_plan  # noqa: F401  (fixture)

NS = {"x": "urn:xoev-de:xdomea:schema:4.0.0"}


@pytest.fixture(scope="session")
def xsd4():
    """The packaged 4.0.0 schema read by xmlschema: independent of production's lxml check."""
    return xmlschema.XMLSchema(str(ENTRY), allow="local")


def _open(path):
    with zipfile.ZipFile(path) as z:
        names = z.namelist()
        (xml_name,) = [n for n in names if n.endswith(".xml")]
        return xml_name, z.read(xml_name), {n: z.read(n) for n in names if n != xml_name}


def test_code_lists_come_from_the_schema():
    lists = codelists.all_lists()
    assert lists["NachrichtentypCodeType"].version == "3.0"
    assert codelists.message_name("0503") == "Aussonderung.Aussonderung"
    assert set(lists["AussonderungsartCodeType"].codes) == {"A", "B", "V"}
    assert lists["DateiformatCodeType"].uri == "urn:xoev-de:xdomea:codeliste:dateiformat"


def test_disposal_4_split_into_three_confirmed_per_object(
    records,
    world,
    archive_plan,  # noqa: F811
    xsd4,
    tmp_path,
):
    cases = [
        records.case(f"Neubau {n}", node="60.02", closed_on=date(2012, 5, 1), documents_=2)
        for n in range(3)
    ]
    by_uuid = {str(c.uuid): c for c in cases}
    with world.session() as s:
        # 1 byte: every case passes the limit, so each travels in a 0503 of its own.
        transfer.set_archive(s, world.officer, "Landesarchiv", version="4.0.0", max_message_bytes=1)
        assert transfer.version_for(s, world.tenant.id, "Landesarchiv") == "4.0.0"
        assert transfer.version_for(s, world.tenant.id, "Stadtarchiv") == "3.1.0"
        request = disposal.propose(s, world.officer, [c.id for c in cases])
        disposal.approve(s, world.officer2, request.id)
        pid = request.xdomea_process_id
        wait_for_floor(records.store)

        offer = transfer.export_offer(
            s, world.officer, request.id, tmp_path, archive="Landesarchiv"
        )
        assert [p.name for p in offer.paths] == [f"{pid}_0501_1.zip"]
        _, xml, files = _open(offer.paths[0])
        assert files == {}  # metadata only
        xsd4.validate(xml.decode())
        root = etree.fromstring(xml)
        assert root.findtext("x:nachrichtenkopf/x:ProzessID", namespaces=NS) == pid
        assert root.find("x:nachrichtenkopf/x:leser", NS) is not None
        offered = root.xpath(
            "x:Schriftgutobjekt/x:Akte/x:Identifikation/x:xdomeaUUID/text()", namespaces=NS
        )
        assert sorted(offered) == sorted(by_uuid)

        # 0504: the archive got the offer.
        receipt = archive.message("0504", pid, offer.message_uuids[0])
        xsd4.validate(receipt.decode())
        got = transfer.receive(s, world.officer, receipt, name="0504.xml")
        assert got.acknowledged == offer.message_uuids[0]

        # 0502: all A; it asks for a receipt, and eAkte writes a valid 0505.
        answer = archive.appraisal(pid, offer.message_uuids[0], dict.fromkeys(by_uuid, "A"))
        xsd4.validate(answer.decode())
        got = transfer.receive(s, world.officer, answer, name="0502.xml")
        assert sorted(got.archived) == sorted(c.file_reference for c in cases)
        xsd4.validate(got.reply.decode())
        assert etree.fromstring(got.reply).findtext("x:UUIDUrsprungsnachricht", namespaces=NS)

        # 0503: three containers of one process, named <ProzessID>_0503_<n>.zip.
        sent = transfer.export_transfer(
            s, world.officer, records.store, request.id, tmp_path, archive="Landesarchiv"
        )
        assert [p.name for p in sent.paths] == [f"{pid}_0503_{n}.zip" for n in (1, 2, 3)]
        carried = {}
        for n, path in enumerate(sent.paths, start=1):
            xml_name, xml, members = _open(path)
            assert xml_name == f"{pid}_0503_{n}.xml"
            xsd4.validate(xml.decode())
            root = etree.fromstring(xml)
            assert root.findtext("x:LfdNrNachrichtProTyp", namespaces=NS) == str(n)
            assert root.findtext("x:GesamtanzahlNachrichtenProTyp", namespaces=NS) == "3"
            assert root.findtext("x:nachrichtenkopf/x:ProzessID", namespaces=NS) == pid
            (case_uuid,) = root.xpath(
                "x:Schriftgutobjekt/x:Akte/x:Identifikation/x:xdomeaUUID/text()", namespaces=NS
            )
            carried[case_uuid] = sent.message_uuids[n - 1]
            every = root.xpath("//x:xdomeaUUID/text()", namespaces=NS)
            assert len(every) == len(set(every)) == 1 + 1 + 2  # case, process, 2 documents
            hashes = {
                p.findtext("x:Dateiname", namespaces=NS): p.findtext("x:Hash/x:Wert", namespaces=NS)
                for p in root.iterfind(".//x:Primaerdokument", NS)
            }
            assert set(hashes) == set(members) and len(members) == 2
            for name, data in members.items():
                assert hashes[name] == hashlib.sha256(data).hexdigest()
                uuid.UUID(name.rsplit(".", 1)[0])
        assert set(carried) == set(by_uuid)
        # Another system's take-in reads such a 0503 too: complete, every hash right.
        checked = takein.check(sent.paths[0])
        assert checked.problems == [] and checked.handed and len(checked.handed.cases) == 1

        # 0507 for each container.
        for message_uuid in sent.message_uuids:
            transfer.receive(s, world.officer, archive.message("0507", pid, message_uuid))

        # A 0506 naming a case through a message that did not carry it: refused, nothing applied.
        first, second, third = list(carried)
        wrong = archive.confirmation(pid, carried[first], {second: "X"})
        with pytest.raises(XdomeaRejected):
            transfer.receive(s, world.officer, wrong, name="wrong.xml")
        assert s.get(Case, by_uuid[second].id).disposal_state != "transferred"

        # 0506 per message, as the archive writes them: the second case failed.
        results = {first: "LA Best. 1 Nr. 1", second: None, third: "LA Best. 1 Nr. 3"}
        for case_uuid, archive_id in results.items():
            confirmed = archive.confirmation(pid, carried[case_uuid], {case_uuid: archive_id})
            xsd4.validate(confirmed.decode())
            transfer.receive(s, world.officer, confirmed, name=f"0506-{case_uuid}.xml")
        s.expire_all()
        assert s.get(Case, by_uuid[first].id).archive_id == "LA Best. 1 Nr. 1"
        assert s.get(Case, by_uuid[third].id).disposal_state == "transferred"
        failed = s.scalar(select(DisposalItem).where(DisposalItem.case_id == by_uuid[second].id))
        assert failed.state == "to_transfer" and "Primärdatei unlesbar" in failed.note

        # The failed one is offered again: a fourth container of the same process.
        again = transfer.export_transfer(
            s, world.officer, records.store, request.id, tmp_path, archive="Landesarchiv"
        )
        assert [p.name for p in again.paths] == [f"{pid}_0503_4.zip"]
        _, xml, _ = _open(again.paths[0])
        xsd4.validate(xml.decode())
        transfer.receive(
            s, world.officer, archive.confirmation(pid, again.message_uuids[0], {second: "LA 2"})
        )
        s.expire_all()
        assert s.get(Case, by_uuid[second].id).disposal_state == "transferred"

        # A message received twice is refused the second time.
        with pytest.raises(XdomeaRejected):
            transfer.receive(s, world.officer, receipt, name="0504.xml")
        kinds = sorted(m.message_type for m in s.scalars(select(XdomeaMessage)))
        assert kinds.count("0503") == 4 and kinds.count("0506") == 4 and "0505" in kinds


def test_a_3_1_0_answer_is_not_taken_for_4_0_0(records, world, tmp_path):
    """The 3.1.0 receiver keeps its own messages; a 3.1.0 message given to the 4.0.0 reader is
    refused by the schema check, naming what it is."""
    old = (
        b'<?xml version="1.0"?><x:Aussonderung.Bewertungsverzeichnis.0502 '
        b'xmlns:x="urn:xoev-de:xdomea:schema:3.1.0"/>'
    )
    with world.session() as s, pytest.raises(XdomeaRejected, match=r"not an xdomea 4\.0\.0"):
        transfer.receive(s, world.officer, old, name="old.xml")
