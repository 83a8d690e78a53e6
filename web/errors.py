"""Friendly German error pages; typed errors mapped to their HTTP status, never a traceback."""

from __future__ import annotations

import logging

from flask import Flask, jsonify, render_template, request
from flask_babel import gettext
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException
from werkzeug.http import HTTP_STATUS_CODES

from eakte import metrics
from eakte.errors import EDGE_ERRORS, N_
from storage.errors import StorageError

log = logging.getLogger(__name__)

# Message ids are English; the German text comes from the catalog (web/translations).
MESSAGES = {
    400: N_("The request is not valid."),
    401: N_("Please sign in."),
    403: N_("You are not allowed to do this."),
    404: N_("The page was not found."),
    405: N_("This action is not possible here."),
    413: N_("The file is too large."),
    415: N_("This file type is not supported."),
    429: N_("Too many attempts. Please wait a moment."),
    500: N_("An internal error occurred. Please try again later."),
    503: N_("The service is temporarily unavailable."),
}


def init_app(app: Flask) -> None:
    app.register_error_handler(HTTPException, _http_error)
    for error_class in EDGE_ERRORS:
        app.register_error_handler(error_class, _typed_error)
    app.register_error_handler(Exception, _unexpected)


def _page(status: int, message: str | None = None, code: str = ""):
    text = message or MESSAGES.get(status, MESSAGES[500])
    if request.path.startswith("/api/"):
        # API clients get JSON with a stable code; the message stays English for them.
        body = {"error": {"code": code or _code(status), "message": text}}
        return jsonify(body), status
    if request.accept_mimetypes.best == "application/json":
        # a form saved by web/static/surface.js shows the German message in place
        return jsonify(ok=False, message=gettext(text)), status
    return render_template("error.html", status=status, message=gettext(text)), status


def _code(status: int) -> str:
    return HTTP_STATUS_CODES.get(status, "error").lower().replace(" ", "_")


def _http_error(exc: HTTPException):
    if isinstance(exc, CSRFError):
        return _page(400, N_("The form has expired. Please reload the page."))
    return _page(exc.code or 500)


def _typed_error(exc):
    log.warning("%s: %s", type(exc).__name__, exc)
    if isinstance(exc, StorageError):
        metrics.counters().storage_errors.labels(error=type(exc).__name__).inc()
    return _page(exc.http_status, exc.user_message, _snake(type(exc).__name__))


def _snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name).lstrip("_")


def _unexpected(exc: Exception):
    log.exception("unhandled error")
    return _page(500)
