"""Issue 13, finding 3 (R9, R27): four eyes are two people. One admin cannot make records
officers alone, cannot act as one through an API token, and learns nobody's password."""

import json
import re

import pytest
from sqlalchemy import select

from eakte.errors import PermissionDenied
from eakte.models import AuditEvent, Role
from eakte.models.api import Scope
from eakte.services import accounts, api_tokens, role_grants
from tests.fixtures.app import PASSWORD, csrf_token

ADMIN_SET = "vom Admin gesetzt"
OWN = "mein eigenes Passwort"


def _sign_in(app, username, password):
    client = app.test_client()
    token = csrf_token(client.get("/login").get_data(as_text=True))
    response = client.post(
        "/login",
        data={"csrf_token": token, "tenant": "default", "username": username, "password": password},
    )
    return client, response


def _submit(client, page, path, **data):
    """Post a form of ``page`` (for its CSRF token) to ``path``."""
    token = csrf_token(client.get(page).get_data(as_text=True))
    return client.post(path, data={"csrf_token": token, **data})


def _change_password(client, current, new=OWN):
    return _submit(client, "/passwort", "/passwort", current=current, new=new, repeat=new)


def _add_person(admin, username, roles, password=ADMIN_SET):
    return _submit(
        admin,
        "/verwaltung/benutzer",
        "/verwaltung/benutzer",
        username=username,
        kind="person",
        password=password,
        org_unit="10",
        roles=roles,
    )


def _audit(world, action):
    with world.session() as s:
        return s.scalars(select(AuditEvent).where(AuditEvent.action == action)).all()


def test_r27_one_admin_cannot_make_two_records_officers_alone(app, world, sign_in, due_case):
    """The attack of issue 13: an admin creates two officer accounts, signs in as both and
    proposes and approves a disposal alone."""
    admin = sign_in("admin")
    for name in ("puppe1", "puppe2"):
        assert _add_person(admin, name, ["records_officer"]).status_code == 302
    puppets = []
    for name in ("puppe1", "puppe2"):
        client, response = _sign_in(app, name, ADMIN_SET)
        # the admin's password opens only the page to set one's own
        assert response.headers["Location"].endswith("/passwort")
        assert client.get("/aussonderung/").headers["Location"].endswith("/passwort")
        assert _change_password(client, ADMIN_SET).status_code == 302
        puppets.append(client)
    # neither holds the role: it waits for a second, existing records officer
    for client in puppets:
        assert client.get("/aussonderung/").status_code == 403
    grants_page = admin.get("/verwaltung/freigaben").get_data(as_text=True)
    assert "puppe1" in grants_page and "puppe2" in grants_page
    grant_ids = re.findall(r"/verwaltung/freigaben/([0-9a-f-]{36})/bestaetigen", grants_page)
    assert grant_ids == []  # the admin who asked gets no confirm button ...
    with world.session() as s:
        pending = role_grants.pending_grants(s, world.officer)
        assert {g.user.username for g in pending} == {"puppe1", "puppe2"}
    for grant in pending:  # ... and neither the admin nor a puppet can confirm by posting
        for client in (admin, *puppets):
            refused = _submit(
                client,
                "/passwort",
                f"/verwaltung/freigaben/{grant.uuid}/bestaetigen",
            )
            assert refused.status_code == 403
    for client in puppets:
        assert client.get("/aussonderung/").status_code == 403


def test_r27_a_records_officer_confirms_the_grant_and_the_approval_page_shows_it(
    app, world, sign_in, due_case
):
    admin = sign_in("admin")
    assert _add_person(admin, "neu", ["records_officer"]).status_code == 302
    officer = sign_in("registratur")
    page = officer.get("/verwaltung/freigaben").get_data(as_text=True)
    assert "neu" in page  # pending grants are visible to the holders of the role
    grant_id = re.search(r"/verwaltung/freigaben/([0-9a-f-]{36})/bestaetigen", page).group(1)
    newcomer, _ = _sign_in(app, "neu", ADMIN_SET)
    _change_password(newcomer, ADMIN_SET)
    own = _submit(newcomer, "/passwort", f"/verwaltung/freigaben/{grant_id}/bestaetigen")
    assert own.status_code == 403  # the grantee cannot confirm themselves
    confirmed = _submit(
        officer, "/verwaltung/freigaben", f"/verwaltung/freigaben/{grant_id}/bestaetigen"
    )
    assert confirmed.status_code == 302
    assert newcomer.get("/aussonderung/").status_code == 200
    requested, decided = _audit(world, "request_role"), _audit(world, "confirm_role")
    assert [e.username for e in requested] == ["admin"]
    assert [e.username for e in decided] == ["registratur"]
    assert json.loads(decided[0].details)["role"] == "records_officer"

    listing = newcomer.get("/aussonderung/").get_data(as_text=True)
    proposed = newcomer.post(
        "/aussonderung/vorschlag",
        data={"csrf_token": csrf_token(listing), "case": [str(due_case.uuid)], "note": "2026"},
    )
    request_page = officer.get(proposed.headers["Location"]).get_data(as_text=True)
    parties = request_page.split("Die beiden Registraturkräfte", 1)[1]
    assert "neu" in parties and "von admin" in parties and "bestätigt am" in parties
    assert "von registratur" in parties and "eigenes Passwort gesetzt am" in parties


