"""The work surface through the Flask test client: the document page beside its panel with
previous/next through the inbox, filing by type-ahead (the clerk's scope only) and on to the
next letter, saving in place, assigning, the inbox's bulk actions with German reasons, the
header search's suggestions, thumbnails under the previews' rules."""

import re

import pytest
from fpdf import FPDF
from sqlalchemy import select, update

from eakte.errors import PermissionDenied
from eakte.models import AuditEvent, Document, Role
from eakte.services import accounts, cases, documents, saved_searches, thumbnails
from eakte.services.guard import load
from eakte.services.indexer import index_pending
from tests.fixtures.app import PASSWORD, csrf_token

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


def _indexed(world, process, user, title, text):
    doc = world.inbox_document(title, org_unit_code="32" if user is world.clerk else "60")
    with world.session() as s:
        documents.file_document(s, user, doc.id, process.id)
        with s.begin():
            s.execute(
                update(Document)
                .where(Document.id == doc.id)
                .values(status="ready", extracted_text=text, index_dirty=True)
            )
    return doc


def test_saved_searches_per_user_and_shared_with_counts(world, sign_in, desk):
    _, _, _, process = desk
    _indexed(world, process, world.clerk, "Gebührenbescheid", "Gebühr für die Anmeldung")
    _indexed(world, process, world.clerk, "Zweiter Bescheid", "Noch eine Gebühr")
    index_pending(world.rt)
    clerk = sign_in("sachb")
    page = clerk.get("/suche/?q=Gebühr").get_data(as_text=True)
    assert "Diese Suche speichern" in page
    query = re.search(r'name="abfrage" value="([^"]*)"', page).group(1)
    for name, shared in (("Meine Gebühren", ""), ("Gebühren des Amts", "1")):
        saved = clerk.post(
            "/suche/gespeichert",
            data={
                "csrf_token": csrf_token(page),
                "name": name,
                "abfrage": query,
                "geteilt": shared,
            },
        )
        assert saved.status_code == 302
    start = clerk.get("/").get_data(as_text=True)
    assert "Gespeicherte Suchen" in start and "Meine Gebühren" in start and "2 Treffer" in start
    # shared with the Ordnungsamt (32): a colleague there sees it, counted as herself
    with world.session() as s:
        colleague = accounts.create_user(
            s, world.tenant, "kollegin", PASSWORD, {Role.clerk}, org_unit_code="32"
        )
        mine = saved_searches.visible(s, world.clerk)
        own_uuid = str(mine[1].uuid)
        assert [x.name for x in mine] == ["Gebühren des Amts", "Meine Gebühren"]
        assert [x.name for x in saved_searches.visible(s, colleague)] == ["Gebühren des Amts"]
        assert saved_searches.visible(s, world.clerk_bau) == []
        counted = saved_searches.with_counts(s, world.clerk_bau, world.rt.search, mine)
        assert [c.count for c in counted] == [0, 0]  # the Bauamt sees none of these hits
        with pytest.raises(PermissionDenied):
            saved_searches.delete(s, colleague, str(mine[0].uuid))
        with pytest.raises(saved_searches.SavedSearchInvalid):
            saved_searches.save(s, world.clerk, "leer", "q=", shared=False)
    other = sign_in("kollegin").get("/").get_data(as_text=True)
    assert "Gebühren des Amts" in other and "Meine Gebühren" not in other
    deleted = clerk.post(
        f"/suche/gespeichert/{own_uuid}/loeschen", data={"csrf_token": csrf_token(page)}
    )
    assert deleted.status_code == 302
    assert "Meine Gebühren" not in clerk.get("/").get_data(as_text=True)


def test_search_results_carry_bulk_thumbnails_and_the_way_through(world, sign_in, desk):
    _, _, _, process = desk
    docs = [
        _indexed(world, process, world.clerk, f"Bescheid {n}", "Gebühr Bescheid") for n in range(3)
    ]
    index_pending(world.rt)
    client = sign_in("sachb")
    html = client.get("/suche/?q=Gebühr&sortierung=oldest").get_data(as_text=True)
    assert html.count('name="dokument"') == 3 and "vorschaubild.png" in html
    assert 'action="/posteingang/sammel"' in html
    links = re.findall(r'href="(/dokumente/[^"]+liste=suche[^"]*)"', html)
    assert len(links) == 3
    middle = client.get(links[1].replace("&amp;", "&")).get_data(as_text=True)
    assert "Zurück zum Suchergebnis" in middle and "Schriftstück 2 von 3" in middle
    assert f"/dokumente/{docs[0].uuid}?" in middle and f"/dokumente/{docs[2].uuid}?" in middle
    facets = client.get("/suche/?q=Gebühr").get_data(as_text=True)
    assert ">inbox<" not in facets and ">open<" not in facets


def test_case_page_lists_documents_with_thumbnails(world, sign_in, desk):
    letters, _, case, process = desk
    with world.session() as s:
        documents.file_document(s, world.clerk, letters[0].id, process.id)
    html = sign_in("sachb").get(f"/akten/{case.uuid}").get_data(as_text=True)
    assert f"/dokumente/{letters[0].uuid}/vorschaubild.png" in html
