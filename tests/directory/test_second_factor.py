"""Issue 19: the second factor (TOTP, RFC 6238) for admins and records officers: enrolment with
a QR code shown once, recovery codes, codes used once, and the code asked for again before a
disposal is approved (web and command line)."""

from __future__ import annotations

import json
import re
import time

import pyotp
import pytest
from sqlalchemy import select

from eakte.directory.settings import LdapSettings
from eakte.errors import ExitCode
from eakte.models import AuditEvent, User
from eakte.models.directory import RecoveryCode, TotpSecret
from eakte.services import totp
from retention import disposal
from tests.directory.conftest import post_login
from tests.fixtures.app import PASSWORD, csrf_token


@pytest.fixture
def second_factor_policy() -> str:
    return "privileged"


@pytest.fixture
def ldap_settings() -> LdapSettings:
    """Local accounts here: the second factor is the same for directory users (see the
    browser journey)."""
    return LdapSettings()


def _enrol(client):
    """Follow the enrolment page: the key shown, the first code; returns (secret, codes)."""
    page = client.get("/anmeldung/zweiter-faktor").get_data(as_text=True)
    assert "<svg" in page  # the QR code, inline: the secret goes to no outside service
    secret = re.search(r'class="totp-secret">([A-Z2-7]+)<', page).group(1)
    response = client.post(
        "/anmeldung/zweiter-faktor",
        data={"csrf_token": csrf_token(page), "code": pyotp.TOTP(secret).now()},
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    codes = re.findall(r"<code>([0-9a-f]{5}(?:-[0-9a-f]{5}){3})</code>", response.get_data(True))
    assert len(codes) == totp.RECOVERY_CODES
    return secret, codes


def _code_step(client, code):
    page = client.get("/anmeldung/zweiter-faktor").get_data(as_text=True)
    return client.post(
        "/anmeldung/zweiter-faktor", data={"csrf_token": csrf_token(page), "code": code}
    )


def _next_code(secret):
    """A code of a step not used yet (one is accepted once: wait for the next step)."""
    time.sleep(totp.STEP - time.time() % totp.STEP + 0.2)
    return pyotp.TOTP(secret).now()


def _audit(world, action):
    with world.session() as s:
        return [
            (e.outcome, json.loads(e.details))
            for e in s.scalars(select(AuditEvent).where(AuditEvent.action == action))
        ]


def test_records_officer_enrols_then_needs_the_code_at_each_sign_in(app, world):
    client, response = post_login(app, "registratur", PASSWORD)
    assert response.headers["Location"].endswith("/anmeldung/zweiter-faktor")
    assert client.get("/").status_code == 302  # nobody signed in between password and code
    secret, codes = _enrol(client)
    assert client.get("/").status_code == 200
    with world.session() as s:
        stored = s.get(TotpSecret, world.officer.id)
        assert secret not in stored.secret_enc  # encrypted at rest
        hashes = s.scalars(select(RecoveryCode.code_hash)).all()
        assert len(hashes) == 10 and not set(codes) & set(hashes)
    # the next sign-in: the code, no new QR code
    client, response = post_login(app, "registratur", PASSWORD)
    page = client.get("/anmeldung/zweiter-faktor").get_data(as_text=True)
    assert "<svg" not in page and secret not in page
    assert _code_step(client, "000000").status_code == 403
    assert client.get("/").status_code == 302
    code = _next_code(secret)
    assert _code_step(client, code).status_code == 302
    assert client.get("/").status_code == 200
    # the same code again (replay) is refused, a recovery code works once
    again, _ = post_login(app, "registratur", PASSWORD)
    assert _code_step(again, code).status_code == 403
    assert _code_step(again, codes[0]).status_code == 302
    third, _ = post_login(app, "registratur", PASSWORD)
    assert _code_step(third, codes[0]).status_code == 403
    outcomes = [(o, d.get("purpose"), d.get("method")) for o, d in _audit(world, "second_factor")]
    assert outcomes == [
        ("failed", "login", None),
        ("ok", "login", "totp"),
        ("failed", "login", None),
        ("ok", "login", "recovery_code"),
        ("failed", "login", None),
    ]
    assert [o for o, _ in _audit(world, "second_factor_enrol")] == ["ok"]


def test_clerk_needs_no_second_factor_unless_everyone_does(app, world):
    _, response = post_login(app, "sachb", PASSWORD)
    assert response.headers["Location"].endswith("/")
    app.extensions["eakte.runtime"].settings = app.extensions["eakte.runtime"].settings.__class__(
        **{**app.extensions["eakte.runtime"].settings.__dict__, "second_factor": "everyone"}
    )
    _, response = post_login(app, "sachb", PASSWORD)
    assert response.headers["Location"].endswith("/anmeldung/zweiter-faktor")


def test_second_factor_failures_are_throttled(app, world):
    client, _ = post_login(app, "registratur", PASSWORD)
    secret, _codes = _enrol(client)
    client, _ = post_login(app, "registratur", PASSWORD)
    for _ in range(totp.FREE_FAILURES):
        _code_step(client, "123456")
    assert _code_step(client, pyotp.TOTP(secret).now()).status_code == 429


def test_approving_a_disposal_asks_for_the_code_again(app, world, due_case):
    with world.session() as s:
        request = disposal.propose(s, world.officer, [due_case.id])
    client, _ = post_login(app, "registratur2", PASSWORD)
    secret, _codes = _enrol(client)
    page = client.get(f"/aussonderung/antraege/{request.uuid}").get_data(as_text=True)
    assert 'name="code"' in page
    approve = f"/aussonderung/antraege/{request.uuid}/genehmigen"
    token = csrf_token(page)
    response = client.post(approve, data={"csrf_token": token}, follow_redirects=True)
    assert "aktuellen Code" in response.get_data(as_text=True)
    response = client.post(approve, data={"csrf_token": token, "code": "111111"})
    with world.session() as s:
        assert disposal.get_request(s, world.officer2, str(request.uuid)).status == "proposed"
    response = client.post(
        approve, data={"csrf_token": token, "code": _next_code(secret)}, follow_redirects=True
    )
    with world.session() as s:
        assert disposal.get_request(s, world.officer2, str(request.uuid)).status != "proposed"
    purposes = [(o, d.get("purpose")) for o, d in _audit(world, "second_factor")]
    assert purposes[-2:] == [("failed", "disposal_approval"), ("ok", "disposal_approval")]


def test_approving_from_the_command_line_asks_for_the_code(app, world, due_case, cli):
    with world.session() as s:
        request = disposal.propose(s, world.officer, [due_case.id])
        secret, _uri = totp.start_enrolment(
            s, world.officer2, world.rt.settings.resolved_secret_key()
        )
        totp.confirm_enrolment(
            s, world.officer2, pyotp.TOTP(secret).now(), world.rt.settings.resolved_secret_key()
        )
    approve = ["retention", "approve", str(request.uuid), "--user", "registratur2"]
    # the password alone is not enough: the next stdin line is the code, and it is empty
    refused = cli(*approve, "--password-stdin", stdin=PASSWORD + "\n")
    assert refused.exit_code == ExitCode.permission_denied
    wrong = cli(*approve, "--password-stdin", "--code", "222222", stdin=PASSWORD + "\n")
    assert wrong.exit_code == ExitCode.permission_denied
    code = _next_code(secret)
    approved = cli(*approve, "--password-stdin", stdin=f"{PASSWORD}\n{code}\n")
    assert approved.exit_code == 0, approved.output
    with world.session() as s:
        assert disposal.get_request(s, world.officer2, str(request.uuid)).status != "proposed"
        officer2 = s.get(User, world.officer2.id)
        assert totp.remaining_recovery_codes(s, officer2) == 10
