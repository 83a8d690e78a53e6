"""How large a request body may be, decided by the route before the body is read.

Uploads get ``EAKTE_MAX_UPLOAD_MB``; sign-in and every other form a few kB. The web server
enforces it on the Content-Length (and on the bytes of a chunked body) as soon as the headers
are in, so an anonymous client cannot make the server read and spool a large body
(``LimitedChannel`` for waitress); Flask checks the same limit again for any other server.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from flask import Flask, request
from waitress.channel import HTTPChannel
from waitress.parser import HTTPRequestParser
from waitress.server import BaseWSGIServer
from werkzeug.exceptions import HTTPException

# The views that take files; every other route takes a form or nothing.
UPLOAD_ENDPOINTS = frozenset(
    {
        "upload.upload",
        "scanning.batches",
        "scanning.replace",
        "records.fileplan_admin",
        "disposal.receive",
        "api.intake_application",
    }
)
SIGN_IN_LIMIT = 8 * 1024
FORM_LIMIT = 64 * 1024  # a disposal proposal names a few hundred cases at most


def body_limit(app: Flask, method: str, path: str) -> int:
    """The most bytes a ``method`` request to ``path`` may carry."""
    try:
        endpoint, _args = app.url_map.bind("localhost").match(path, method)
    except HTTPException:  # unknown route, wrong method, a redirect: nothing to read
        return FORM_LIMIT
    if endpoint in UPLOAD_ENDPOINTS:
        return app.config["MAX_CONTENT_LENGTH"]
    return SIGN_IN_LIMIT if endpoint == "auth.login" else FORM_LIMIT


def init_app(app: Flask) -> None:
    """Flask's own check of the same limit, before any hook reads the form (CSRF does)."""

    def limit_body() -> None:
        request.max_content_length = body_limit(app, request.method, request.path)

    app.before_request_funcs.setdefault(None, []).insert(0, limit_body)


def limit_request_bodies(server, current_app: Callable[[], object]) -> None:
    """Make a waitress server (from ``create_server``) refuse a body over the route's limit
    as soon as the request's headers are in. ``current_app()`` is the application the server
    runs now: until the Flask app is ready, nothing may send a body beyond a sign-in's."""

    def limit_for(method: str, path: str) -> int:
        app = current_app()
        return body_limit(app, method, path) if isinstance(app, Flask) else SIGN_IN_LIMIT

    class Parser(HTTPRequestParser):
        adj: Any  # waitress' Adjustments (waitress has no type information)

        def parse_header(self, header_plus: bytes) -> None:
            super().parse_header(header_plus)
            # waitress compares the body against adj.max_request_body_size right after
            # this (Content-Length) and while a chunked body arrives.
            limit = min(limit_for(self.command, self.path), self.adj.max_request_body_size)
            self.adj = copy.copy(self.adj)
            self.adj.max_request_body_size = limit

    class LimitedChannel(HTTPChannel):
        parser_class = Parser

    servers = [server] if isinstance(server, BaseWSGIServer) else list(server.map.values())
    for each in servers:
        if isinstance(each, BaseWSGIServer):
            each.channel_class = LimitedChannel
