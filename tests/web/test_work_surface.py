"""The work surface through the Flask test client: the document page beside its panel with
previous/next through the inbox, filing by type-ahead (the clerk's scope only) and on to the
next letter, saving in place, assigning, the inbox's bulk actions with German reasons, the
header search's suggestions, thumbnails under the previews' rules."""

import re

import pytest
from fpdf import FPDF
from sqlalchemy import select

from eakte.models import AuditEvent, Document
from eakte.services import cases, thumbnails
from eakte.services.guard import load
from tests.fixtures.app import csrf_token

JSON = {"Accept": "application/json"}


def _pdf(text: str, pages: int = 2) -> bytes:
    pdf = FPDF()
    pdf.set_font("helvetica", size=14)
    for n in range(pages):
        pdf.add_page()
        pdf.cell(0, 10, f"{text} - Seite {n + 1}")
    return bytes(pdf.output())


@pytest.fixture
def desk(world):
    """Three letters in the Ordnungsamt's inbox (Brief 2 newest), one in the Bauamt's, an
    open Gewerbe case with a process, and a Bauamt case."""
    letters = []
    for n in range(3):
        doc = world.inbox_document(f"Brief {n}", data=_pdf(f"Brief {n}"))
        with world.session() as s, s.begin():
            s.get(Document, doc.id).page_count = 2
        letters.append(doc)
    foreign = world.inbox_document("Bauantrag Gartenhaus", org_unit_code="60")
    with world.session() as s:
        case = cases.create_case(s, world.clerk, "32.10.05", "Gewerbe Bäckerei Schmidt")
        process = cases.add_process(s, world.clerk, case.id, "Anmeldung")
        bau = cases.create_case(s, world.clerk_bau, "60.01", "Bauakte Schmidt")
        cases.add_process(s, world.clerk_bau, bau.id, "Antrag")
    return letters, foreign, case, process


def _flashes(html: str) -> list[str]:
    return re.findall(r'class="flash[^"]*"[^>]*>([^<]*)<', html)


def test_document_page_is_a_work_surface(world, sign_in, desk):
    letters, _, _, _ = desk
    client = sign_in("sachb")
    response = client.get(f"/dokumente/{letters[1].uuid}?liste=posteingang")
    html = response.get_data(as_text=True)
    assert response.headers["Content-Security-Policy"].startswith("default-src 'self'; script-")
    assert "<script>" not in html and 'style="' not in html  # nothing inline (CSP)
    assert 'class="workspace"' in html and "data-viewer" in html
    assert html.count('class="viewer-page"') == 2
    assert f"/dokumente/{letters[2].uuid}?liste=posteingang" in html  # previous: newer
    assert f"/dokumente/{letters[0].uuid}?liste=posteingang" in html  # next: older
    assert "Schriftstück 2 von 3" in html
    assert '<details class="fold">' in html and "Verlauf" in html and "Versionen" in html
    for key in ('data-key="j"', 'data-key="k"', 'data-key="f"', 'data-key="t"', 'data-key="a"'):
        assert key in html
    assert 'id="shortcut-help"' in html and 'id="header-q"' in html


def test_filing_suggestions_stay_in_scope_and_filing_goes_on(world, sign_in, desk):
    letters, _, case, process = desk
    client = sign_in("sachb")
    items = client.get("/dokumente/ablageziele?q=schmidt").get_json()["items"]
    assert [i["value"] for i in items] == [str(process.uuid)]  # not the Bauamt's case
    assert items[0]["label"].startswith(case.file_reference)
    page = client.get(f"/dokumente/{letters[1].uuid}?liste=posteingang").get_data(as_text=True)
    filed = client.post(
        f"/dokumente/{letters[1].uuid}/ablegen",
        data={
            "csrf_token": csrf_token(page),
            "process_id": str(process.uuid),
            "weiter": "1",
            "liste": "posteingang",
        },
        headers=JSON,
    )
    body = filed.get_json()
    assert body["ok"] and body["redirect"].endswith(
        f"/dokumente/{letters[0].uuid}?liste=posteingang"
    )
    assert f"Abgelegt in {case.file_reference}." == body["message"]
    # the last letter leads back to the inbox
    last = client.post(
        f"/dokumente/{letters[0].uuid}/ablegen",
        data={"csrf_token": csrf_token(page), "process_id": str(process.uuid), "weiter": "1"},
    )
    assert last.headers["Location"].endswith(f"/dokumente/{letters[2].uuid}?liste=posteingang")
    refused = client.post(
        f"/dokumente/{letters[0].uuid}/ablegen",
        data={"csrf_token": csrf_token(page), "process_id": str(process.uuid)},
        headers=JSON,
    )
    assert refused.status_code == 409
    assert refused.get_json() == {
        "ok": False,
        "message": "Die Aktion ist im aktuellen Zustand nicht möglich.",
    }


