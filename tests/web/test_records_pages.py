"""Records management pages: file plan maintenance, schedules, audit trail, verify report."""

import io

import pytest

from eakte.verify import VerifyReport, save_report
from tests.fixtures.app import csrf_token


@pytest.mark.parametrize(
    ("path", "allowed"),
    [
        ("/registratur/aktenplan", {"registratur", "admin"}),
        ("/registratur/aktenplan.csv", {"registratur", "admin", "sachb", "scan"}),
        ("/registratur/fristen", {"registratur"}),
        ("/registratur/protokoll", {"registratur", "admin"}),
        ("/registratur/pruefung", {"registratur", "admin"}),
    ],
)
def test_records_pages_by_role(world, sign_in, path, allowed):
    for username in ("registratur", "admin", "sachb", "scan"):
        status = sign_in(username).get(path).status_code
        assert status == (200 if username in allowed else 403), (username, status)


def test_fileplan_import_reports_problems_line_by_line(world, sign_in):
    client = sign_in("registratur")
    page = client.get("/registratur/aktenplan").get_data(as_text=True)
    bad = b"code;title;parent;schedule\n50;;;\n51;Schulen;49;\n"
    response = client.post(
        "/registratur/aktenplan",
        data={
            "import-csrf_token": csrf_token(page),
            "import-csv_file": (io.BytesIO(bad), "plan.csv"),
        },
        content_type="multipart/form-data",
    )
    html = response.get_data(as_text=True)
    assert "Zeile 2: leerer Titel" in html and "Zeile 3: unbekannte übergeordnete Einheit" in html
    good = "code;title;parent;schedule\n40;Schulverwaltung;;\n".encode("cp1252")
    response = client.post(
        "/registratur/aktenplan",
        data={
            "import-csrf_token": csrf_token(page),
            "import-csv_file": (io.BytesIO(good), "plan.csv"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    assert "Schulverwaltung" in client.get("/aktenplan/").get_data(as_text=True)


def test_create_node_and_schedule(world, sign_in):
    client = sign_in("registratur")
    page = client.get("/registratur/fristen").get_data(as_text=True)
    client.post(
        "/registratur/fristen",
        data={
            "csrf_token": csrf_token(page),
            "name": "Melderegister 5 Jahre",
            "period_years": "5",
            "action": "V",
            "legal_basis": "BMG",
        },
    )
    page = client.get("/registratur/aktenplan").get_data(as_text=True)
    assert "Melderegister 5 Jahre" in page
    client.post(
        "/registratur/aktenplan",
        data={
            "node-csrf_token": csrf_token(page),
            "node-code": "33",
            "node-title": "Meldewesen",
            "node-schedule": "Melderegister 5 Jahre",
        },
    )
    node = client.get("/aktenplan/33").get_data(as_text=True)
    assert "Meldewesen" in node and "Melderegister 5 Jahre" in node


def test_audit_trail_filters(world, sign_in):
    client = sign_in("registratur")
    html = client.get("/registratur/protokoll?username=registratur&action=login").get_data(
        as_text=True
    )
    assert "angemeldet" in html
    none = client.get("/registratur/protokoll?username=niemand").get_data(as_text=True)
    assert "0 Einträge" in none


def test_audit_trail_shows_only_own_tenant(world, sign_in):
    html = sign_in("registratur").get("/registratur/protokoll").get_data(as_text=True)
    assert "registratur" in html


def test_verify_report_page_shows_last_report(world, sign_in):
    report = VerifyReport(checked={"objects": 3})
    save_report(report, world.rt.settings.data_dir)
    html = sign_in("registratur").get("/registratur/pruefung").get_data(as_text=True)
    assert "alles in Ordnung" in html and "objects: 3" in html
