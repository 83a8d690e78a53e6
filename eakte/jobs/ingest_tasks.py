"""Ingest jobs: text extraction, OCR and the PDF/A rendition of each document (issue 4).

``runtime.jobs.enqueue(document_id)`` is what sources pass to ``services.intake.intake``. A job
retries with backoff while object storage or the database is away (``IngestRetryLater``); when
the retries are used up the document fails with that reason, to be retried later by a person.
``recover_now()`` (``eakte recover``, every worker start, and every ten minutes) queues again
what a crash left in ``received`` or ``processing``.

Task bodies take the runtime and the queue; ``eakte.jobs.factory`` binds them.
"""

from __future__ import annotations

import gc
import importlib
import logging
import os
from typing import TYPE_CHECKING, Any

from huey import Huey

from eakte.errors import IngestRetryLater
from eakte.ingest import spool
from eakte.ingest.mail_intake import finish_messages
from eakte.services.intake import RecoverReport, recover

if TYPE_CHECKING:
    from eakte.runtime import Runtime

log = logging.getLogger(__name__)

RETRIES = 6
RETRY_DELAY_S = 5  # then 10, 20, 40, 80, 160: about five minutes in all
GC_THRESHOLD = 20_000  # allocations between young-generation collections (Python: 700)


def process_document_task(rt: Runtime, queue: Huey, document_id: int, task: Any = None) -> None:
    # Imported here: commands that only enqueue (import, watch, web) need not load PDF tools.
    from eakte.ingest.confine import JobLimits
    from eakte.ingest.process import Result, fail_for_good, process_document

    work_root = rt.settings.spool_dir()
    threads = _ocr_threads(queue)
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
        rt.jobs.index_soon()


def _trim_ocr_engines() -> None:
    from eakte.ingest import tesseract_api

    tesseract_api.trim(keep=1)


def _ocr_threads(queue: Huey) -> int:
    """One page at a time while documents wait (parallelism across documents is cheaper);
    all cores for a document nobody waits behind: a lone upload, the last of an import."""
    try:
        waiting = queue.pending_count()
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


def recover_now(rt: Runtime) -> RecoverReport:
    """Sweep the spool and queue again what a crash left behind."""
    spool.sweep(rt.settings.spool_dir())
    jobs = rt.jobs
    with rt.session() as session:
        report = recover(session, enqueue=jobs.enqueue, queued=jobs.queued_document_ids())
    with rt.session() as session:  # mail messages a crash left without all their attachments
        finish_messages(session, rt.store, rt.settings, enqueue=jobs.enqueue)
    return report
