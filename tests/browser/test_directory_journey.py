"""Issue 19 in a real browser: a person of the town's directory (OpenLDAP over LDAPS, its CA
generated for the test) signs in to `eakte serve`, enrols the second factor with the QR code's
key, and approves a disposal with a code from the authenticator app."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from datetime import date

import pyotp
import pytest

from eakte import ports, schema
from eakte.config import Settings
from eakte.db import make_engine, make_session_factory
from eakte.directory import mapping
from eakte.models import Role
from eakte.services import accounts, cases, fileplan, totp
from retention import disposal, schedules
from retention.port import RetentionService
from tests.browser.conftest import PASSWORD, PLAN, Journey, LiveServer, _ensure_chromium, _free_port
from tests.fixtures import slapd

pytestmark = pytest.mark.slow


def _seed(settings: Settings) -> str:
    """The town hall, its groups mapped, and a disposal proposed by a local records officer;
    returns the request's UUID."""
    engine = make_engine(settings.database_url)
    schema.upgrade(engine)
    sessions = make_session_factory(engine)
    ports.wire(sessions, retention=RetentionService())
    with sessions() as s:
        tenant = accounts.ensure_default_tenant(s)
        admin = accounts.create_user(s, tenant, "admin", PASSWORD, {Role.admin})
        accounts.add_org_unit(s, admin, "32", "Ordnungsamt")
        accounts.add_org_unit(s, admin, "10", "Hauptamt")
        clerk = accounts.create_user(s, tenant, "sachb", PASSWORD, {Role.clerk}, org_unit_code="32")
        officer = accounts.create_user(
            s, tenant, "registratur", PASSWORD, {Role.records_officer}, org_unit_code="10"
        )
        schedules.create_schedule(
            s, officer, "Gewerbe 10 Jahre", period_years=10, action="V", legal_basis="GewO § 14"
        )
        fileplan.import_csv(s, officer, PLAN.encode())
        mapping.add(s, None, tenant, slapd.group_dn("eakte-registratur"), Role.records_officer)
        mapping.add(s, None, tenant, slapd.group_dn("eakte-sachbearbeitung"), Role.clerk)
        mapping.add(s, None, tenant, slapd.group_dn("ordnungsamt"), None, "32")
        case = cases.create_case(s, clerk, "32.10.05", "Gewerbeakte Hirsch", year=2009)
        cases.close_case(s, officer, case.id, on=date(2010, 5, 1))
        request = disposal.propose(s, officer, [case.id], note="Aussonderung 2026")
        uuid = str(request.uuid)
    engine.dispose()
    return uuid


@pytest.fixture(scope="module")
def directory_server(tmp_path_factory):
    _ensure_chromium()
    directory = slapd.start_directory(tmp_path_factory.mktemp("slapd-journey"))
    data_dir = tmp_path_factory.mktemp("live-directory") / "data"
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("EAKTE_")}
    env.update(
        EAKTE_DATA_DIR=str(data_dir),
        EAKTE_PORT=str(port),
        EAKTE_WORKERS="1",
        EAKTE_LDAP_URL=directory.ldaps_url,
        EAKTE_LDAP_CA_FILE=str(directory.ca_file),
        EAKTE_LDAP_BASE_DN=slapd.SUFFIX,
        EAKTE_LDAP_USER_FILTER=slapd.USER_FILTER,
        EAKTE_LDAP_GROUP_FILTER=slapd.GROUP_FILTER,
        EAKTE_LDAP_BIND_DN=slapd.SERVICE_DN,
        EAKTE_LDAP_BIND_PASSWORD=slapd.SERVICE_PW,
        EAKTE_LDAP_LOCAL_USERS="admin",
        # the default from the environment: admins and records officers need a second factor
    )
    settings = Settings.from_env(env)
    assert settings.second_factor == "privileged"
    settings.ensure_data_dir()
    request_uuid = _seed(settings)
    log = (data_dir / "serve.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "eakte", "serve"], env=env, stdout=log, stderr=subprocess.STDOUT
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        try:
            with urllib.request.urlopen(f"{url}/login", timeout=2) as response:  # noqa: S310
                if response.status == 200:
                    break
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            directory.stop()
            pytest.fail("eakte serve did not start:\n" + (data_dir / "serve.log").read_text())
        time.sleep(0.3)
    try:
        yield LiveServer(url, data_dir, env), request_uuid
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
        directory.stop()


def _fresh_code(secret: str) -> str:
    """A code of a step not used yet (each is accepted once)."""
    time.sleep(totp.STEP - time.time() % totp.STEP + 0.3)
    return pyotp.TOTP(secret).now()


def test_directory_user_enrols_and_approves_a_disposal_with_a_code(page, directory_server, request):
    server, request_uuid = directory_server
    journey = Journey(page, server, request.node.name)
    journey.goto("/login")
    page.get_by_label("Benutzername").fill("rweber")
    page.get_by_label("Passwort").fill(slapd.USER_PASSWORD)
    page.get_by_role("button", name="Anmelden").click()
    # a records officer: the second factor first, with a QR code shown once
    page.wait_for_url(f"{server.url}/anmeldung/zweiter-faktor")
    page.get_by_role("heading", name="Zweiten Faktor einrichten").wait_for()
    assert page.locator("figure.qr svg").count() == 1
    journey.check()
    secret = page.locator(".totp-secret").inner_text().strip()
    page.get_by_label("Code aus Ihrer Authenticator-App").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Aktivieren").click()
    page.get_by_role("heading", name="Wiederherstellungscodes").wait_for()
    assert page.locator(".recovery-codes li").count() == totp.RECOVERY_CODES
    journey.check()
    page.get_by_role("link", name="Weiter").click()
    page.wait_for_url(f"{server.url}/")
    journey.check()
    # the disposal proposed by another records officer: approving asks for the code again
    journey.goto(f"/aussonderung/antraege/{request_uuid}")
    page.get_by_label("Code aus Ihrer Authenticator-App").fill("000000")
    page.get_by_role("button", name="Genehmigen (zweite Person der Registratur)").click()
    page.get_by_text("Der Code ist falsch oder wurde bereits verwendet.").wait_for()
    journey.check()
    page.get_by_label("Code aus Ihrer Authenticator-App").fill(_fresh_code(secret))
    page.get_by_role("button", name="Genehmigen (zweite Person der Registratur)").click()
    page.get_by_text("Genehmigt").first.wait_for()
    journey.check()
    assert "Code aus Ihrer Authenticator-App" not in page.content()  # decided: no button left
