"""Issue 22 in a real browser: the inbox and the document page as a work surface, driven by
keyboard; bulk filing; the header search; the navigation on one line at 1,280 px for every
role; every page reached screenshot and checked with axe-core."""

import re
import time

import pytest
from fpdf import FPDF

from eakte.services import accounts, cases
from tests.browser.test_journeys import _session

pytestmark = pytest.mark.slow

ROLES = ("sachb", "scan", "registratur", "admin")


def _letter(path, title: str) -> str:
    pdf = FPDF()
    pdf.set_font("helvetica", size=14)
    for n in range(2):
        pdf.add_page()
        pdf.cell(0, 10, f"{title} - Seite {n + 1}")
    pdf.output(str(path))
    return str(path)


@pytest.fixture(scope="module")
def filing_case(live_server):
    engine, sessions = _session(live_server)
    with sessions() as s:
        clerk = accounts.find_user(s, accounts.get_tenant(s, "default"), "sachb")
        case = cases.create_case(s, clerk, "32.10.05", "Imbiss Zum Goldenen Löwen")
        cases.add_process(s, clerk, case.id, "Anmeldung")
        reference = case.file_reference
    engine.dispose()
    return reference


def _upload(journey, tmp_path, titles):
    page = journey.page
    journey.goto("/hochladen/")
    page.set_input_files("#files", [_letter(tmp_path / f"{t}.pdf", t) for t in titles])
    page.get_by_role("button", name="Hochladen").click()
    page.get_by_text("Eingegangen").first.wait_for()
    deadline = time.monotonic() + 180
    journey.goto("/posteingang/")
    while page.locator("tr", has_text=titles[-1]).get_by_text("bereit").count() == 0 or any(
        page.locator("tr", has_text=t).count() == 0 for t in titles
    ):
        assert time.monotonic() < deadline, "the worker did not finish the uploads"
        time.sleep(1.5)
        page.reload()


def test_clerk_files_letters_by_keyboard(journey, tmp_path, filing_case):
    page = journey.page
    journey.sign_in("sachb")
    _upload(journey, tmp_path, ["Tastatur Brief A", "Tastatur Brief B"])
    journey.goto("/posteingang/")
    page.keyboard.press("j")  # the first row
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/dokumente/[0-9a-f-]{36}\?liste=posteingang"))
    journey.check()
    first = page.locator("#doc-title").inner_text()
    page.keyboard.press("?")
    assert page.locator("#shortcut-help").is_visible()
    journey.check()  # the help overlay passes axe too
    page.keyboard.press("Escape")
    assert not page.locator("#shortcut-help").is_visible()
    page.keyboard.press("n")  # the viewer's next page
    assert page.locator("[data-page-label]").inner_text() == "Seite 2 von 2"
    page.keyboard.press("f")
    assert page.evaluate("document.activeElement.id") == "ablage"
    page.keyboard.type("Löwen")
    page.get_by_role("option").first.wait_for()
    journey.check()  # the suggestion list open
    page.keyboard.press("Enter")
    page.get_by_text(f"Abgelegt in {filing_case}.").wait_for()
    journey.check()
    assert page.locator("#doc-title").inner_text() != first  # on to the next letter
    page.keyboard.press("t")
    page.keyboard.press("Control+a")
    page.keyboard.type("Neuer Titel per Tastatur")
    page.keyboard.press("Enter")  # saved in place
    page.get_by_text("Änderungen gespeichert.").wait_for()
    assert page.locator("#doc-title").inner_text() == "Neuer Titel per Tastatur"


def test_bulk_filing_from_the_inbox(journey, tmp_path, filing_case):
    page = journey.page
    journey.sign_in("sachb")
    _upload(journey, tmp_path, ["Sammel Brief 1", "Sammel Brief 2"])
    journey.goto("/posteingang/")
    for title in ("Sammel Brief 1", "Sammel Brief 2"):
        page.get_by_role("link", name=title).focus()
        page.keyboard.press("x")
    assert page.locator("[data-selected-count]").inner_text() == "2"
    page.get_by_label("Ablegen in (Aktenzeichen oder Titel)").fill("Goldenen")
    page.get_by_role("option").first.wait_for()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    page.get_by_role("button", name="Ausgewählte ablegen").click()
    page.get_by_text("2 Schriftstücke abgelegt.").wait_for()
    journey.check()
    assert page.get_by_role("link", name="Sammel Brief 1").count() == 0


