"""Issue 21 in a real browser: scanning staff upload a migration manifest with a box of scans, a
records officer approves, the old cases appear closed with their old references and dates, the
due ones on the disposal list. Every page reached is screenshot and checked with axe-core."""

import re

import pytest

from tests.browser.conftest import Journey
from tests.ingest.conftest import born_digital_pdf

pytestmark = pytest.mark.slow

MANIFEST = (
    "box;reference;case_title;plan;opened;closed;process;file;title;date;doc_type;sender\n"
    "Keller Regal 3 / Karton 17;III/32-14/98;Gaststätte Zur Linde;32.10;03.02.1998;10.03.1998;"
    "Erlaubnis;linde-antrag.pdf;Antrag;02.02.1998;Antrag;Jürgen Müller\n"
    "Keller Regal 3 / Karton 17;III/32-14/98;;;;;Erlaubnis;linde-bescheid.pdf;Bescheid;"
    "01.03.1998;Bescheid;Ordnungsamt\n"
    "Keller Regal 3 / Karton 17;III/32-88/21;Imbiss am Markt;32.10;2021-04-01;2021-09-30;"
    "Anmeldung;imbiss.pdf;Gewerbeanmeldung;2021-04-01;Anmeldung;\n"
)


def test_scanner_migrates_a_box_officer_approves_cases_closed_and_due(
    journey, browser, live_server, tmp_path
):
    manifest = tmp_path / "uebernahme.csv"
    manifest.write_bytes(MANIFEST.encode("cp1252"))  # as a municipal export would be
    scans = []
    for name in ("linde-antrag.pdf", "linde-bescheid.pdf", "imbiss.pdf"):
        (tmp_path / name).write_bytes(born_digital_pdf(1, f"Altakte {name}"))
        scans.append(str(tmp_path / name))
    page = journey.page
    journey.sign_in("scan")
    journey.goto("/altakten/")
    page.get_by_label("Name der Übernahme").fill("Keller Regal 3")
    page.set_input_files("#prepare-manifest", str(manifest))
    page.set_input_files("#prepare-files", scans)
    page.get_by_role("button", name="Prüfen und vorbereiten").click()
    page.get_by_text("Übernahme vorbereitet; die Registratur muss sie freigeben.").wait_for()
    journey.check()
    run_url = page.url.removeprefix(live_server.url)

    second = browser.new_context(locale="de-DE").new_page()
    officer = Journey(second, live_server, journey.name + "-officer")
    officer.sign_in("registratur")
    officer.goto(run_url)
    second.get_by_role("button", name="Übernahme freigeben").click()
    second.get_by_text("Übernahme freigegeben.").wait_for()
    officer.check()

    journey.goto(run_url)
    page.get_by_role("button", name="Übernahme ausführen oder fortsetzen").click()
    page.get_by_text("Übernahme abgeschlossen: 2 Akte(n) übernommen.").wait_for()
    journey.check()
    linde = page.locator("tr", has_text="III/32-14/98")
    for cell in ("Gaststätte Zur Linde", "Karton 17", "03.02.1998", "10.03.1998", "01.01.2009"):
        assert linde.get_by_text(cell).count() == 1, cell
    imbiss = page.locator("tr", has_text="III/32-88/21")
    assert imbiss.get_by_text("01.01.2032").count() == 1  # closed 2021: not due yet

    officer.goto("/aussonderung/")
    assert second.get_by_text("III/32-14/98").count() >= 1  # due at once (R7)
    assert second.get_by_text("III/32-88/21").count() == 0
    officer.check()
    second.context.close()
    assert re.search(r"/altakten/[0-9a-f-]{36}$", run_url)
