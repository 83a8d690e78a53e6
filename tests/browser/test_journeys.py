"""The journeys of issue 7 in a real browser against `eakte serve` (waitress, SeaweedFS, a
worker doing the OCR): every page reached is screenshot and checked with axe-core."""

import re
import time
from datetime import date

import pytest

from eakte import ports
from eakte.config import Settings
from eakte.db import make_engine, make_session_factory
from eakte.services import accounts, cases
from retention.port import RetentionService
from tests.ingest.conftest import scan_image, scanned_pdf

pytestmark = pytest.mark.slow

LETTER = [
    "Stadt Usingen - Ordnungsamt",
    "Antrag auf Erteilung einer Gaststättenerlaubnis",
    "Sehr geehrte Damen und Herren,",
    "hiermit beantrage ich die Erlaubnis für die Schankwirtschaft",
    "Zum Goldenen Hirsch in der Obergasse 12.",
    "Mit freundlichen Grüßen, Marianne Kowalczyk",
]


def _wait_for(page, check, timeout_s: float = 180):
    """Reload until ``check()`` holds: the worker's OCR runs in the background."""
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting on {page.url}")
        time.sleep(1.5)
        page.reload()


def _session(server):
    settings = Settings.from_env(server.env)
    engine = make_engine(settings.database_url)
    sessions = make_session_factory(engine)
    ports.wire(sessions, retention=RetentionService())  # what the runtime does
    return engine, sessions


def test_clerk_uploads_scan_files_it_and_finds_it(journey, tmp_path):
    page = journey.page
    scan = tmp_path / "gaststaette.pdf"
    scan.write_bytes(scanned_pdf([scan_image(LETTER, dpi=200)]))
    engine, sessions = _session(journey.server)
    with sessions() as s:
        clerk = accounts.find_user(s, accounts.get_tenant(s, "default"), "sachb")
        case = cases.create_case(s, clerk, "32.10.05", "Gaststättenerlaubnis Zum Goldenen Hirsch")
        cases.add_process(s, clerk, case.id, "Antrag")
        reference = case.file_reference
    engine.dispose()

    journey.sign_in("sachb")
    journey.goto("/hochladen/")
    page.set_input_files("#files", str(scan))
    page.get_by_role("button", name="Hochladen").click()
    page.get_by_text("Eingegangen; die Texterkennung folgt.").wait_for()
    journey.check()
    journey.goto("/")
    _wait_for(
        page, lambda: page.locator("tr", has_text="gaststaette").get_by_text("bereit").count() > 0
    )
    journey.check()
    page.get_by_role("link", name="gaststaette").click()
    journey.check()
    page.get_by_label("Aktenzeichen oder Titel").fill("Goldenen Hirsch")
    page.get_by_role("button", name="Akte suchen").click()
    journey.check()
    page.get_by_role("button", name=re.compile("In Vorgang 1 ablegen")).click()
    page.get_by_text(f"Abgelegt in {reference}.").wait_for()
    journey.check()
    # found by a word that exists only in the scan's recognised text
    journey.goto("/suche/?q=Schankwirtschaft")
    _wait_for(page, lambda: reference in page.content(), 30)  # the index caught up
    journey.check()
    assert page.get_by_text("1 Treffer").count() == 1
    assert page.locator("mark", has_text=re.compile("Schankwirtschaft", re.I)).count() >= 1


def test_scanning_staff_import_a_batch_and_watch_it_complete(journey, tmp_path):
    page = journey.page
    files = []
    for n in range(3):
        path = tmp_path / f"akte-{n}.pdf"
        lines = [f"Bauakte {n}", "Baugenehmigung für ein Wohnhaus", "Bauherr Familie Schneider"]
        path.write_bytes(scanned_pdf([scan_image(lines, dpi=150)]))
        files.append(str(path))
    journey.sign_in("scan")
    journey.goto("/scanstelle/")
    page.get_by_label("Name des Stapels").fill("Altakten Bauamt Karton 17")
    page.get_by_label("Scanner").fill("Fujitsu fi-7160")
    page.get_by_label("Auflösung (dpi)").fill("150")
    page.set_input_files("#batch-files", files)
    page.get_by_role("button", name="Importieren").click()
    page.wait_for_url(re.compile(r"/scanstelle/stapel/"))
    journey.check()
    # the page updates itself (no reload) until the batch is complete
    page.locator("#complete").wait_for(state="visible", timeout=180_000)
    journey.check()
    assert page.locator('[data-field="ready"]').inner_text() == "3"
    page.get_by_role("button", name="Qualitätskontrolle bestanden").click()
    page.get_by_text("Qualitätskontrolle bestanden.").first.wait_for()
    journey.check()


def test_records_officers_dispose_with_four_eyes(journey, browser, live_server):
    engine, sessions = _session(live_server)
    with sessions() as s:
        tenant = accounts.get_tenant(s, "default")
        clerk = accounts.find_user(s, tenant, "sachb")
        old = cases.create_case(
            s, clerk, "32.10.05", "Gewerbeabmeldung Schuhhaus Möller", year=2008
        )
        # a closure date in the past moves the retention end: a records officer's step
        officer = accounts.find_user(s, tenant, "registratur")
        cases.close_case(s, officer, old.id, on=date(2009, 3, 10))
        reference = old.file_reference
    engine.dispose()
    page = journey.page
    journey.sign_in("registratur")
    journey.goto("/aussonderung/")
    page.get_by_label(f"{reference} auswählen").check()
    page.get_by_role("button", name="Ausgewählte Akten zur Aussonderung vorschlagen").click()
    page.wait_for_url(re.compile(r"/aussonderung/antraege/"))
    journey.check()
    request_url = page.url

    second = browser.new_context(locale="de-DE").new_page()
    from tests.browser.conftest import Journey

    approver = Journey(second, live_server, journey.name + "-approver")
    approver.sign_in("registratur2")
    approver.goto(request_url.removeprefix(live_server.url))
    second.get_by_role("button", name="Genehmigen (zweite Person der Registratur)").click()
    second.get_by_text("Genehmigt. Die Aussonderung läuft im Hintergrund.").wait_for()
    approver.check()
    approver.goto("/aussonderung/zertifikate")
    # The certificate is listed once the case is destroyed; its PDF is stored after that, by
    # the same background job (under load the page can come between the two).
    pdf_link = second.get_by_role("link", name=f"PDF {reference}")
    _wait_for(second, lambda: pdf_link.count() > 0, 120)
    approver.check()
    assert second.get_by_text(reference).count() > 0
    second.context.close()
