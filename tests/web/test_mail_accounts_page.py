"""The mail accounts page (issue 17): records officers and administrators keep the IMAP
accounts; the secret is written once and never shown; a test and a fetch against a real
Dovecot; clerks are kept out."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from eakte.models.mail import MailMessage
from eakte.models.mail_accounts import MailAccount
from tests.fixtures.app import csrf_token
from tests.fixtures.dovecot import PASSWORD, USER
from tests.ingest.mails import letter


def _token(html: str, prefix: str) -> str:
    match = re.search(rf'name="{prefix}-csrf_token"[^>]*value="([^"]+)"', html) or re.search(
        rf'value="([^"]+)"[^>]*name="{prefix}-csrf_token"', html
    )
    assert match, "no CSRF token for the form"
    return match.group(1)


def test_officer_adds_tests_and_fetches_an_account(world, dovecot, sign_in):
    client = sign_in("registratur")
    page = client.get("/postfaecher/")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Postfächer" in html and "Noch keine Postfächer." in html
    form = {
        "account-csrf_token": _token(html, "account"),
        "account-name": "gewerbe",
        "account-host": "127.0.0.1",
        "account-port": str(dovecot.imaps_port),
        "account-security": "imaps",
        "account-auth": "password",
        "account-login": USER,
        "account-secret": PASSWORD,
        "account-inbox": "32",
        "account-folders": "INBOX",
        "account-after_action": "move",
        "account-after_folder": "eAkte",
        "account-after_flag": "$eAkte",
        "account-poll_minutes": "5",
    }
    # the page offers no CA file: the test server's CA is set on the account afterwards
    added = client.post("/postfaecher/", data=form, follow_redirects=True)
    html = added.get_data(as_text=True)
    assert "Postfach gewerbe angelegt." in html and PASSWORD not in html
    with world.session() as s, s.begin():
        s.scalar(select(MailAccount)).ca_file = str(dovecot.ca_file)
    dovecot.append(letter("Antrag per Mail").as_bytes())
    token = csrf_token(html)
    tested = client.post(
        "/postfaecher/gewerbe/testen", data={"csrf_token": token}, follow_redirects=True
    )
    assert "Anmeldung erfolgreich; wartende Nachrichten: INBOX: 1" in tested.get_data(as_text=True)
    fetched = client.post(
        "/postfaecher/gewerbe/abrufen", data={"csrf_token": token}, follow_redirects=True
    )
    assert "1 Nachricht(en) übernommen, 0 in Quarantäne" in fetched.get_data(as_text=True)
    with world.session() as s:
        assert s.scalar(select(func.count(MailMessage.document_id))) == 1
    no_token = client.post("/postfaecher/gewerbe/deaktivieren", data={})
    with world.session() as s:
        assert s.scalar(select(MailAccount.active)) is True  # without CSRF: nothing
    assert no_token.status_code in (302, 400)
    dovecot.stop()
    away = client.post(
        "/postfaecher/gewerbe/abrufen", data={"csrf_token": token}, follow_redirects=True
    )
    assert "Der Mailserver war nicht erreichbar" in away.get_data(as_text=True)


def test_clerk_kept_out(world, sign_in):
    client = sign_in("sachb")
    assert client.get("/postfaecher/").status_code == 403
    assert "/postfaecher/" not in client.get("/").get_data(as_text=True)


def test_case_page_offers_the_cover_sheet(world, sign_in):
    from eakte.ingest import barcodes
    from eakte.services import cases
    from tests.ingest.test_barcodes import scanned

    with world.session() as s:
        case = cases.create_case(s, world.clerk, "32.10.05", "Gaststätte", year=2026)
        process = cases.add_process(s, world.clerk, case.id, "Erlaubnis")
    client = sign_in("sachb")
    page = client.get(f"/akten/{case.uuid}").get_data(as_text=True)
    link = f"/deckblatt/{process.uuid}.pdf"
    assert link in page and "Deckblatt zum Scannen (PDF)" in page
    sheet = client.get(link)
    assert sheet.status_code == 200 and sheet.mimetype == "application/pdf"
    assert barcodes.cover_process(barcodes.read_codes(scanned(sheet.data, 100))) == process.uuid
    assert sign_in("bau").get(link).status_code == 404  # another unit's case: not there
