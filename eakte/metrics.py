"""Prometheus metrics: the objects other parts increment, and what ``/metrics`` adds per scrape.

Counters and histograms live here so every area imports the same objects:

- ``OCR_PAGES.inc(pages)`` after OCR of a document's pages (ingest); Prometheus derives pages
  per second with ``rate(eakte_ocr_pages_total[5m])``;
- ``with SEARCH_SECONDS.time(): ...`` around one search (search);
- ``DISPOSAL_RUNS.labels(outcome="ok" | "failed").inc()`` per executed disposal request
  (retention);
- ``STORAGE_ERRORS.labels(error=...)`` is counted at the web edge (``web/errors.py``).

Documents by status and the queue depth are read from the database and the queue at scrape
time (``scrape_collectors``), so every web host reports the same figures.

Jobs run in worker processes, not in the web process that serves ``/metrics``. Counters are
therefore kept in prometheus-client's multiprocess mode: each process writes its values to a
small file under ``PROMETHEUS_MULTIPROC_DIR`` (default ``$EAKTE_DATA_DIR/metrics``, set here
before prometheus_client is first imported) and a scrape adds them up. Processes on other
hosts write to their own host's directory.
"""

from __future__ import annotations

import hmac
import logging
import os
import sys
from collections.abc import Callable, Iterator, Mapping

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from eakte.config import Settings
from eakte.errors import ConfigError
from eakte.models import Document

log = logging.getLogger(__name__)

MULTIPROC_VAR = "PROMETHEUS_MULTIPROC_DIR"
TOKEN_VAR = "EAKTE_METRICS_TOKEN"  # noqa: S105 (the variable's name, not a token)
MIN_TOKEN_LENGTH = 16


def _choose_multiprocess_dir() -> None:
    """Enable multiprocess mode with a directory in the data dir, unless the operator chose
    one, or prometheus_client was imported before us (it fixes its mode at import)."""
    if MULTIPROC_VAR in os.environ or "prometheus_client" in sys.modules:
        return
    try:
        path = Settings.from_env().data_dir / "metrics"
        path.mkdir(parents=True, exist_ok=True)
    except (ConfigError, OSError) as exc:
        log.debug("metrics stay per process: %s", exc)
        return
    os.environ[MULTIPROC_VAR] = str(path)


_choose_multiprocess_dir()

from prometheus_client import (  # noqa: E402 (the mode above must be chosen first)
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    values,
)
from prometheus_client.core import GaugeMetricFamily  # noqa: E402
from prometheus_client.multiprocess import MultiProcessCollector  # noqa: E402

CONTENT_TYPE = CONTENT_TYPE_LATEST

OCR_PAGES = Counter("eakte_ocr_pages", "Pages recognised by OCR.")
SEARCH_SECONDS = Histogram(
    "eakte_search_duration_seconds",
    "Time to answer one search, permission filtering included.",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
STORAGE_ERRORS = Counter(
    "eakte_storage_errors",
    "Object-storage errors that reached the web edge, by error class.",
    ["error"],
)
DISPOSAL_RUNS = Counter(
    "eakte_disposal_runs", "Executed disposal requests, by outcome (ok, failed).", ["outcome"]
)
for _outcome in ("ok", "failed"):
    DISPOSAL_RUNS.labels(outcome=_outcome)  # exported as 0 from the start, so rate() works


def multiprocess() -> bool:
    return bool(getattr(values.ValueClass, "_multiprocess", False))


# --------------------------------------------------------------------------- scrape


def documents_by_status(session: Session) -> dict[str, int]:
    rows = session.execute(select(Document.status, func.count()).group_by(Document.status))
    return {status: count for status, count in rows}


class _Live:
    """A collector that asks the database and the queue at scrape time."""

    def __init__(
        self,
        documents_by_status: Callable[[], Mapping[str, int]],
        queue_pending: Callable[[], int],
    ):
        self._documents_by_status = documents_by_status
        self._queue_pending = queue_pending

    def collect(self) -> Iterator[GaugeMetricFamily]:
        # A component that is down leaves its family out (and /readyz says why): a scrape
        # must still deliver the counters.
        try:
            counts = self._documents_by_status()
        except Exception as exc:
            log.warning("metrics: documents by status unavailable: %s", exc)
        else:
            family = GaugeMetricFamily(
                "eakte_documents", "Documents by status, all tenants.", labels=["status"]
            )
            for status, count in sorted(counts.items()):
                family.add_metric([status], count)
            yield family
        try:
            pending = self._queue_pending()
        except Exception as exc:
            log.warning("metrics: queue depth unavailable: %s", exc)
        else:
            yield GaugeMetricFamily(
                "eakte_queue_pending", "Jobs waiting in the queue (Huey pending count).", pending
            )


class _ThisProcess:
    """Single-process mode: the default registry's metrics, passed through."""

    def collect(self):
        yield from REGISTRY.collect()


def exposition(
    documents_by_status: Callable[[], Mapping[str, int]], queue_pending: Callable[[], int]
) -> bytes:
    """The text of one scrape: the counters of every process plus the live figures."""
    registry = CollectorRegistry()
    if multiprocess():
        MultiProcessCollector(registry)
    else:
        registry.register(_ThisProcess())
    registry.register(_Live(documents_by_status, queue_pending))
    return generate_latest(registry)


# ---------------------------------------------------------------------------- access


def configured_token(environ: Mapping[str, str] | None = None) -> str:
    """``EAKTE_METRICS_TOKEN``: empty (metrics for loopback clients only) or a bearer token."""
    raw = (os.environ if environ is None else environ).get(TOKEN_VAR, "").strip()
    if raw and (len(raw) < MIN_TOKEN_LENGTH or any(c.isspace() for c in raw)):
        raise ConfigError(
            f"{TOKEN_VAR}: expected at least {MIN_TOKEN_LENGTH} characters without spaces"
        )
    return raw


def token_matches(expected: str, authorization: str | None) -> bool:
    scheme, _, given = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not given.strip():
        return False
    return hmac.compare_digest(given.strip().encode(), expected.encode())
