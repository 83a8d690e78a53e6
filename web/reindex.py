"""What a view calls after a service changed what the search index shows (a case created,
edited, moved, closed; a document filed, edited, discarded; ...): the indexer is asked to catch
up, so that the change is searchable within seconds. The request is coalesced (one indexer run
per second at most, ``runtime.jobs.index_soon``); the indexer reads what is dirty. Views call it
explicitly after the service call succeeded: a GET or a refused change asks for nothing."""

from __future__ import annotations

from web.db import runtime


def index_soon() -> None:
    runtime().jobs.index_soon()
