"""Security headers, the user loader and the rule that every page needs a signed-in user."""

from __future__ import annotations

import uuid

from flask import Flask, request
from flask_login import current_user
from sqlalchemy import select

from eakte.models import User
from web.db import close_db, db
from web.extensions import login_manager

# No inline script or style anywhere: everything is served from /static by the app itself.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
# Operators' probes answer without a session (they reveal no records; see web/health.py).
PUBLIC_ENDPOINTS = {"auth.login", "static", "health.healthz", "health.readyz", "health.metrics"}


def init_app(app: Flask) -> None:
    app.teardown_appcontext(close_db)
    app.after_request(_security_headers)
    app.before_request(_require_login)


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    try:
        key = uuid.UUID(user_id)
    except ValueError:
        return None
    user = db().scalar(select(User).where(User.uuid == key))
    return user if user is not None and user.active else None


def _require_login():
    # The API authenticates by bearer token in its own blueprint, never by session cookie.
    if request.endpoint in PUBLIC_ENDPOINTS or request.endpoint is None:
        return None
    if request.blueprint == "api":
        return None
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    return None


def _security_headers(response):
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    if request.endpoint != "static":
        response.headers.setdefault("Cache-Control", "no-store")
    return response
