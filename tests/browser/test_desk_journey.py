"""Issue 16 in a real browser against `eakte serve`: a route with two parallel co-signers and a
final signer, one co-signer's deputy deciding i. V.; a Wiedervorlage that appears on its day
(the server's workflow clock read from a file); zdA refused while a route is open. Every page
reached is screenshot and checked with axe-core."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from eakte import ports
from eakte.config import Settings
from eakte.db import make_engine, make_session_factory
from eakte.errors import NotFound
from eakte.models import Role
from eakte.services import accounts, cases
from eakte.workflow import deputies, routes, wiedervorlagen
from eakte.workflow.routes import StepSpec
from retention.port import RetentionService
from tests.browser.conftest import PASSWORD

pytestmark = pytest.mark.slow


def _sessions(server):
    settings = Settings.from_env(server.env)
    engine = make_engine(settings.database_url)
    sessions = make_session_factory(engine)
    ports.wire(sessions, retention=RetentionService())
    return engine, sessions, settings


def _people(s):
    tenant = accounts.get_tenant(s, "default")
    found = {}
    for name, display in (
        ("mitz1", "Mia Mitzeichnerin"),
        ("mitz2", "Max Mitzeichner"),
        ("vertr", "Vera Vertreterin"),
    ):
        try:
            found[name] = accounts.find_user(s, tenant, name)
        except NotFound:  # the first journey of the module creates them
            found[name] = accounts.create_user(
                s,
                tenant,
                name,
                PASSWORD,
                {Role.clerk},
                display_name=display,
                org_unit_code="32",
            )
    found["sachb"] = accounts.find_user(s, tenant, "sachb")
    return found


def _sign_out(journey):
    journey.page.locator(".account-nav summary").click()  # the account menu holds it
    journey.page.get_by_role("button", name="Abmelden").click()
    journey.page.wait_for_url("**/login**")


def test_route_with_parallel_cosigners_a_deputy_and_the_final_signature(journey):
    page = journey.page
    engine, sessions, _ = _sessions(journey.server)
    with sessions() as s:
        people = _people(s)
        case = cases.create_case(s, people["sachb"], "32.10.05", "Gaststätte Zur Linde")
        cases.add_process(s, people["sachb"], case.id, "Erlaubnis")
        deputies.add(s, people["mitz2"], deputy="vertr", starts_on=date.today())
        case_uuid = case.uuid
    engine.dispose()

    journey.sign_in("sachb")
    journey.goto(f"/akten/{case_uuid}")
    page.get_by_text("Laufweg starten", exact=True).first.click()
    page.get_by_label("Titel").last.fill("Erlaubnis Zur Linde")
    page.get_by_label("Empfänger von Schritt 1").fill("mitz1")
    page.get_by_label("Gruppe von Schritt 2").fill("1")
    page.get_by_label("Empfänger von Schritt 2").fill("mitz2")
    page.get_by_label("Gruppe von Schritt 3").fill("2")
    page.get_by_label("Empfänger von Schritt 3").fill("registratur")
    page.get_by_label("Verfügung von Schritt 3").select_option("schlusszeichnung")
    page.get_by_role("button", name="Laufweg starten").click()
    page.wait_for_url("**/laufwege/**")
    journey.check()
    route_url = page.url
    _sign_out(journey)

    journey.sign_in("mitz1")
    journey.goto("/schreibtisch")
    page.get_by_role("link", name="Erlaubnis Zur Linde").click()
    journey.check()
    page.get_by_role("button", name="Entscheidung vermerken").click()
    journey.check()
    _sign_out(journey)

    journey.sign_in("vertr")  # stands in for mitz2
    journey.goto("/schreibtisch")
    page.get_by_role("link", name="Schreibtisch von mitz2 öffnen").click()
    journey.check()
    page.get_by_role("link", name="Erlaubnis Zur Linde").click()
    journey.check()
    page.get_by_label("Entscheidung").select_option("mitgezeichnet_mit_aenderungen")
    page.get_by_label("Kommentar").fill("Auflage Lärmschutz ergänzen")
    page.get_by_role("button", name="Entscheidung vermerken").click()
    journey.check()
    assert "i. V. für Max Mitzeichner" in page.content()
    _sign_out(journey)

    journey.sign_in("registratur")
    journey.goto(route_url.removeprefix(journey.server.url))
    page.get_by_label("Entscheidung").select_option("schlussgezeichnet")
    page.get_by_role("button", name="Entscheidung vermerken").click()
    journey.check()
    assert "abgeschlossen" in page.content()


def test_a_wiedervorlage_appears_on_its_day(journey):
    page = journey.page
    engine, sessions, settings = _sessions(journey.server)
    clock = Path(settings.workflow_clock_file)
    with sessions() as s:
        people = _people(s)
        case = cases.create_case(s, people["sachb"], "32.10.05", "Hundehaltung Bello")
        wiedervorlagen.add(
            s,
            people["sachb"],
            case=case.id,
            due=date.today() + timedelta(days=3),
            note="Nachweis Haftpflicht anfordern",
        )
    engine.dispose()
    journey.sign_in("sachb")
    journey.goto("/schreibtisch")
    assert "Nachweis Haftpflicht anfordern" not in page.content()
    try:
        clock.write_text((date.today() + timedelta(days=3)).isoformat())
        journey.goto("/schreibtisch")
        assert "Nachweis Haftpflicht anfordern" in page.content()
        page.get_by_role("button", name="Erledigt").first.click()
        journey.check()
        assert "Nachweis Haftpflicht anfordern" not in page.content()
    finally:
        clock.unlink(missing_ok=True)


def test_closing_a_case_with_an_open_route_is_refused(journey):
    page = journey.page
    engine, sessions, _ = _sessions(journey.server)
    with sessions() as s:
        people = _people(s)
        case = cases.create_case(s, people["sachb"], "32.10.05", "Sondernutzung Marktplatz")
        process = cases.add_process(s, people["sachb"], case.id, "Antrag")
        from eakte.models.workflow import Instruction

        routes.start_route(
            s,
            people["sachb"],
            process=process.id,
            title="Sondernutzung prüfen",
            steps=[StepSpec(1, Instruction.mitzeichnung, people["mitz1"].id)],
        )
        case_uuid = case.uuid
    engine.dispose()
    journey.sign_in("sachb")
    journey.goto(f"/akten/{case_uuid}")
    page.get_by_role("button", name="Akte abschließen (zdA)").click()
    journey.check()
    text = page.content()
    assert "kann nicht zdA verfügt werden" in text and "Sondernutzung prüfen" in text
