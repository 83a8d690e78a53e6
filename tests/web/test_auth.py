"""Sign-in: every page needs it, CSRF is enforced, headers are strict, the UI speaks German."""

import re

import pytest

from tests.fixtures.app import PASSWORD


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', html
    )
    return match.group(1)


def test_login_page_in_german(client):
    response = client.get("/login")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Anmelden" in html and "Benutzername" in html and "Passwort" in html
    assert '<html lang="de">' in html


def test_pages_need_sign_in(client):
    response = client.get("/")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_sign_in_and_out(app, client, make_user):
    make_user("anna", display_name="Anna Amt")
    token = _csrf(client.get("/login").get_data(as_text=True))
    response = client.post(
        "/login",
        data={"csrf_token": token, "tenant": "default", "username": "anna", "password": PASSWORD},
    )
    assert response.status_code == 302
    assert "Willkommen, Anna Amt" in client.get("/").get_data(as_text=True)
    token = _csrf(client.get("/").get_data(as_text=True))
    client.post("/logout", data={"csrf_token": token})
    assert client.get("/").status_code == 302


@pytest.mark.parametrize("password", ["wrong password", ""])
def test_wrong_password_refused(client, make_user, password):
    make_user("anna")
    token = _csrf(client.get("/login").get_data(as_text=True))
    response = client.post(
        "/login", data={"csrf_token": token, "username": "anna", "password": password}
    )
    assert response.status_code == 200
    assert client.get("/").status_code == 302


def test_disabled_user_cannot_sign_in(rt, client, make_user):
    user = make_user("anna")
    with rt.session() as session, session.begin():
        session.get(type(user), user.id).active = False
    token = _csrf(client.get("/login").get_data(as_text=True))
    client.post("/login", data={"csrf_token": token, "username": "anna", "password": PASSWORD})
    assert client.get("/").status_code == 302


def test_csrf_enforced(client, make_user):
    make_user("anna")
    response = client.post("/login", data={"username": "anna", "password": PASSWORD})
    assert response.status_code == 400
    assert "Das Formular ist abgelaufen" in response.get_data(as_text=True)
    assert client.get("/").status_code == 302


def test_security_headers(client):
    response = client.get("/login")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_open_redirect_refused(client, make_user):
    make_user("anna")
    token = _csrf(client.get("/login").get_data(as_text=True))
    response = client.post(
        "/login?next=//evil.example/x",
        data={"csrf_token": token, "username": "anna", "password": PASSWORD},
    )
    assert response.headers["Location"] == "/"


def test_unknown_page_is_a_german_error_page(client, make_user):
    make_user("anna")
    token = _csrf(client.get("/login").get_data(as_text=True))
    client.post("/login", data={"csrf_token": token, "username": "anna", "password": PASSWORD})
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert "Die Seite wurde nicht gefunden." in response.get_data(as_text=True)


def test_failed_sign_ins_are_rate_limited(client, make_user):
    make_user("anna")
    for _ in range(5):
        token = _csrf(client.get("/login").get_data(as_text=True))
        client.post("/login", data={"csrf_token": token, "username": "anna", "password": "x"})
    token = _csrf(client.get("/login").get_data(as_text=True))
    response = client.post(
        "/login", data={"csrf_token": token, "username": "anna", "password": PASSWORD}
    )
    assert response.status_code == 429  # even the right password waits now
    assert "Zu viele fehlgeschlagene Anmeldungen" in response.get_data(as_text=True)
    assert client.get("/").status_code == 302
