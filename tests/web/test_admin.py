"""Administration pages: users, org units, API tokens — admins only."""

import re

import pytest

from tests.fixtures.app import csrf_token


@pytest.mark.parametrize(
    "path", ["/verwaltung/benutzer", "/verwaltung/organisation", "/verwaltung/schluessel"]
)
@pytest.mark.parametrize(
    ("username", "status"), [("admin", 200), ("registratur", 403), ("sachb", 403), ("scan", 403)]
)
def test_admin_pages_only_for_admins(world, sign_in, path, username, status):
    assert sign_in(username).get(path).status_code == status


def test_admin_adds_user_who_can_sign_in(world, sign_in):
    admin = sign_in("admin")
    page = admin.get("/verwaltung/benutzer").get_data(as_text=True)
    response = admin.post(
        "/verwaltung/benutzer",
        data={
            "csrf_token": csrf_token(page),
            "username": "neu",
            "display_name": "Neue Kollegin",
            "password": "ein langes passwort",
            "org_unit": "32",
            "roles": ["clerk"],
        },
    )
    assert response.status_code == 302
    assert "Neue Kollegin" in admin.get("/verwaltung/benutzer").get_data(as_text=True)
    client = admin.application.test_client()
    token = csrf_token(client.get("/login").get_data(as_text=True))
    ok = client.post(
        "/login", data={"csrf_token": token, "username": "neu", "password": "ein langes passwort"}
    )
    assert ok.status_code == 302


def test_admin_disables_user(world, sign_in):
    admin = sign_in("admin")
    clerk = sign_in("sachb")
    page = admin.get("/verwaltung/benutzer").get_data(as_text=True)
    admin.post("/verwaltung/benutzer/sachb/sperren", data={"csrf_token": csrf_token(page)})
    assert clerk.get("/").status_code == 302  # the open session ends with the account


def test_token_shown_once(world, sign_in):
    admin = sign_in("admin")
    page = admin.get("/verwaltung/benutzer").get_data(as_text=True)
    added = admin.post(
        "/verwaltung/benutzer",
        data={
            "csrf_token": csrf_token(page),
            "username": "portal",
            "kind": "service",
            "org_unit": "32",
            "roles": ["clerk"],
        },
    )
    assert added.status_code == 302
    page = admin.get("/verwaltung/schluessel").get_data(as_text=True)
    created = admin.post(
        "/verwaltung/schluessel",
        data={
            "csrf_token": csrf_token(page),
            "name": "Serviceportal Hessen",
            "username": "portal",
            "scopes": ["intake", "read"],
        },
    ).get_data(as_text=True)
    plain = re.search(r"(eak_[A-Za-z0-9_-]{20,})", created).group(1)
    again = admin.get("/verwaltung/schluessel").get_data(as_text=True)
    assert plain not in again and plain[:10] in again


def test_admin_adds_org_unit(world, sign_in):
    admin = sign_in("admin")
    page = admin.get("/verwaltung/organisation").get_data(as_text=True)
    admin.post(
        "/verwaltung/organisation",
        data={"csrf_token": csrf_token(page), "code": "20", "name": "Kämmerei", "parent": ""},
    )
    assert "Kämmerei" in admin.get("/verwaltung/organisation").get_data(as_text=True)
