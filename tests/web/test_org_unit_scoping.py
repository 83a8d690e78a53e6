"""R17, R22: scan batches, their quality check and the quarantine belong to the org unit whose
inbox they feed; staff of another unit neither see them nor act on them (issue 14, finding 4)."""

import io
import re

import pytest
from sqlalchemy import select

from eakte.models import Role, ScanBatch
from eakte.services import accounts, documents
from tests.fixtures.app import PASSWORD, csrf_token
from tests.ingest.conftest import born_digital_pdf


@pytest.fixture
def batch_of_unit_32(world, sign_in):
    """A batch scanned into unit 32's inbox: two documents (one then restricted by a clerk)
    and one file in quarantine. Returns (batch URL, document uuids)."""
    with world.session() as s:
        accounts.create_user(
            s, world.tenant, "scan60", PASSWORD, {Role.scanner}, org_unit_code="60"
        )
    client = sign_in("scan")
    response = client.post(
        "/scanstelle/",
        data={
            "batch-csrf_token": csrf_token(client.get("/scanstelle/").get_data(as_text=True)),
            "batch-name": "Stapel Ordnungsamt",
            "batch-inbox": "32",
            "batch-colour_mode": "",
            "batch-files": [
                (io.BytesIO(born_digital_pdf(1, "Gaststätte")), "Gaststaette Linde.pdf"),
                (io.BytesIO(born_digital_pdf(1, "Anzeige")), "Anzeige Nachbar Vertraulich.pdf"),
                (io.BytesIO(b"MZ" + b"\0" * 64), "schadcode-32.pdf"),
            ],
        },
        content_type="multipart/form-data",
    )
    batch_url = response.headers["Location"]
    with world.session() as s:
        batch = s.scalar(select(ScanBatch).where(ScanBatch.name == "Stapel Ordnungsamt"))
        docs = {d.title: str(d.uuid) for d in batch_documents(s, batch.id)}
        documents.restrict_document(
            s, world.clerk, docs["Anzeige Nachbar Vertraulich"], True, "Art. 18 DSGVO"
        )
    return batch_url, docs


def batch_documents(session, batch_id):
    from eakte.models import Document

    return session.scalars(select(Document).where(Document.scan_batch_id == batch_id)).all()


def qc_status(world) -> str:
    with world.session() as s:
        return s.scalar(select(ScanBatch.qc_status).where(ScanBatch.name == "Stapel Ordnungsamt"))


def test_r22_scanner_of_another_unit_sees_no_batch_document_or_quarantine_entry(
    world, sign_in, batch_of_unit_32
):
    batch_url, _docs = batch_of_unit_32
    other = sign_in("scan60")
    pages = {
        path: other.get(path)
        for path in ("/scanstelle/", "/scanstelle/quarantaene", batch_url, batch_url + ".json")
    }
    assert pages[batch_url].status_code == 404 and pages[batch_url + ".json"].status_code == 404
    text = " ".join(r.get_data(as_text=True) for r in pages.values())
    for secret in ("Stapel Ordnungsamt", "Gaststaette", "Anzeige Nachbar", "schadcode-32"):
        assert secret not in text
    # the unit's own scanner sees the batch and its quarantine entry
    own = sign_in("scan")
    assert "Stapel Ordnungsamt" in own.get("/scanstelle/").get_data(as_text=True)
    assert "schadcode-32" in own.get("/scanstelle/quarantaene").get_data(as_text=True)


def test_r22_restricted_batch_documents_are_not_listed_to_the_unit_scanner(
    world, sign_in, batch_of_unit_32
):
    batch_url, _docs = batch_of_unit_32
    html = sign_in("scan").get(batch_url).get_data(as_text=True)
    assert "Gaststaette Linde" in html
    assert "Anzeige Nachbar Vertraulich" not in html


def test_r17_r22_another_unit_can_neither_pass_nor_fail_the_batch_qc(
    world, sign_in, batch_of_unit_32
):
    batch_url, _docs = batch_of_unit_32
    other = sign_in("scan60")
    token = csrf_token(other.get("/scanstelle/").get_data(as_text=True))
    passed = other.post(batch_url + "/qk-bestanden", data={"csrf_token": token})
    failed = other.post(
        batch_url + "/qk-mangel", data={"fail-csrf_token": token, "fail-reason": "Seite 2 schief"}
    )
    assert passed.status_code == 404 and failed.status_code == 404
    assert qc_status(world) == "pending"


def test_r22_another_unit_cannot_resolve_a_quarantine_entry(world, sign_in, batch_of_unit_32):
    own = sign_in("scan").get("/scanstelle/quarantaene").get_data(as_text=True)
    entry = re.search(r"/scanstelle/quarantaene/([0-9a-f-]{36})/erledigt", own).group(1)
    other = sign_in("scan60")
    token = csrf_token(other.get("/scanstelle/").get_data(as_text=True))
    response = other.post(
        f"/scanstelle/quarantaene/{entry}/erledigt",
        data={"resolve-csrf_token": token, "resolve-reason": "erledigt"},
    )
    assert response.status_code == 404
    assert "schadcode-32" in sign_in("scan").get("/scanstelle/quarantaene").get_data(as_text=True)