def test_r27_own_password_and_a_reset_the_admin_never_knows(app, world, sign_in):
    admin = sign_in("admin")
    _add_person(admin, "anna", ["clerk"])
    anna, _ = _sign_in(app, "anna", ADMIN_SET)
    assert _sign_in(app, "anna", ADMIN_SET)[1].status_code == 200  # it worked once only
    assert _change_password(anna, ADMIN_SET).status_code == 302
    assert anna.get("/").status_code == 200
    assert _sign_in(app, "anna", ADMIN_SET)[1].status_code == 200  # the admin's one is gone

    reset = _submit(admin, "/verwaltung/benutzer", "/verwaltung/benutzer/anna/passwort")
    one_time = re.search(r'id="one-time-password">([^<]+)<', reset.get_data(as_text=True))
    assert one_time, "the one-time password is shown to the admin once"
    assert anna.get("/").status_code == 302  # the reset ended her session
    assert _sign_in(app, "anna", OWN)[1].status_code == 200  # her password no longer works
    again = admin.get("/verwaltung/benutzer").get_data(as_text=True)
    assert one_time.group(1) not in again
    # whoever uses the one-time password must set a new one: it opens nothing else
    client, response = _sign_in(app, "anna", one_time.group(1))
    assert response.headers["Location"].endswith("/passwort")
    assert client.get("/verwaltung/meine-schluessel").headers["Location"].endswith("/passwort")
    assert [e.username for e in _audit(world, "reset_password")] == ["admin"]


def test_r27_an_admin_cannot_make_a_token_acting_as_a_person(world, sign_in):
    with world.session() as s, pytest.raises(PermissionDenied):
        api_tokens.create_token(
            s, world.admin, "Hintertür", {Scope.read}, service_account="registratur"
        )
    admin = sign_in("admin")
    page = admin.get("/verwaltung/schluessel").get_data(as_text=True)
    assert '<option value="registratur"' not in page  # only service accounts are offered
    response = _submit(
        admin,
        "/verwaltung/schluessel",
        "/verwaltung/schluessel",
        name="Hintertür",
        username="registratur",
        scopes=["read", "download"],
    )
    assert "eak_" not in response.get_data(as_text=True)
    with world.session() as s:
        assert api_tokens.list_tokens(s, world.admin) == []


def test_r27_reads_through_a_token_name_the_token(world, sign_in, client, due_case):
    officer = sign_in("registratur")
    created = _submit(
        officer,
        "/verwaltung/meine-schluessel",
        "/verwaltung/meine-schluessel",
        name="Mein Skript",
        scopes=["read"],
    ).get_data(as_text=True)
    plain = re.search(r"(eak_[A-Za-z0-9_-]{20,})", created).group(1)
    response = client.get(
        f"/api/v1/cases/{due_case.uuid}", headers={"Authorization": f"Bearer {plain}"}
    )
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers  # the API stays bearer-only: no session
    views = [e for e in _audit(world, "view") if e.object_uuid == str(due_case.uuid)]
    details = json.loads(views[-1].details)
    assert views[-1].username == "registratur"
    assert details["via"] == "api" and details["token"] == "Mein Skript"


def test_r27_a_service_account_never_signs_in(app, world):
    with world.session() as s:
        service = accounts.add_service_account(
            s, world.admin, "portal", {Role.clerk}, org_unit_code="32"
        )
        _, plain = api_tokens.create_token(
            s, world.admin, "Portal", {Scope.intake}, service_account="portal"
        )
        assert service.is_service and plain.startswith("eak_")
        with pytest.raises(PermissionDenied):
            api_tokens.create_token(s, service, "selbst", {Scope.read})
    for password in ("!service", PASSWORD):  # the stored marker is no password either
        assert _sign_in(app, "portal", password)[1].status_code == 200  # refused, no session
