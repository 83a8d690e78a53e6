"""Web upload: several files into an inbox or a process; each answered in German."""

import io

from fpdf import FPDF

from eakte.services import cases
from tests.fixtures.app import csrf_token


def _pdf(text: str = "Antrag auf Gewerbeanmeldung") -> bytes:
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=14)
    pdf.cell(0, 10, text)
    return bytes(pdf.output())


PDF = _pdf()


def test_upload_into_inbox_json(world, sign_in):
    client = sign_in("sachb")
    page = client.get("/hochladen/").get_data(as_text=True)
    assert "Dokumente hochladen" in page and 'name="inbox"' in page
    response = client.post(
        "/hochladen/",
        data={
            "csrf_token": csrf_token(page),
            "inbox": "32",
            "files": [(io.BytesIO(PDF), "brief.pdf"), (io.BytesIO(b""), "leer.pdf")],
        },
        headers={"Accept": "application/json"},
        content_type="multipart/form-data",
    )
    results = response.get_json()["results"]
    assert [r["outcome"] for r in results] == ["accepted", "quarantined"]
    assert results[1]["message"] == "Die Datei ist leer."
    assert "brief" in client.get("/").get_data(as_text=True)


def test_upload_into_process_html(world, sign_in):
    with world.session() as s:
        case = cases.create_case(s, world.clerk, "32.10.05", "Akte")
        process = cases.add_process(s, world.clerk, case.id, "Vorgang")
    client = sign_in("sachb")
    page = client.get(f"/hochladen/?vorgang={process.uuid}").get_data(as_text=True)
    assert "Vorgang 1" in page or "process 1" in page.lower() or "Vorgang" in page
    html = client.post(
        "/hochladen/",
        data={
            "csrf_token": csrf_token(page),
            "process": str(process.uuid),
            "files": [(io.BytesIO(PDF), "nachtrag.pdf")],
        },
        content_type="multipart/form-data",
    ).get_data(as_text=True)
    assert "Eingegangen" in html
    assert "nachtrag" in client.get(f"/akten/{case.uuid}").get_data(as_text=True)


def test_upload_refused_for_other_units_and_records_officers_without_ingest(world, sign_in):
    client = sign_in("bau")
    page = client.get("/hochladen/").get_data(as_text=True)
    response = client.post(
        "/hochladen/",
        data={
            "csrf_token": csrf_token(page),
            "inbox": "32",
            "files": [(io.BytesIO(PDF), "x.pdf")],
        },
        headers={"Accept": "application/json"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 403
    assert sign_in("registratur").get("/hochladen/").status_code == 403
