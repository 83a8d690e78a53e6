"""The clerk's pages through the Flask test client: every page for the roles that may see it,
403/404 for those that may not, CSRF on every action, everything escaped."""

import re

import pytest
from fpdf import FPDF
from sqlalchemy import update

from eakte.models import Document
from eakte.services import cases
from tests.fixtures.app import csrf_token

XSS_TITLE = '<script>alert(1)</script>"><img src=x onerror=alert(2)>'


def _pdf(text: str, pages: int = 2) -> bytes:
    pdf = FPDF()
    pdf.set_font("helvetica", size=14)
    for n in range(pages):
        pdf.add_page()
        pdf.cell(0, 10, f"{text} - Seite {n + 1}")
    return bytes(pdf.output())


@pytest.fixture
def filed_case(world):
    with world.session() as s:
        case = cases.create_case(s, world.clerk, "32.10.05", "Gewerbe Bäckerei Schmidt")
        process = cases.add_process(s, world.clerk, case.id, "Anmeldung")
    return case, process


def test_start_page_shows_inbox_and_recent_cases(world, sign_in, filed_case):
    world.inbox_document("Antrag Hundesteuer")
    html = sign_in("sachb").get("/").get_data(as_text=True)
    assert "Posteingang" in html and "Antrag Hundesteuer" in html
    assert "32.10.05-0001/" in html
    other = sign_in("bau").get("/").get_data(as_text=True)
    assert "Antrag Hundesteuer" not in other and "32.10.05-0001/" not in other


def test_file_plan_tree_and_node_page(world, sign_in, filed_case):
    client = sign_in("sachb")
    tree = client.get("/aktenplan/").get_data(as_text=True)
    assert "Gewerbeanmeldungen" in tree and "(1 Akten)" in tree
    node = client.get("/aktenplan/32.10.05").get_data(as_text=True)
    assert "Gewerbe Bäckerei Schmidt" in node and "Neue Akte" in node
    assert client.get("/aktenplan/99.99").status_code == 404


def test_clerk_creates_case_adds_process_files_document_and_closes(world, sign_in):
    client = sign_in("sachb")
    node = client.get("/aktenplan/32.10.05").get_data(as_text=True)
    response = client.post(
        "/akten/",
        data={"csrf_token": csrf_token(node), "node": "32.10.05", "title": "Imbiss Yilmaz"},
    )
    assert response.status_code == 302
    case_url = response.headers["Location"]
    page = client.get(case_url).get_data(as_text=True)
    assert ("Imbiss Yilmaz" in page and "Akte 32.10.05-0001/" in page) or "32.10.05-0001/" in page
    client.post(
        case_url + "/vorgaenge", data={"csrf_token": csrf_token(page), "title": "Anmeldung"}
    )
    doc = world.inbox_document("Gewerbeanmeldung Yilmaz")
    doc_page = client.get(f"/dokumente/{doc.uuid}?ablage=Imbiss").get_data(as_text=True)
    process_uuid = re.search(r'name="process_id" value="([0-9a-f-]{36})"', doc_page).group(1)
    filed = client.post(
        f"/dokumente/{doc.uuid}/ablegen",
        data={"csrf_token": csrf_token(doc_page), "process_id": process_uuid},
    )
    assert filed.status_code == 302 and filed.headers["Location"] == case_url
    page = client.get(case_url).get_data(as_text=True)
    assert "Gewerbeanmeldung Yilmaz" in page
    closed = client.post(case_url + "/schliessen", data={"csrf_token": csrf_token(page)})
    assert closed.status_code == 302
    page = client.get(case_url).get_data(as_text=True)
    assert "abgeschlossen (zdA)" in page and "Neuer Vorgang" not in page


def test_actions_need_csrf(world, sign_in, filed_case):
    case, _ = filed_case
    client = sign_in("sachb")
    for url, data in [
        (f"/akten/{case.uuid}/schliessen", {}),
        (f"/akten/{case.uuid}/vorgaenge", {"title": "X"}),
        (f"/akten/{case.uuid}/bearbeiten", {"title": "Y"}),
        ("/akten/", {"node": "32.10.05", "title": "Z"}),
        ("/logout", {}),
    ]:
        response = client.post(url, data=data)
        assert response.status_code == 400, url
        assert "Das Formular ist abgelaufen" in response.get_data(as_text=True)
    with world.session() as s:
        assert not cases.get_case(s, world.clerk, case.id).is_closed
        assert len(cases.get_case(s, world.clerk, case.id).processes) == 1


