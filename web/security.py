"""Security headers, the user loader (server-side sessions), the rule that every page needs a
signed-in user, and what the request says about its client (address, TLS) when proxies stand
in between."""

from __future__ import annotations

import ipaddress

from flask import Flask, current_app, redirect, request, session, url_for
from flask.sessions import SecureCookieSessionInterface
from flask_login import current_user

from eakte.models import User
from eakte.services import sessions
from web.db import close_db, db, runtime
from web.extensions import login_manager
from web.proxy import ForwardedScheme

SESSION_KEY = "sid"  # the server-side session's id inside Flask's signed cookie

# No inline script or style anywhere: everything is served from /static by the app itself.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
# Operators' probes answer without a session (they reveal no records; see web/health.py).
PUBLIC_ENDPOINTS = {"auth.login", "static", "health.healthz", "health.readyz", "health.metrics"}
# Between the password and the second factor nobody is signed in yet (web/second_factor.py).
PUBLIC_ENDPOINTS |= {"second_factor.challenge"}
# What a user whose password an admin set may open: only the page to set their own.
PASSWORD_CHANGE_ENDPOINTS = {"auth.change_password", "auth.logout"}


class _SessionCookies(SecureCookieSessionInterface):
    """Flask's signed cookie, marked Secure whenever the request came over TLS."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"]) or request_is_https()


# Browsers that once saw eAkte over HTTPS keep to it for a year (issue 26).
HSTS = "max-age=31536000"


def init_app(app: Flask) -> None:
    app.wsgi_app = ForwardedScheme(  # type: ignore[method-assign]
        app.wsgi_app, app.extensions["eakte.runtime"].settings.trusted_proxies
    )
    app.session_interface = _SessionCookies()
    app.teardown_appcontext(close_db)
    app.after_request(_security_headers)
    app.before_request(_require_login)


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    # The cookie alone proves nothing: its session row must still be live (sign-out, a
    # password change and disabling the user end it).
    user = sessions.user_of(db(), session.get(SESSION_KEY))
    return user if user is not None and str(user.uuid) == user_id else None


def _require_login():
    # The API authenticates by bearer token in its own blueprint, never by session cookie.
    if request.endpoint in PUBLIC_ENDPOINTS or request.endpoint is None:
        return None
    if request.blueprint == "api":
        return None
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if current_user.must_change_password and request.endpoint not in PASSWORD_CHANGE_ENDPOINTS:
        return redirect(url_for("auth.change_password"))
    return None


def _trusted_proxy(address: str) -> bool:
    networks = current_app.extensions.get("eakte.trusted_proxies")
    if networks is None:
        networks = tuple(ipaddress.ip_network(n) for n in runtime().settings.trusted_proxies)
        current_app.extensions["eakte.trusted_proxies"] = networks
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


def client_address() -> str:
    """The client's address: the peer, or, when the peer is a trusted proxy, the last address
    in X-Forwarded-For that is not a trusted proxy (earlier entries are the client's say)."""
    address = request.remote_addr or ""
    if not _trusted_proxy(address):
        return address
    forwarded = [a.strip() for a in request.headers.get("X-Forwarded-For", "").split(",")]
    for hop in reversed([a for a in forwarded if a]):
        if not _trusted_proxy(hop):
            return hop[:64]
    return address


def request_is_https() -> bool:
    """TLS to the server itself, or to a trusted proxy that says so, or configured."""
    if request.scheme == "https" or runtime().settings.secure_cookies:
        return True
    if not _trusted_proxy(request.remote_addr or ""):
        return False
    proto = request.headers.get("X-Forwarded-Proto", "").split(",")[-1].strip().lower()
    return proto == "https"


def _security_headers(response):
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    if request_is_https():
        response.headers.setdefault("Strict-Transport-Security", HSTS)
    if request.endpoint != "static":
        response.headers.setdefault("Cache-Control", "no-store")
    return response
