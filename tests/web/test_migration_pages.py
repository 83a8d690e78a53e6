"""Issue 21 in the web UI: a bad migration manifest is shown line by line, never a 500, and
nothing is kept; only scanning staff and records officers reach the migration pages; a
records officer cannot approve what they prepared, nor a scanner at all."""

import io
import re

from sqlalchemy import func, select

from eakte.models import Case, Document
from eakte.models.migration import MigrationRun
from tests.fixtures.app import csrf_token
from tests.ingest.conftest import born_digital_pdf

GOOD = "box;reference;case_title;plan;closed;file\nK1;A-1/99;Alt;32.10;1999-12-31;a.pdf\n"


def _prepare(client, manifest: bytes, files: dict[str, bytes]):
    page = client.get("/altakten/").get_data(as_text=True)
    data = {
        "prepare-csrf_token": csrf_token(page),
        "prepare-name": "Karton 1",
        "prepare-org_unit": "32",
        "prepare-colour_mode": "",
        "prepare-manifest": (io.BytesIO(manifest), "liste.csv"),
        "prepare-files": [(io.BytesIO(b), name) for name, b in files.items()],
    }
    return client.post("/altakten/", data=data, content_type="multipart/form-data")


def test_bad_manifest_is_listed_by_line_and_nothing_kept_issue21(world, sign_in):
    client = sign_in("scan")
    bad = "box;reference;case_title;plan;closed;file\nK1;A-1/99;Alt;77;31.02.1999;b.pdf\n"
    response = _prepare(client, bad.encode("cp1252"), {"a.pdf": born_digital_pdf(1)})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Die Importliste enthält Fehler; es wurde nichts importiert." in html, html[-3000:]
    assert "line 2: no file plan node &#39;77&#39;" in html
    assert "line 2: bad closed date" in html and "line 2: no file &#39;b.pdf&#39;" in html
    with world.session() as s:
        assert s.scalar(select(func.count(MigrationRun.id))) == 0
        assert s.scalar(select(func.count(Document.id))) == 0


def test_prepare_approve_run_and_who_may_issue21(world, sign_in):
    scanner = sign_in("scan")
    response = _prepare(scanner, GOOD.encode(), {"a.pdf": born_digital_pdf(1)})
    assert response.status_code == 302
    run_url = response.headers["Location"]
    page = scanner.get(run_url).get_data(as_text=True)
    assert "wartet auf Freigabe" in page and "Übernahme freigeben" not in page
    assert scanner.post(
        re.sub(r"$", "/freigeben", run_url), data={"csrf_token": csrf_token(page)}
    ).status_code in (403, 404)
    assert sign_in("sachb").get("/altakten/").status_code in (403, 404)  # clerks: not here
    officer = sign_in("registratur")
    page = officer.get(run_url).get_data(as_text=True)
    response = officer.post(f"{run_url}/freigeben", data={"csrf_token": csrf_token(page)})
    assert response.status_code == 302
    page = scanner.get(run_url).get_data(as_text=True)
    response = scanner.post(f"{run_url}/ausfuehren", data={"csrf_token": csrf_token(page)})
    page = scanner.get(response.headers["Location"]).get_data(as_text=True)
    assert "Übernahme abgeschlossen: 1 Akte(n) übernommen." in page
    assert "A-1/99" in page and "31.12.1999" in page and "01.01.2010" in page
    with world.session() as s:
        case = s.scalar(select(Case).where(Case.file_reference == "A-1/99"))
    page = sign_in("registratur").get(f"/akten/{case.uuid}").get_data(as_text=True)
    assert "Übernommen, wie sie war, durch die Altaktenübernahme Karton 1" in page
    assert "freigegeben von registratur" in page and "K1" in page


def test_run_page_shows_no_title_of_a_case_the_viewer_may_not_open_r22_r24(world, sign_in):
    """The run's page listed its cases from an unfiltered query: a case restricted after the
    migration still showed its title to scanning staff."""
    manifest = GOOD.replace(";Alt;", ";Geheimsache Meier;").encode()
    scanner = sign_in("scan")
    run_url = _prepare(scanner, manifest, {"a.pdf": born_digital_pdf(1)}).headers["Location"]
    officer = sign_in("registratur")
    page = officer.get(run_url).get_data(as_text=True)
    officer.post(f"{run_url}/freigeben", data={"csrf_token": csrf_token(page)})
    page = scanner.get(run_url).get_data(as_text=True)
    scanner.post(f"{run_url}/ausfuehren", data={"csrf_token": csrf_token(page)})
    assert "Geheimsache Meier" in officer.get(run_url).get_data(as_text=True)
    with world.session() as s:
        s.scalar(select(Case).where(Case.file_reference == "A-1/99")).restricted = True
        s.commit()
    page = scanner.get(run_url).get_data(as_text=True)
    assert "A-1/99" in page and "Geheimsache Meier" not in page
