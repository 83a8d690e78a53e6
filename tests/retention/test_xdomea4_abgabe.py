"""Issue 27: Abgabe in xdomea 4.0.0 — a case written as 0401 by one tenant and taken in by
another, equal in every document hash, date and metadata field, `eakte verify` clean; the
receiver's 0402 read back; containers with a wrong hash, a missing primary document or a
broken schema refused with nothing stored; an interrupted take-in resumed."""

import json
import zipfile
from datetime import date

import pytest
import xmlschema
from lxml import etree
from sqlalchemy import func, select

from eakte.errors import Conflict, XdomeaRejected
from eakte.models import Case, Document, FileVersion, Role, StoredObject
from eakte.services import accounts, cases, fileplan
from eakte.services.intake import IncomingFile, Target, intake
from eakte.verify import VerifyContext, run_verify
from retention import schedules
from retention.xdomea4 import exchange, takein
from retention.xdomea4.abgabe import read_handover
from retention.xdomea4.models import ImportedObject, XdomeaImport
from retention.xdomea4.schema import ENTRY
from tests.fixtures.app import PASSWORD
from tests.ingest.conftest import born_digital_pdf
from tests.retention import xdomea4_archive as archive
from tests.retention.conftest import Crash

NS = {"x": "urn:xoev-de:xdomea:schema:4.0.0"}


@pytest.fixture(scope="session")
def xsd4():
    return xmlschema.XMLSchema(str(ENTRY), allow="local")


@pytest.fixture
def receiver(world):
    """A second tenant (the neighbouring town) with a records officer who may take in."""
    with world.session() as s:
        tenant = accounts.add_tenant(s, "nachbar", "Gemeinde Nachbarort", PASSWORD)
        admin = s.scalar(
            select(accounts.User).where(
                accounts.User.tenant_id == tenant.id, accounts.User.username == "admin"
            )
        )
        accounts.add_org_unit(s, admin, "10", "Hauptamt", None)
        officer = accounts.create_user(
            s,
            tenant,
            "registratur",
            PASSWORD,
            {Role.records_officer, Role.clerk},
            org_unit_code="10",
        )
        schedules.create_schedule(s, officer, "Übernahme 10 Jahre", period_years=10, action="A")
        fileplan.create_node(
            s,
            officer,
            "01",
            "Übernommene Akten",
            schedule_name="Übernahme 10 Jahre",
            org_unit_code="10",
        )
        return officer


def _source_case(world, records, title: str, documents_: int = 2):
    """A case of the sending town with documents really taken in, one with a rendition."""
    with world.session() as s:
        unit = cases.find_node(s, world.officer, "32.10.05").org_unit_id
        case = cases.create_case(
            s, world.officer, "32.10.05", title, org_unit_id=unit, description="Akte mit Historie"
        )
        process = cases.add_process(s, world.officer, case.id, "Antrag und Bescheid")
    for number in range(documents_):
        with world.session() as s:
            result = intake(
                s,
                world.clerk,
                records.store,
                IncomingFile(
                    born_digital_pdf(1, f"{title} Schreiben {number}"),
                    f"schreiben-{number}.pdf",
                    target=Target(process=process.id),
                ),
                settings=world.rt.settings,
            )
            assert result.accepted and result.document is not None, result.reason
            document_id = result.document.id
        if number == 0:
            records.add_rendition(document_id)
        with world.session() as s, s.begin():
            doc = s.get(Document, document_id)
            doc.received_date = date(2011, 2, 3 + number)
            doc.doc_type = "Antrag"
            doc.correspondent = "Jürgen Müller"
    with world.session() as s:
        cases.close_case(s, world.officer, case.id, on=date(2012, 6, 30))
        return s.get(Case, case.id)


def _comparable(xml: bytes) -> list[dict]:
    """Every field that must survive the round trip (not the local UUIDs and references)."""
    handed = read_handover(xml)
    out = []
    for case in handed.cases:
        out.append(
            {
                "title": case.title,
                "description": case.description,
                "created": case.created,
                "closed": case.closed,
                "processes": [
                    (
                        p.title,
                        p.closed,
                        [
                            (
                                d.title,
                                d.received,
                                d.doc_type,
                                d.correspondent,
                                [
                                    [(f.kind, f.sha256, f.filename) for f in v.files]
                                    for v in d.versions
                                ],
                            )
                            for d in p.documents
                        ],
                    )
                    for p in case.processes
                ],
            }
        )
    return out


def _message(path) -> bytes:
    with zipfile.ZipFile(path) as z:
        (name,) = [n for n in z.namelist() if n.endswith(".xml")]
        return z.read(name)


def _counts(s, tenant_id):
    return (
        s.scalar(select(func.count(Case.id)).where(Case.tenant_id == tenant_id)),
        s.scalar(select(func.count(Document.id)).where(Document.tenant_id == tenant_id)),
        s.scalar(select(func.count(StoredObject.id)).where(StoredObject.tenant_id == tenant_id)),
    )