def test_metadata_and_assignment_are_saved_in_place(world, sign_in, desk):
    letters, _, _, _ = desk
    client = sign_in("sachb")
    page = client.get(f"/dokumente/{letters[0].uuid}").get_data(as_text=True)
    saved = client.post(
        f"/dokumente/{letters[0].uuid}/bearbeiten",
        data={"csrf_token": csrf_token(page), "title": "Gewerbeanmeldung", "doc_type": "Antrag"},
        headers=JSON,
    )
    assert saved.get_json() == {"ok": True, "message": "Änderungen gespeichert."}
    bad = client.post(
        f"/dokumente/{letters[0].uuid}/bearbeiten",
        data={"csrf_token": csrf_token(page), "title": ""},
        headers=JSON,
    )
    assert bad.status_code == 400 and bad.get_json()["ok"] is False
    assert f'value="{world.clerk_sub.uuid}"' in page  # a person to assign to
    assigned = client.post(
        f"/dokumente/{letters[0].uuid}/zuweisen",
        data={"csrf_token": csrf_token(page), "assignee": str(world.clerk.uuid)},
        headers=JSON,
    )
    assert assigned.get_json()["ok"] is True
    with world.session() as s:
        doc = load(s, world.clerk, Document, letters[0].id)
        assert (doc.title, doc.doc_type, doc.assignee_id) == (
            "Gewerbeanmeldung",
            "Antrag",
            world.clerk.id,
        )
    other = client.post(
        f"/dokumente/{letters[0].uuid}/zuweisen",
        data={"csrf_token": csrf_token(page), "assignee": str(world.admin.uuid)},
        headers=JSON,
    )
    assert other.status_code == 400


def test_inbox_bulk_actions_report_refusals_in_german(world, sign_in, desk):
    letters, foreign, case, _ = desk
    client = sign_in("sachb")
    inbox = client.get("/posteingang/").get_data(as_text=True)
    assert "Posteingang" in inbox and "data-rows" in inbox and "Bauantrag Gartenhaus" not in inbox
    picked = [str(d.uuid) for d in letters[:2]] + [str(foreign.uuid)]
    response = client.post(
        "/posteingang/sammel",
        data={
            "csrf_token": csrf_token(inbox),
            "dokument": picked,
            "aktion": "ablegen",
            "ziel": case.file_reference,  # no script: the one exact reference
            "zurueck": "/posteingang/?seite=1",
        },
        follow_redirects=True,
    )
    flashes = _flashes(response.get_data(as_text=True))
    assert "2 Schriftstücke abgelegt." in flashes
    assert any("nicht gefunden oder ist für Sie nicht sichtbar" in f for f in flashes), flashes
    with world.session() as s:
        events = s.scalars(select(AuditEvent).where(AuditEvent.action == "file")).all()
        assert sorted(e.object_uuid for e in events) == sorted(picked[:2])
    changed = client.post(
        "/posteingang/sammel",
        data={
            "csrf_token": csrf_token(inbox),
            "dokument": [str(letters[2].uuid)],
            "aktion": "setzen",
            "correspondent": "Bäckerei Schmidt",
            "zurueck": "//evil.example/",
        },
    )
    assert changed.headers["Location"].endswith("/posteingang/")  # never another host
    assert "Bäckerei Schmidt" in client.get("/posteingang/").get_data(as_text=True)
    nothing = client.post(
        "/posteingang/sammel",
        data={"csrf_token": csrf_token(inbox), "aktion": "setzen"},
        follow_redirects=True,
    )
    assert "Bitte wählen Sie mindestens ein Schriftstück aus." in _flashes(
        nothing.get_data(as_text=True)
    )
    no_csrf = client.post("/posteingang/sammel", data={"dokument": picked, "aktion": "setzen"})
    assert no_csrf.status_code == 400


def test_header_search_suggests_cases_in_scope(world, sign_in, desk):
    _, _, case, _ = desk
    items = sign_in("sachb").get("/suche/vorschlaege?q=Schmidt").get_json()["items"]
    assert [i["label"] for i in items] == [case.file_reference]
    assert items[0]["href"].endswith(f"/akten/{case.uuid}")
    assert sign_in("scan").get("/suche/vorschlaege?q=Schmidt").get_json()["items"] == []


def test_thumbnails_are_rendered_by_the_worker_and_served_like_previews(world, sign_in, desk):
    letters = desk[0]
    client = sign_in("sachb")
    asked = []
    world.rt.jobs.render_thumbnail = asked.append  # the queue's hand-off, watched
    wait = client.get(f"/dokumente/{letters[0].uuid}/vorschaubild.png")
    assert wait.status_code == 302 and wait.headers["Location"].endswith("thumb-wait.svg")
    client.get(f"/dokumente/{letters[0].uuid}/vorschaubild.png")
    assert asked == [letters[0].id]  # asked once, not per request
    with world.session() as s:
        path = thumbnails.render(s, world.rt.store, world.rt.settings.data_dir, letters[0].id)
    assert path is not None and path.read_bytes().startswith(b"\x89PNG")
    shown = client.get(f"/dokumente/{letters[0].uuid}/vorschaubild.png")
    assert shown.status_code == 200 and shown.mimetype == "image/png"
    with world.session() as s:
        views = s.scalars(
            select(AuditEvent).where(
                AuditEvent.action == "view", AuditEvent.object_uuid == str(letters[0].uuid)
            )
        ).all()
        assert len(views) == 1  # a view of the document, once per hour
    assert sign_in("bau").get(f"/dokumente/{letters[0].uuid}/vorschaubild.png").status_code == 404
