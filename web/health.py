"""Health and metrics endpoints for operators (issue 8).

``/healthz`` says the process answers; ``/readyz`` whether it can do its work (database with the
current schema, object storage, job queue, search index), each part with its own status and
latency; ``/metrics`` is the Prometheus scrape. They need no session (see ``PUBLIC_ENDPOINTS``
in ``web/security.py``) and reveal no records: ``/metrics`` shows counts only, and only to
loopback clients unless ``EAKTE_METRICS_TOKEN`` is set, which is then required from everyone.
"""

from __future__ import annotations

import contextvars
import functools
import ipaddress
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request
from flask.blueprints import BlueprintSetupState
from flask.typing import ResponseReturnValue

from eakte import metrics, schema
from eakte.runtime import Runtime

log = logging.getLogger(__name__)

bp = Blueprint("health", __name__)

READY_TIMEOUT_S = 10.0  # a hung dependency must not hang the probe
_probes = ThreadPoolExecutor(max_workers=16, thread_name_prefix="readyz")  # room for hung probes


@bp.record_once
def _setup(state: BlueprintSetupState) -> None:
    # Read once when the app is built: a bad token stops the server at start, naming it.
    state.app.extensions["eakte.metrics_token"] = metrics.configured_token()


def _runtime() -> Runtime:
    rt: Runtime = current_app.extensions["eakte.runtime"]
    return rt


@bp.get("/healthz")
def healthz() -> Response:
    return jsonify(status="alive")


@bp.get("/readyz")
def readyz() -> ResponseReturnValue:
    rt = _runtime()
    checks: dict[str, Callable[[], dict[str, Any]]] = {
        "database": functools.partial(check_database, rt),
        "storage": functools.partial(check_storage, rt),
        "queue": functools.partial(check_queue, rt),
        "index": lambda: dict(rt.search.health()),  # the runtime's search backend
    }
    # Each probe runs in the request's context, so its log lines carry the request id.
    futures = {
        name: _probes.submit(contextvars.copy_context().run, _timed, name, check)
        for name, check in checks.items()
    }
    deadline = time.monotonic() + READY_TIMEOUT_S
    results = {}
    for name, future in futures.items():
        try:
            results[name] = future.result(timeout=max(0.0, deadline - time.monotonic()))
        except FutureTimeout:
            log.warning("readyz: %s did not answer within %ss", name, READY_TIMEOUT_S)
            results[name] = {"status": "error", "error": "timeout"}
    ready = all(result["status"] in ("ok", "empty") for result in results.values())
    body = {"status": "ready" if ready else "not ready", "checks": results}
    return jsonify(body), 200 if ready else 503


def _timed(name: str, check: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    start = time.perf_counter()
    try:
        result = check()
    except Exception as exc:
        # The class says what failed; the message (hosts, paths) goes to the log only.
        log.warning("readyz: %s not ready: %s: %s", name, type(exc).__name__, exc)
        result = {"status": "error", "error": type(exc).__name__}
    result["latency_ms"] = round((time.perf_counter() - start) * 1000, 1)
    return result


@functools.cache
def _head_revision() -> str:
    return schema.head_revision()


def check_database(rt: Runtime) -> dict[str, Any]:
    """The database answers and has the schema this code needs."""
    current = schema.current_revision(rt.engine)
    if current != _head_revision():
        log.warning("readyz: schema %s, this version needs %s", current, _head_revision())
        return {"status": "error", "error": "schema not current"}
    return {"status": "ok"}


def check_storage(rt: Runtime) -> dict[str, Any]:
    """The bucket answers, with versioning and Object Lock."""
    rt.store.check_bucket()
    return {"status": "ok"}


def check_queue(rt: Runtime) -> dict[str, Any]:
    return {"status": "ok", "pending": rt.jobs.pending_count()}


@bp.get("/metrics", endpoint="metrics")  # the name web/security.py makes public
def metrics_endpoint() -> ResponseReturnValue:
    token = current_app.extensions.get("eakte.metrics_token", "")
    if token:
        if not metrics.token_matches(token, request.headers.get("Authorization")):
            response = jsonify(error="a valid bearer token (EAKTE_METRICS_TOKEN) is required")
            response.status_code = 401
            response.headers["WWW-Authenticate"] = 'Bearer realm="metrics"'
            return response
    elif not _local_client():
        return jsonify(error="metrics answer loopback clients only; set EAKTE_METRICS_TOKEN"), 403
    rt = _runtime()

    def documents_by_status() -> dict[str, int]:
        with rt.session() as session:
            return metrics.documents_by_status(session)

    body = metrics.exposition(documents_by_status, rt.jobs.pending_count)
    return Response(body, content_type=metrics.CONTENT_TYPE)


def _local_client() -> bool:
    # Behind a proxy every client looks local: a forwarded request is treated as remote.
    if request.headers.get("X-Forwarded-For") or request.headers.get("Forwarded"):
        return False
    try:
        return ipaddress.ip_address(request.remote_addr or "").is_loopback
    except ValueError:
        return False
