"""Issue 14, findings 3, 7, 8: the redirect after sign-in stays on the site; sign-in throttling
slows the guessing address, never locks the real user out (OWASP ASVS V2.2); sessions live on
the server and end at sign-out and a password change; cookies are Secure behind TLS."""

import pytest

from eakte.services import accounts
from tests.fixtures.app import PASSWORD, csrf_token, replace_settings

PROXY = "10.0.0.1"


@pytest.fixture
def settings(settings):
    """One trusted reverse proxy: its X-Forwarded-For and X-Forwarded-Proto are believed."""
    return replace_settings(settings, trusted_proxies=(f"{PROXY}/32",))


def _login(client, username, password=PASSWORD, *, via=None, peer=None, next_url=None):
    """A sign-in from client address ``via`` (forwarded by the proxy), or from ``peer``."""
    environ = {"REMOTE_ADDR": peer or (PROXY if via else "127.0.0.1")}
    headers = {"X-Forwarded-For": via} if via else {}
    page = client.get("/login", environ_base=environ, headers=headers)
    return client.post(
        "/login" + (f"?next={next_url}" if next_url else ""),
        data={
            "csrf_token": csrf_token(page.get_data(as_text=True)),
            "tenant": "default",
            "username": username,
            "password": password,
        },
        environ_base=environ,
        headers=headers,
    )


@pytest.mark.parametrize(
    "target",
    ["/%09/example.invalid", "//example.invalid", "/\\example.invalid", "https://example.invalid"],
)
def test_redirect_after_sign_in_stays_on_the_site(app, make_user, target):
    make_user("anna")
    response = _login(app.test_client(), "anna", next_url=target)
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location == "/", location  # the start page, never another host
    kept = _login(app.test_client(), "anna", next_url="/suche?q=Hund")
    assert kept.headers["Location"] == "/suche?q=Hund"


def test_cookie_replayed_after_sign_out_opens_nothing(app, make_user):
    make_user("anna")
    client = app.test_client()
    assert _login(client, "anna").status_code == 302
    saved = client.get_cookie("session").value
    assert client.get("/").status_code == 200
    client.post("/logout", data={"csrf_token": csrf_token(client.get("/").get_data(as_text=True))})
    thief = app.test_client()
    thief.set_cookie("session", saved)
    response = thief.get("/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_password_change_ends_the_other_sessions(app, make_user):
    make_user("anna")
    here, there = app.test_client(), app.test_client()
    _login(here, "anna")
    _login(there, "anna")
    page = here.get("/passwort").get_data(as_text=True)
    wrong = here.post(
        "/passwort",
        data={
            "csrf_token": csrf_token(page),
            "current": "nicht meins",
            "new": "ein ganz neues Passwort",
            "repeat": "ein ganz neues Passwort",
        },
    )
    assert "Das Passwort ist falsch." in wrong.get_data(as_text=True)
    assert there.get("/").status_code == 200  # nothing changed
    changed = here.post(
        "/passwort",
        data={
            "csrf_token": csrf_token(page),
            "current": PASSWORD,
            "new": "ein ganz neues Passwort",
            "repeat": "ein ganz neues Passwort",
        },
    )
    assert changed.status_code == 302
    assert here.get("/").status_code == 200  # the session that changed it goes on
    assert there.get("/").status_code == 302  # the other one ended
    assert _login(app.test_client(), "anna").status_code == 200  # the old password is gone
    assert _login(app.test_client(), "anna", "ein ganz neues Passwort").status_code == 302


def test_disabling_a_user_ends_their_sessions(rt, app, make_user, tenant):
    admin = make_user("chefin", roles=())
    with rt.session() as s:
        from eakte.models import Role, UserRole

        with s.begin():
            s.add(UserRole(user_id=admin.id, role=Role.admin.value))
    make_user("anna")
    client = app.test_client()
    _login(client, "anna")
    with rt.session() as s:
        accounts.set_user_active(s, accounts.find_user(s, tenant, "chefin"), "anna", False)
    assert client.get("/").status_code == 302


def test_cookies_are_secure_behind_tls(app, make_user):
    make_user("anna")

    def cookie_of(response):
        return next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("session="))

    via_proxy = app.test_client()
    page = via_proxy.get(
        "/login", environ_base={"REMOTE_ADDR": PROXY}, headers={"X-Forwarded-Proto": "https"}
    )
    assert "Secure" in cookie_of(page)
    direct = app.test_client().get("/login", base_url="https://localhost")
    assert "Secure" in cookie_of(direct)
    plain = app.test_client().get("/login", environ_base={"REMOTE_ADDR": PROXY})
    assert "Secure" not in cookie_of(plain)
    # a client cannot claim TLS itself: only the trusted proxy's word counts
    claimed = app.test_client().get(
        "/login",
        environ_base={"REMOTE_ADDR": "192.0.2.7"},
        headers={"X-Forwarded-Proto": "https"},
    )
    assert "Secure" not in cookie_of(claimed)


def test_guessing_slows_the_guesser_not_the_real_user(app, make_user):
    """ASVS V2.2: wrong passwords for an account from one address do not lock it out."""
    make_user("anna")
    attacker, real = "198.51.100.66", "203.0.113.5"
    for _ in range(accounts.throttle.FREE_PER_ADDRESS):
        assert _login(app.test_client(), "anna", "falsch", via=attacker).status_code == 200
    slowed = _login(app.test_client(), "anna", via=attacker)
    assert slowed.status_code == 429  # even the right password waits at that address
    assert "Zu viele fehlgeschlagene Anmeldungen" in slowed.get_data(as_text=True)
    assert _login(app.test_client(), "anna", via=real).status_code == 302
    # the address is slowed for every account, not just this one
    make_user("bert")
    assert _login(app.test_client(), "bert", via=attacker).status_code == 429


def test_guessing_from_many_addresses_slows_new_addresses_only(app, make_user):
    """Guessing spread over many addresses slows the account for addresses it never used;
    the real user's usual address still gets in at once."""
    make_user("anna")
    usual = "203.0.113.5"
    assert _login(app.test_client(), "anna", via=usual).status_code == 302
    for n in range(accounts.throttle.FREE_PER_ACCOUNT):
        _login(app.test_client(), "anna", "falsch", via=f"198.51.100.{n + 1}")
    assert _login(app.test_client(), "anna", via="198.51.100.200").status_code == 429
    assert _login(app.test_client(), "anna", via=usual).status_code == 302


def test_forwarded_for_from_an_untrusted_peer_is_ignored(app, make_user):
    """A client cannot dodge the throttle by inventing X-Forwarded-For addresses."""
    make_user("anna")
    for n in range(accounts.throttle.FREE_PER_ADDRESS):
        _login(app.test_client(), "anna", "falsch", via=f"192.0.2.{n + 1}", peer="198.51.100.9")
    dodged = _login(app.test_client(), "anna", via="192.0.2.99", peer="198.51.100.9")
    assert dodged.status_code == 429
