"""Ingest jobs: text extraction, OCR and the PDF/A rendition of each document (issue 4).

``enqueue(document_id)`` is what sources pass to ``services.intake.intake``. A job retries
with backoff while object storage or the database is away (``IngestRetryLater``); when the
retries are used up the document fails with that reason, to be retried later by a person.
``recover_now()`` (``eakte recover``, every worker start, and every ten minutes) queues again
what a crash left in ``received`` or ``processing``.
"""

from __future__ import annotations

import gc
import importlib
import logging
import os
import threading
import time
from datetime import timedelta

from huey import crontab

from eakte.errors import IngestRetryLater
from eakte.ingest import spool
from eakte.ingest.mail_intake import finish_messages
from eakte.jobs.context import runtime
from eakte.jobs.index_tasks import index_pending_task, request_index
from eakte.jobs.periodic import periodic
from eakte.jobs.queue import huey
from eakte.services.intake import RecoverReport, recover

log = logging.getLogger(__name__)

RETRIES = 6
RETRY_DELAY_S = 5  # then 10, 20, 40, 80, 160: about five minutes in all
GC_THRESHOLD = 20_000  # allocations between young-generation collections (Python: 700)
INDEX_WINDOW_S = 1.0  # coalesces bulk imports, keeps an upload searchable within 2 s


@huey.task(
    name="ingest.process_document",
    retries=RETRIES,
    retry_delay=RETRY_DELAY_S,
    retry_backoff=2,
    context=True,
)
def process_document_task(document_id: int, task=None) -> None:
    # Imported here: commands that only enqueue (import, watch, web) need not load PDF tools.
    from eakte.ingest.confine import JobLimits
    from eakte.ingest.process import Result, fail_for_good, process_document

    rt = runtime()
    work_root = rt.settings.spool_dir()
    threads = _ocr_threads()
    with rt.session() as session:
        try:
            result = process_document(
                session,
                rt.store,
                document_id,
                job_id=task.id,
                work_root=work_root,
                ocr_threads=threads,
                limits=JobLimits.from_settings(rt.settings),
                signature_trust_dir=rt.settings.signature_trust_dir,
            )
        except IngestRetryLater as exc:
            if task.retries > 0:
                log.warning("%s; retrying (%d retries left)", exc, task.retries)
                raise
            fail_for_good(session, document_id, task.id, f"gave up after {RETRIES} retries: {exc}")
            return
        finally:
            if threads > 1:  # the engines of the other cores would stay loaded for good
                _trim_ocr_engines()
    if result == Result.ready:
        request_index_soon()


def _trim_ocr_engines() -> None:
    from eakte.ingest import tesseract_api

    tesseract_api.trim(keep=1)


def _ocr_threads() -> int:
    """One page at a time while documents wait (parallelism across documents is cheaper);
    all cores for a document nobody waits behind: a lone upload, the last of an import."""
    try:
        waiting = huey.pending_count()
    except Exception:  # the queue is asked only for a hint
        waiting = 1
    return 1 if waiting else max(1, os.cpu_count() or 1)


def warm_up() -> None:
    """Import what processing a document needs (the OCR stack included); a missing tool is
    reported by the first document that needs it, not here."""
    for module in ("eakte.ingest.process", "eakte.ingest.ocr", "eakte.ingest.ocr_engine"):
        try:
            importlib.import_module(module)
        except Exception as exc:  # only a head start: the job reports properly
            log.warning("could not load %s ahead: %s", module, exc)
    # What is loaded now lives as long as the process: keep the collector from walking it
    # again and again (and from touching the pages the forked workers share with us), and let
    # it run less often — a page of OCR allocates many short-lived objects and no cycles of
    # note. It cost 2-3 % of OCR time.
    gc.freeze()
    gc.set_threshold(GC_THRESHOLD, *gc.get_threshold()[1:])


def enqueue(document_id: int, *, ready: bool = False) -> None:
    """A document was taken in: process it, or (``ready``: finished at intake) index it."""
    if ready:
        request_index_soon()
    else:
        process_document_task(document_id)


def queued_document_ids() -> set[int]:
    """Documents with a processing job in the queue (waiting or scheduled for a retry)."""
    ids = set()
    for task in [*huey.pending(), *huey.scheduled()]:
        if task.name == process_document_task.name and task.args:
            ids.add(int(task.args[0]))
    return ids


def recover_now(rt=None) -> RecoverReport:
    """Sweep the spool and queue again what a crash left behind (``rt``: this process's
    runtime unless given)."""
    rt = rt or runtime()
    spool.sweep(rt.settings.spool_dir())
    with rt.session() as session:
        report = recover(session, enqueue=enqueue, queued=queued_document_ids())
    with rt.session() as session:  # mail messages a crash left without all their attachments
        finish_messages(session, rt.store, rt.settings, enqueue=enqueue)
    return report


@periodic(crontab(minute="*/10"), every=timedelta(minutes=10))
def recover_task() -> None:
    recover_now()


_index_lock = threading.Lock()
_index_last = 0.0
_index_trailing = False


def request_index_soon() -> None:
    """Ask for an indexer run, at most one per ``INDEX_WINDOW_S`` from this process: the
    indexer reads every dirty document anyway, so a burst of ready documents needs one run,
    not one each. The first request after a quiet spell runs at once (a web upload is
    searchable right away); within a burst a run is scheduled for the end of the window, so
    the last documents are never left out."""
    global _index_last, _index_trailing
    now = time.monotonic()
    with _index_lock:
        waited = now - _index_last
        if waited >= INDEX_WINDOW_S:
            _index_last, _index_trailing, delay = now, False, None
        elif not _index_trailing:
            _index_trailing, delay = True, INDEX_WINDOW_S - waited
        else:
            return
    if delay is None:
        request_index()
    else:
        index_pending_task.schedule(delay=delay)
