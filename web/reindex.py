"""After every successful change made through the web (a form or the API), the indexer is
asked to catch up, so that what a clerk files or edits is searchable within seconds. The
request is coalesced (one indexer run per second at most); the indexer reads what is dirty."""

from __future__ import annotations

from flask import Flask, request

from eakte.jobs.ingest_tasks import request_index_soon

CHANGING_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def init_app(app: Flask) -> None:
    app.after_request(_after_change)


def _after_change(response):
    if request.method in CHANGING_METHODS and response.status_code < 400:
        request_index_soon()
    return response