def test_other_unit_and_other_roles_get_not_found(world, sign_in, filed_case):
    case, _ = filed_case
    assert sign_in("bau").get(f"/akten/{case.uuid}").status_code == 404
    assert sign_in("scan").get(f"/akten/{case.uuid}").status_code == 404
    assert sign_in("registratur").get(f"/akten/{case.uuid}").status_code == 200
    # a clerk of another unit cannot close it either
    client = sign_in("bau")
    token = csrf_token(client.get("/").get_data(as_text=True))
    assert (
        client.post(f"/akten/{case.uuid}/schliessen", data={"csrf_token": token}).status_code == 404
    )


def test_reopen_only_for_records_officers(world, sign_in, filed_case):
    case, _ = filed_case
    with world.session() as s:
        cases.close_case(s, world.clerk, case.id)
    clerk_page = sign_in("sachb").get(f"/akten/{case.uuid}").get_data(as_text=True)
    assert "Akte wieder öffnen" not in clerk_page
    officer = sign_in("registratur")
    page = officer.get(f"/akten/{case.uuid}").get_data(as_text=True)
    assert "Akte wieder öffnen" in page
    officer.post(
        f"/akten/{case.uuid}/wiedereroeffnen",
        data={"csrf_token": csrf_token(page), "reopen-reason": "Widerspruch"},
    )
    with world.session() as s:
        assert not cases.get_case(s, world.officer, case.id).is_closed


def test_document_preview_and_download(world, sign_in):
    data = _pdf("Hundesteuerbescheid")
    doc = world.inbox_document("Bescheid", data=data)
    with world.session() as s, s.begin():
        s.execute(update(Document).where(Document.id == doc.id).values(page_count=2))
    client = sign_in("sachb")
    page = client.get(f"/dokumente/{doc.uuid}").get_data(as_text=True)
    assert "Seite 2" in page
    image = client.get(f"/dokumente/{doc.uuid}/seite/1.png")
    assert image.status_code == 200 and image.data.startswith(b"\x89PNG")
    assert client.get(f"/dokumente/{doc.uuid}/seite/3.png").status_code == 404
    version_uuid = re.search(r"/dokumente/version/([0-9a-f-]{36})", page).group(1)
    download = client.get(f"/dokumente/version/{version_uuid}")
    assert download.status_code == 200 and download.data == data
    assert "attachment" in download.headers["Content-Disposition"]
    assert sign_in("bau").get(f"/dokumente/version/{version_uuid}").status_code == 404


def test_titles_and_history_are_escaped(world, sign_in):
    doc = world.inbox_document(XSS_TITLE)
    with world.session() as s:
        case = cases.create_case(s, world.clerk, "32.10.05", XSS_TITLE)
    client = sign_in("sachb")
    for url in ("/", f"/dokumente/{doc.uuid}", f"/akten/{case.uuid}", "/aktenplan/32.10.05"):
        html = client.get(url).get_data(as_text=True)
        assert "<script>alert(1)</script>" not in html, url
        assert "<img src=x onerror" not in html, url
        assert "&lt;script&gt;" in html, url


def test_restricted_case_hidden_from_clerk_pages(world, sign_in, filed_case):
    case, _ = filed_case
    client = sign_in("sachb")
    page = client.get(f"/akten/{case.uuid}").get_data(as_text=True)
    client.post(
        f"/akten/{case.uuid}/sperren",
        data={"csrf_token": csrf_token(page), "restrict-reason": "Art. 18 DSGVO"},
    )
    assert client.get(f"/akten/{case.uuid}").status_code == 404
    assert "Gewerbe Bäckerei Schmidt" not in client.get("/").get_data(as_text=True)
    assert sign_in("registratur").get(f"/akten/{case.uuid}").status_code == 200