def test_header_search_suggests_and_opens_a_case(journey, filing_case):
    page = journey.page
    journey.sign_in("sachb")
    journey.goto("/aktenplan/")
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.id") == "header-q"
    page.keyboard.type("Goldenen Löwen")
    page.get_by_role("option", name=filing_case).wait_for()
    journey.check()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/akten/[0-9a-f-]{36}$"))
    journey.check()


@pytest.mark.parametrize("username", ROLES)
def test_navigation_stays_on_one_line_at_1280(journey, username):
    page = journey.page
    journey.sign_in(username)
    assert page.viewport_size["width"] == 1280
    bar = page.locator(".nav-bar").bounding_box()
    link = page.locator(".nav-bar > li").first.bounding_box()
    header = page.locator(".site-header").bounding_box()
    assert bar["height"] < 2 * link["height"], f"{username}: the navigation wraps"
    assert header["height"] < 70, f"{username}: the header is {header['height']} px high"
    menus = page.locator(".nav-bar details")
    for n in range(menus.count()):
        menus.nth(n).locator("summary").click()
        journey.check()  # the open menu passes axe
        menus.nth(n).locator("summary").click()


def test_saved_search_shows_on_the_start_page_with_its_count(journey, filing_case):
    page = journey.page
    journey.sign_in("sachb")
    journey.goto("/suche/?q=Goldenen")
    _reload_until(page, lambda: page.get_by_text(re.compile(r"^\d+ Treffer$")).count() > 0)
    page.get_by_text("Diese Suche speichern").click()
    page.get_by_label("Name").fill("Löwen-Akten")
    page.get_by_label("Mit meiner Organisationseinheit teilen").check()
    journey.check()
    page.get_by_role("button", name="Suche speichern").click()
    page.get_by_text("Suche gespeichert.").wait_for()
    journey.goto("/")
    entry = page.locator(".saved-searches li", has_text="Löwen-Akten")
    assert re.search(r"\d+ Treffer · geteilt", entry.inner_text())
    entry.get_by_role("link").click()
    page.wait_for_url(re.compile(r"/suche/\?q=Goldenen"))
    journey.check()


def _reload_until(page, check, timeout_s: float = 90):
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, f"gave up waiting on {page.url}"
        time.sleep(1.5)
        page.reload()


PAGES = {
    "sachb": ["/", "/posteingang/", "/suche/?q=Goldenen", "/aktenplan/", "/hochladen/",
              "/passwort", "/verwaltung/meine-schluessel"],
    "scan": ["/", "/posteingang/", "/hochladen/", "/scanstelle/", "/scanstelle/quarantaene",
             "/altakten/"],
    "registratur": ["/", "/posteingang/", "/altakten/", "/registratur/aktenplan",
                    "/registratur/fristen", "/aussonderung/", "/aussonderung/antraege",
                    "/aussonderung/sperren", "/aussonderung/zertifikate",
                    "/registratur/protokoll", "/registratur/pruefung", "/verwaltung/freigaben"],
    "admin": ["/", "/registratur/protokoll", "/registratur/pruefung", "/verwaltung/benutzer",
              "/verwaltung/organisation", "/verwaltung/schluessel", "/verwaltung/freigaben"],
}  # fmt: skip


@pytest.mark.parametrize("username", ROLES)
def test_every_page_of_each_role_is_screenshot_and_axe_clean(journey, username, filing_case):
    from tests.browser.conftest import ARTIFACTS

    print(f"screenshots of the pages of {username}: {ARTIFACTS}")
    journey.sign_in(username)
    for path in PAGES[username]:
        journey.goto(path)
    if username == "sachb":  # and a case page
        journey.goto("/")
        journey.page.get_by_role("link", name=filing_case).first.click()
        journey.check()
