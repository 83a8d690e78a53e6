"""Prometheus metrics: the objects other parts increment, and what ``/metrics`` adds per scrape.

The counters are made on first use (``counters()``, also ``runtime.metrics``), never at
import, and every area increments the same objects:

- ``counters().ocr_pages.inc(pages)`` after OCR of a document's pages (ingest); Prometheus
  derives pages per second with ``rate(eakte_ocr_pages_total[5m])``;
- ``with counters().search_seconds.time(): ...`` around one search (search);
- ``counters().disposal_runs.labels(outcome="ok" | "failed").inc()`` per executed disposal
  request (retention);
- ``counters().storage_errors.labels(error=...)`` is counted at the web edge (``web/errors.py``).

Documents by status and the queue depth are read from the database and the queue at scrape
time (``scrape_collectors``), so every web host reports the same figures.

Jobs run in worker processes, not in the web process that serves ``/metrics``. Counters are
therefore kept in prometheus-client's multiprocess mode: each process writes its values to a
small file under ``PROMETHEUS_MULTIPROC_DIR`` and a scrape adds them up. The composition root
chooses the directory (``use_multiprocess_dir``: the operator's, else ``$EAKTE_DATA_DIR/metrics``)
before the first counter is made. Processes on other hosts write to their own host's directory.
"""

from __future__ import annotations

import hmac
import logging
import os
import threading
from collections.abc import Callable, Iterator, Mapping, MutableMapping
from dataclasses import dataclass
from pathlib import Path

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    values,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from eakte.errors import ConfigError
from eakte.models import Document

log = logging.getLogger(__name__)

MULTIPROC_VAR = "PROMETHEUS_MULTIPROC_DIR"
TOKEN_VAR = "EAKTE_METRICS_TOKEN"  # noqa: S105 (the variable's name, not a token)
MIN_TOKEN_LENGTH = 16

CONTENT_TYPE = CONTENT_TYPE_LATEST


def use_multiprocess_dir(default: Path, environ: MutableMapping[str, str] | None = None) -> None:
    """Composition roots: keep counters in files shared by this host's processes, in the
    operator's ``PROMETHEUS_MULTIPROC_DIR`` or else ``default`` (made if missing). Must run
    before the first counter is made (prometheus_client fixes a value's kind when it is
    made); a directory that cannot be made leaves the counters per process."""
    env = os.environ if environ is None else environ
    if _made is not None:
        log.warning("metrics: counters exist already; they stay as they are")
        return
    if MULTIPROC_VAR not in env:
        try:
            default.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            log.debug("metrics stay per process: %s", exc)
            return
        env[MULTIPROC_VAR] = str(default)  # read by prometheus_client at every scrape/write
    if not multiprocess():
        values.ValueClass = values.MultiProcessValue()


@dataclass(frozen=True)
class Metrics:
    """The counters of this process (one set: Prometheus names are process-wide)."""

    ocr_pages: Counter
    search_seconds: Histogram
    storage_errors: Counter
    disposal_runs: Counter


_made: Metrics | None = None
_making = threading.Lock()


def counters() -> Metrics:
    """The counters, made on first use (after the composition root chose the mode). Web
    threads ask at once: they are made under a lock, once (a second set would be refused by
    the registry as duplicated time series)."""
    global _made
    if _made is None:
        with _making:
            if _made is None:
                _made = _make()
    return _made


def _make() -> Metrics:
    made = Metrics(
        ocr_pages=Counter("eakte_ocr_pages", "Pages recognised by OCR."),
        search_seconds=Histogram(
            "eakte_search_duration_seconds",
            "Time to answer one search, permission filtering included.",
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
        ),
        storage_errors=Counter(
            "eakte_storage_errors",
            "Object-storage errors that reached the web edge, by error class.",
            ["error"],
        ),
        disposal_runs=Counter(
            "eakte_disposal_runs",
            "Executed disposal requests, by outcome (ok, failed).",
            ["outcome"],
        ),
    )
    for outcome in ("ok", "failed"):
        made.disposal_runs.labels(outcome=outcome)  # exported as 0 from the start: rate() works
    return made


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

    def collect(self) -> Iterator[Metric]:
        yield from REGISTRY.collect()


def exposition(
    documents_by_status: Callable[[], Mapping[str, int]], queue_pending: Callable[[], int]
) -> bytes:
    """The text of one scrape: the counters of every process plus the live figures."""
    counters()  # this process's counters exist (as 0) before the first increment
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
