"""A request id for every web request: taken from a sane ``X-Request-ID`` (a proxy's) or made
here, put on every log line of the request (``eakte.logs.request_id``) and sent back in the
response header, so an operator can follow one request through proxy, app and logs."""

from __future__ import annotations

import contextlib
import logging
import re
import time
import uuid

from flask import Flask, g, request

from eakte import logs

HEADER = "X-Request-ID"
# What proxies send (hex, UUIDs, AWS trace ids); nothing that could forge a log line.
_SANE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:;=+/-]{0,127}$")

access_log = logging.getLogger("eakte.web.access")


def init_app(app: Flask) -> None:
    app.before_request(_begin)
    app.after_request(_finish)
    app.teardown_request(_forget)


def incoming_or_new(value: str | None) -> str:
    value = (value or "").strip()
    return value if _SANE.match(value) else uuid.uuid4().hex


def _begin() -> None:
    g.request_id = incoming_or_new(request.headers.get(HEADER))
    g.request_id_token = logs.request_id.set(g.request_id)
    g.request_started = time.perf_counter()


def _finish(response):
    request_id = g.get("request_id")
    if request_id is None:  # a request that failed before its first hook ran
        return response
    response.headers[HEADER] = request_id
    # One line per request; the path without its query (search terms may be personal data).
    elapsed_ms = (time.perf_counter() - g.request_started) * 1000
    access_log.info(
        "%s %s %s %.1fms", request.method, request.path, response.status_code, elapsed_ms
    )
    return response


def _forget(_exc) -> None:
    token = g.pop("request_id_token", None)
    if token is not None:
        with contextlib.suppress(ValueError):  # set in another context: nothing to undo here
            logs.request_id.reset(token)
