"""Issue 27: the file plan as xdomea 0301 exported and imported (besides CSV), sent for
appraisal as 0511 (receipt 0512), and the archive's catalogue 0513 applied as the proposed
appraisal on the disposal list (0514 / 0515 written), changeable by the records officer."""

import uuid
import zipfile
from datetime import date

import pytest
import xmlschema
from lxml import etree
from sqlalchemy import select

from eakte.errors import XdomeaRejected
from eakte.models import FilePlanNode
from retention import disposal
from retention.xdomea4 import appraisal, transfer
from retention.xdomea4.models import NodeAppraisal
from retention.xdomea4.schema import ENTRY
from tests.retention import xdomea4_archive as archive
from tests.retention.test_xdomea import archive_plan  # noqa: F401  (fixture)
from tests.retention.test_xdomea4_abgabe import receiver  # noqa: F401  (fixture)

NS = {"x": "urn:xoev-de:xdomea:schema:4.0.0"}


@pytest.fixture(scope="session")
def xsd4():
    return xmlschema.XMLSchema(str(ENTRY), allow="local")


def _xml(path) -> bytes:
    with zipfile.ZipFile(path) as z:
        (name,) = z.namelist()
        return z.read(name)


def _plan(s, tenant_id):
    nodes = s.scalars(select(FilePlanNode).where(FilePlanNode.tenant_id == tenant_id)).all()
    by_id = {n.id: n for n in nodes}
    return sorted((n.code, n.title, by_id[n.parent_id].code if n.parent_id else "") for n in nodes)


def test_file_plan_0301_exported_and_imported_by_another_tenant(
    world,
    receiver,  # noqa: F811
    xsd4,
    tmp_path,
):
    with world.session() as s:
        path = appraisal.export_plan(s, world.officer, tmp_path, reader="Gemeinde Nachbarort")
        sent = _plan(s, world.tenant.id)
    xml = _xml(path)
    xsd4.validate(xml.decode())
    assert path.name.endswith("_0301_1.zip")
    with world.session() as s:
        before = set(_plan(s, receiver.tenant_id))
        result = appraisal.import_plan(s, receiver, xml, "plan.xml")
        assert result.created == len(set(sent) - before) > 3
        assert set(sent) <= set(_plan(s, receiver.tenant_id))
        # Something else than a 0301 is refused.
        with pytest.raises(XdomeaRejected):
            appraisal.import_plan(s, receiver, b"<x/>", "x.xml")


def test_catalogue_becomes_the_proposed_appraisal(
    records,
    world,
    archive_plan,  # noqa: F811
    xsd4,
    tmp_path,
):
    kept = records.case("Rathausneubau", node="60.02", closed_on=date(2012, 5, 1))
    advised = records.case("Bauberatung Meier", node="60.03", closed_on=date(2012, 5, 1))
    with world.session() as s:
        transfer.set_archive(s, world.officer, "Landesarchiv", version="4.0.0")
        path = appraisal.send_for_appraisal(s, world.officer, tmp_path, archive="Landesarchiv")
        xml = _xml(path)
        xsd4.validate(xml.decode())
        root = etree.fromstring(xml)
        pid = root.findtext("x:nachrichtenkopf/x:ProzessID", namespaces=NS)
        sent_uuid = root.findtext(
            "x:nachrichtenkopf/x:identifikation.nachricht/nachrichtenUUID", namespaces=NS
        )
        units = {
            e.findtext("x:Kennzeichen", namespaces=NS): e.findtext("x:xdomeaUUID", namespaces=NS)
            for e in root.iter(f"{{{NS['x']}}}Einheit")
        }
        assert {"60", "60.02", "60.03"} <= set(units)

        receipt = archive.message("0512", pid, sent_uuid)
        xsd4.validate(receipt.decode())
        assert appraisal.receive(s, world.officer, receipt).message_type == "0512"

        stranger = str(uuid.uuid4())
        catalogue = archive.catalogue(
            pid, sent_uuid, {units["60"]: "A", units["60.03"]: "V", stranger: "A"}
        )
        xsd4.validate(catalogue.decode())
        got = appraisal.receive(s, world.officer, catalogue, name="0513.xml")
        assert got.applied == {"60": "A", "60.03": "V"} and got.unknown == [stranger]
        kinds = [k for k, _ in got.replies]
        assert kinds == ["0514", "0515"]
        for _, reply in got.replies:
            xsd4.validate(reply.decode())
        assert (
            s.scalar(select(NodeAppraisal.decision).where(NodeAppraisal.node_id == kept.node_id))
            is None
        )
        assert appraisal.proposed_appraisal(s, world.tenant.id, kept.node_id) == "A"  # from 60

        request = disposal.propose(s, world.officer, [kept.id, advised.id])
        disposal.approve(s, world.officer2, request.id)
        proposals = appraisal.apply_to_request(s, world.officer, request.id)
        assert proposals == {kept.file_reference: "A", advised.file_reference: "V"}
        # The records officer disagrees about one of them.
        appraisal.set_item_appraisal(s, world.officer, request.id, advised.file_reference, "A")
        offer = transfer.export_offer(
            s, world.officer, request.id, tmp_path, archive="Landesarchiv"
        )
        with zipfile.ZipFile(offer.paths[0]) as z:
            (name,) = z.namelist()
            xml = z.read(name)
        xsd4.validate(xml.decode())
        proposed = {
            a.findtext("x:AllgemeineMetadaten/x:Kennzeichen", namespaces=NS): a.findtext(
                "x:Aussonderungsmetadaten/x:Bewertungsvorschlag/code", namespaces=NS
            )
            for a in etree.fromstring(xml).iterfind("x:Schriftgutobjekt/x:Akte", NS)
        }
        assert proposed == {kept.file_reference: "A", advised.file_reference: "A"}
        # The same catalogue twice is refused.
        with pytest.raises(XdomeaRejected):
            appraisal.receive(s, world.officer, catalogue, name="0513.xml")