def test_round_trip_between_tenants(world, records, receiver, xsd4, tmp_path, settings):
    first = _source_case(world, records, "Gaststätte Zur Linde")
    second = _source_case(world, records, "Gaststätte Hirsch", documents_=1)
    out = tmp_path / "out"
    out.mkdir()
    with world.session() as s:
        sent = exchange.export_handover(
            s, world.officer, records.store, [first.id, second.id], out, recipient="Nachbarort"
        )
    assert sent.path.name == f"{sent.process_id}_0401_1.zip"
    xml = _message(sent.path)
    xsd4.validate(xml.decode())
    with zipfile.ZipFile(sent.path) as z:
        assert sent.files == len(z.namelist()) - 1 >= 4  # 3 originals, renditions

    with world.session() as s:
        taken = takein.take_in(s, receiver, records.store, sent.path, node="01", settings=settings)
        assert not taken.problems, taken.problems
        assert len(taken.cases) == 2
        xsd4.validate(taken.reply.decode())
        imported = {o.former_reference: o for o in s.scalars(select(ImportedObject))}
        assert set(imported) == {first.file_reference, second.file_reference}
        history = json.loads(imported[first.file_reference].history)
        assert [h["action"] for h in history][:1] == ["create"] and len(history) >= 2
        new_ids = [o.case_id for o in imported.values()]
        again = exchange.export_handover(
            s, receiver, records.store, new_ids, tmp_path, recipient="Prüfung"
        )
        assert run_verify(VerifyContext(s, records.store)).clean
        # Taking the same container in twice is refused.
        with pytest.raises(Conflict):
            takein.take_in(s, receiver, records.store, sent.path, node="01", settings=settings)

    back = _message(again.path)
    xsd4.validate(back.decode())
    assert sorted(_comparable(back), key=str) == sorted(_comparable(xml), key=str)

    # The receiver's 0402, read back by the sender.
    with world.session() as s:
        answer = archive.import_confirmation(
            sent.process_id, sent.message_uuid, {str(first.uuid): True, str(second.uuid): False}
        )
        xsd4.validate(answer.decode())
        got = exchange.receive_answer(s, world.officer, answer, name="0402.xml")
        assert got.taken == [str(first.uuid)] and list(got.refused) == [str(second.uuid)]
        # What takein wrote is a 0402 too, and answers the right message.
        root = etree.fromstring(taken.reply)
        assert root.findtext("x:UUIDUrsprungsnachricht", namespaces=NS) == sent.message_uuid


def _rewrite(src, dst, *, drop=None, replace=None):
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for name in zin.namelist():
            if name == drop:
                continue
            data = zin.read(name)
            if replace and name in replace:
                data = replace[name](data)
            zout.writestr(name, data)


def test_bad_containers_are_refused_and_nothing_is_stored(
    world, records, receiver, tmp_path, settings
):
    case = _source_case(world, records, "Bauantrag Schmidt")
    with world.session() as s:
        sent = exchange.export_handover(
            s, world.officer, records.store, [case.id], tmp_path, recipient="Nachbarort"
        )
        before = _counts(s, receiver.tenant_id)
    with zipfile.ZipFile(sent.path) as z:
        names = z.namelist()
    xml_name = next(n for n in names if n.endswith(".xml"))
    primary = sorted(n for n in names if n != xml_name)
    wrong_hash = tmp_path / "wrong.zip"
    _rewrite(sent.path, wrong_hash, replace={primary[0]: lambda d: d + b"x"})
    missing = tmp_path / "missing.zip"
    _rewrite(sent.path, missing, drop=primary[1])
    broken = tmp_path / "broken.zip"
    _rewrite(
        sent.path,
        broken,
        replace={
            xml_name: lambda d: d.replace(b"<xdomea:Betreff>", b"<xdomea:Titel>", 1).replace(
                b"</xdomea:Betreff>", b"</xdomea:Titel>", 1
            )
        },
    )
    for path, expected in (
        (wrong_hash, f"{primary[0]}: sha256"),
        (missing, f"{primary[1]}: primary document missing"),
        (broken, "does not match the xdomea 4.0.0 schema"),
    ):
        with world.session() as s:
            result = takein.take_in(s, receiver, records.store, path, node="01", settings=settings)
            assert result.record.state == "refused"
            assert any(expected in p for p in result.problems), result.problems
            assert json.loads(result.record.report) == result.problems
            assert _counts(s, receiver.tenant_id) == before


def test_an_interrupted_take_in_resumes(world, records, receiver, tmp_path, settings, monkeypatch):
    cases_ = [_source_case(world, records, f"Akte {n}", documents_=2) for n in range(2)]
    with world.session() as s:
        sent = exchange.export_handover(
            s, world.officer, records.store, [c.id for c in cases_], tmp_path, recipient="N"
        )
    real = takein._take_document
    calls = {"n": 0}

    def dies_on_the_third(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise Crash("the process dies while taking in")
        return real(*args, **kwargs)

    monkeypatch.setattr(takein, "_take_document", dies_on_the_third)
    with world.session() as s, pytest.raises(Crash):
        takein.take_in(s, receiver, records.store, sent.path, node="01", settings=settings)
    monkeypatch.setattr(takein, "_take_document", real)
    with world.session() as s:
        result = takein.take_in(s, receiver, records.store, sent.path, node="01", settings=settings)
        assert result.record.state == "done" and len(result.cases) == 2
        cases_b, documents_b, _ = _counts(s, receiver.tenant_id)
        assert (cases_b, documents_b) == (2, 4)  # nothing twice
        assert s.scalar(select(func.count(XdomeaImport.id))) == 1
        hashes = set(
            s.scalars(
                select(FileVersion.sha256)
                .join(Document, Document.id == FileVersion.document_id)
                .where(Document.tenant_id == receiver.tenant_id)
            )
        )
        sent_hashes = {
            f.sha256 for c in read_handover(_message(sent.path)).cases for f in c.files()
        }
        assert hashes >= sent_hashes
        assert run_verify(VerifyContext(s, records.store)).clean


def test_a_foreign_0402_is_refused(world, records, tmp_path):
    with world.session() as s, pytest.raises(XdomeaRejected):
        exchange.receive_answer(
            s,
            world.officer,
            archive.import_confirmation(
                "0" * 8 + "-0000-4000-8000-" + "0" * 12, "1" * 8 + "-0000-4000-8000-" + "0" * 12, {}
            ),
        )
