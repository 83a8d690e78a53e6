"""OZG application packages through the API (issue 17): the tenant's mapping of the service
key decides inbox or new case; the structured data becomes a searchable document with the
original embedded; a repeated delivery adds nothing. operation: deliverOzgPackage"""

from __future__ import annotations

import io
import json

import pikepdf
import pytest
from sqlalchemy import func, select

from eakte.models import Case, Document
from eakte.models.api import Scope
from eakte.services import accounts, api_tokens, ozg
from tests.ingest.conftest import born_digital_pdf

DATA = {
    "antragsteller": {"name": "Bäckerei Schmidt GmbH", "vertreter": ["Jürgen Müller"]},
    "betrieb": {"anschrift": "Hauptstraße 12, 61250 Usingen", "beginn": "2026-12-01"},
}


@pytest.fixture
def portal(world):
    with world.session() as s:
        user = accounts.find_user(s, world.tenant, "sachb")
        _, plain = api_tokens.create_token(s, user, "Portal", {Scope.intake})
    return {"Authorization": f"Bearer {plain}"}


def _post(client, headers, key, external_id, data: bytes, name="antrag.json", files=()):
    form = {
        "service_key": key,
        "external_id": external_id,
        "applicant": "Bäckerei Schmidt GmbH",
        "data": (io.BytesIO(data), name),
        "files": [(io.BytesIO(pdf), f"Anlage{n}.pdf") for n, pdf in enumerate(files)],
    }
    return client.post("/api/v1/ozg", data=form, headers=headers)


def test_package_creates_a_case_with_searchable_data(client, world, portal):
    with world.session() as s:
        ozg.set_mapping(
            s, world.officer, "99050012104000", org_unit="32", mode="case",
            file_plan="32.10.05", service_name="Gewerbeanmeldung",
        )  # fmt: skip
    raw = json.dumps(DATA, ensure_ascii=False).encode()
    sent = _post(client, portal, "99050012104000", "p-1", raw, files=[born_digital_pdf(1)])
    assert sent.status_code == 201, sent.get_json()
    body = sent.get_json()
    assert body["mode"] == "case" and body["case"].startswith("32.10.05")
    assert [d["outcome"] for d in body["documents"]] == ["accepted", "accepted"]
    with world.session() as s:
        case = s.scalar(select(Case).where(Case.file_reference == body["case"]))
        assert case.title == "Gewerbeanmeldung: Bäckerei Schmidt GmbH"
        data_doc = s.scalar(select(Document).where(Document.doc_type == "Antragsdaten"))
        assert str(data_doc.process.uuid) == body["process"]
        assert "Hauptstraße 12" in data_doc.extracted_text  # searchable at once
        version = data_doc.versions[0]
    with world.rt.store.open(version.s3_key, version.s3_version_id, version.sha256) as reader:
        stored = reader.read()
    with pikepdf.open(io.BytesIO(stored)) as pdf:
        embedded = pdf.attachments["antrag.json"].get_file().read_bytes()
    assert json.loads(embedded) == DATA  # the delivered data, unchanged
    again = _post(client, portal, "99050012104000", "p-1", raw, files=[born_digital_pdf(1)])
    assert again.status_code == 200
    with world.session() as s:
        assert s.scalar(select(func.count(Document.id))) == 2
        assert s.scalar(select(func.count(Case.id))) == 1


def test_package_to_an_inbox_xml_and_refusals(client, world, portal):
    with world.session() as s:
        ozg.set_mapping(s, world.admin, "99001001000000", org_unit="32")
    xml = (
        "<antrag xmlns='urn:xoev'><person rolle='antragsteller'><name>Jörg Schäfer</name>"
        "</person><hund><rasse>Dackel</rasse></hund></antrag>"
    ).encode()
    sent = _post(client, portal, "99001001000000", "x-1", xml, name="antrag.xml")
    assert sent.status_code == 201 and sent.get_json()["mode"] == "inbox"
    with world.session() as s:
        doc = s.scalar(select(Document).where(Document.doc_type == "Antragsdaten"))
        assert doc.inbox_org_unit_id is not None and doc.process_id is None
        assert "antrag.person@rolle: antragsteller" in doc.extracted_text
        assert "antrag.hund.rasse: Dackel" in doc.extracted_text
    bomb = b'<!DOCTYPE a [<!ENTITY x "xxxxxxxx">]><a>&x;&x;</a>'
    assert _post(client, portal, "99001001000000", "x-2", bomb).status_code == 400
    assert _post(client, portal, "12345", "x-3", xml).status_code == 404  # no mapping
    assert _post(client, portal, "99001001000000", "", xml).status_code == 400
    with world.session() as s, pytest.raises(Exception, match="may not"):
        ozg.set_mapping(s, world.clerk, "1", org_unit="32")
