"""A clerk's day in a real browser: sign in, open a case, add a process, close it."""

import re

import pytest

pytestmark = pytest.mark.slow


def test_clerk_creates_and_closes_a_case(journey):
    page = journey.page
    journey.sign_in("sachb")
    journey.goto("/aktenplan/")
    page.get_by_role("link", name=re.compile("Gewerbeanmeldungen")).click()
    journey.check()
    page.get_by_label("Titel").fill("Gewerbeanmeldung Café Lindenblüte")
    page.get_by_role("button", name="Akte anlegen").click()
    page.wait_for_url(re.compile(r"/akten/[0-9a-f-]{36}$"))
    journey.check()
    assert page.get_by_role("heading", level=1).inner_text().startswith("32.10.05-0001/")
    page.get_by_label("Titel des Vorgangs").fill("Anmeldung")
    page.get_by_role("button", name="Vorgang anlegen").click()
    journey.check()
    assert page.get_by_role("heading", name=re.compile(r"^Vorgang 1: Anmeldung")).is_visible()
    page.get_by_role("button", name="Akte abschließen (zdA)").click()
    journey.check()
    assert page.get_by_text("abgeschlossen (zdA)").first.is_visible()
