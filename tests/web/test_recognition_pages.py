"""Issue 18 in the web UI and API: suggested metadata and cases on the document page (confirm,
one click files), recognition quality in the batch check (low pages first, with thumbnails,
accepted), the same through the API."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from sqlalchemy import select, update

from eakte.models import Document
from eakte.models.api import Scope
from eakte.models.recognition import MetadataSuggestion, PageQuality
from eakte.services import accounts, api_tokens, cases, scanning, suggestions
from tests.fixtures.app import csrf_token

LETTER = """Taxi Schneider GmbH
Taxi Schneider GmbH · Bahnhofstraße 3 · 12345 Musterhausen
Musterhausen, den 3. Februar 2026
Betreff: Verlängerung der Taxikonzession
Sehr geehrte Damen und Herren,
wir beantragen die Verlängerung der Konzession für das Fahrzeug mit Taxameter.
"""


@pytest.fixture
def token(world):
    def make(username="sachb"):
        with world.session() as s:
            user = accounts.find_user(s, world.tenant, username)
            _, plain = api_tokens.create_token(s, user, "Portal", {Scope.read})
        return {"Authorization": f"Bearer {plain}"}

    return make


@pytest.fixture
def inbox(world):
    """Two filed taxi letters and one about a kiosk, a model trained, a new letter in the inbox."""
    with world.session() as s:
        taxi = cases.create_case(s, world.clerk, "32.10.05", "Taxi Schneider")
        kiosk = cases.create_case(s, world.clerk, "32.10.05", "Kiosk am Markt")
        taxi_case = SimpleNamespace(id=taxi.id, uuid=taxi.uuid, file_reference=taxi.file_reference)
        for case, text in [
            (taxi, "Taxikonzession Taxameter Fahrzeug Schneider"),
            (taxi, "Taxameter geeicht Fahrzeug Konzession"),
            (kiosk, "Kiosk Zeitungen Tabak Öffnungszeiten"),
            (kiosk, "Kiosk Sonntagsöffnung Zeitungen"),
        ]:
            process = cases.add_process(s, world.clerk, case.id, "Vorgang")
            doc = world.inbox_document(f"{case.title}-{text[:8]}")
            with s.begin():
                s.execute(
                    update(Document)
                    .where(Document.id == doc.id)
                    .values(extracted_text=text, process_id=process.id, inbox_org_unit_id=None)
                )
        suggestions.train(s, world.tenant.id)
    doc = world.inbox_document("scan taxi")
    with world.session() as s, s.begin():
        s.execute(
            update(Document)
            .where(Document.id == doc.id)
            .values(extracted_text=LETTER, status="ready", page_count=1)
        )
    return doc, taxi_case


def test_document_page_prefills_metadata_and_files_in_one_click(world, sign_in, inbox):
    doc, taxi = inbox
    client = sign_in("sachb")
    html = client.get(f"/dokumente/{doc.uuid}").get_data(as_text=True)
    assert "Vorgeschlagene Metadaten" in html
    assert 'value="Verlängerung der Taxikonzession"' in html
    assert 'value="2026-02-03"' in html and 'value="Taxi Schneider GmbH"' in html
    assert "Vorgeschlagene Akten" in html and taxi.file_reference in html
    saved = client.post(
        f"/erkennung/dokument/{doc.uuid}/metadaten",
        data={
            "csrf_token": csrf_token(html),
            "title": "Verlängerung der Taxikonzession",
            "letter_date": "2026-02-03",
            "sender": "Taxi Schneider GmbH",
            "doc_type": "Antrag",
        },
    )
    assert saved.status_code == 302
    with world.session() as s:
        assert s.get_one(Document, doc.id).title == "Verlängerung der Taxikonzession"
        accepted = {r.field: r.accepted for r in s.scalars(select(MetadataSuggestion))}
        assert accepted["sender"] == "Taxi Schneider GmbH"
    filed = client.post(
        f"/erkennung/dokument/{doc.uuid}/ablegen/{taxi.uuid}", data={"csrf_token": csrf_token(html)}
    )
    assert filed.status_code == 302
    with world.session() as s:
        document = s.get_one(Document, doc.id)
        assert document.process is not None and document.process.case_id == taxi.id
    # without the token, nothing happens
    assert client.post(f"/erkennung/dokument/{doc.uuid}/metadaten", data={}).status_code in (
        302,
        400,
    )


def test_a_clerk_of_another_unit_gets_no_suggestion_of_it(world, sign_in, inbox):
    doc, _taxi = inbox
    assert sign_in("bau").get(f"/dokumente/{doc.uuid}").status_code == 404


def test_api_suggestions(client, token, inbox):
    # operation: getSuggestions
    doc, taxi = inbox
    body = client.get(f"/api/v1/documents/{doc.uuid}/suggestions", headers=token()).get_json()
    fields = {f["field"]: f["suggested"] for f in body["metadata"]}
    assert fields["title"] == "Verlängerung der Taxikonzession"
    assert fields["letter_date"] == "2026-02-03"
    assert body["filing"]["cases"][0]["file_reference"] == taxi.file_reference
    assert (
        client.get(f"/api/v1/documents/{doc.uuid}/suggestions", headers=token("bau")).status_code
        == 404
    )


def test_batch_check_lists_low_pages_first_and_accepts_them(world, sign_in, client, token):
    with world.session() as s:
        batch = scanning.open_batch(s, world.scanner, "Stapel Q", dpi=300)
    doc = world.inbox_document("Stapelbrief")
    with world.session() as s, s.begin():
        s.execute(
            update(Document)
            .where(Document.id == doc.id)
            .values(scan_batch_id=batch.id, status="ready", page_count=2)
        )
        s.add_all(
            [
                PageQuality(
                    tenant_id=world.tenant.id,
                    document_id=doc.id,
                    page=1,
                    confidence=93.0,
                    dictionary_share=0.95,
                    words=120,
                    verdict="ok",
                ),
                PageQuality(
                    tenant_id=world.tenant.id,
                    document_id=doc.id,
                    page=2,
                    confidence=41.0,
                    dictionary_share=0.3,
                    words=40,
                    verdict="low",
                ),
            ]
        )
    scanner = sign_in("scan")
    html = scanner.get(f"/scanstelle/stapel/{batch.uuid}").get_data(as_text=True)
    assert "Qualität der Texterkennung" in html
    assert html.index("unter der Schwelle") < html.index(">gut<")
    assert f"/dokumente/{doc.uuid}/seite/2.png" in html  # the thumbnail
    # operation: getBatchQuality
    body = client.get(f"/api/v1/batches/{batch.uuid}/quality", headers=token("scan")).get_json()
    assert body["quality"]["low_open"] == 1
    assert [(p["page"], p["verdict"]) for p in body["pages"]] == [(2, "low"), (1, "ok")]
    refused = scanner.post(
        f"/scanstelle/stapel/{batch.uuid}/qk-bestanden", data={"csrf_token": csrf_token(html)}
    )
    assert refused.status_code == 409
    scanner.post(
        f"/erkennung/stapel/{batch.uuid}/seite-akzeptieren",
        data={"csrf_token": csrf_token(html), "document": str(doc.uuid), "page": "2"},
    )
    passed = scanner.post(
        f"/scanstelle/stapel/{batch.uuid}/qk-bestanden", data={"csrf_token": csrf_token(html)}
    )
    assert passed.status_code == 302
    with world.session() as s:
        verdicts = {r.page: r.verdict for r in s.scalars(select(PageQuality))}
        assert verdicts == {1: "ok", 2: "accepted"}
