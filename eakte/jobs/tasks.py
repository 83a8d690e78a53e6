"""Periodic and on-demand tasks. Task bodies call services; they hold no business rules."""

from __future__ import annotations

import logging
from datetime import timedelta

from huey import crontab

from eakte.jobs import (  # noqa: F401 (register tasks)
    audit_tasks,
    index_tasks,
    ingest_tasks,
    retention_tasks,
)
from eakte.jobs.context import runtime
from eakte.jobs.owned_lock import owned_lock
from eakte.jobs.periodic import periodic
from eakte.jobs.queue import huey
from eakte.verify import VerifyContext, run_verify, save_report

log = logging.getLogger(__name__)

VERIFY_STALE = timedelta(hours=12)  # a holder on another host longer than that is gone


@periodic(crontab(hour="2", minute="30"), every=timedelta(days=1))
def nightly_fixity_check() -> bool:
    """R18: the whole store is hashed against the database every night."""
    return verify_now.call_local()


@huey.task()
def verify_now() -> bool:
    """A full verify run; the report is kept for the records officers' page."""
    rt = runtime()
    with owned_lock(huey, "verify", VERIFY_STALE), rt.session() as session:
        report = run_verify(VerifyContext(session, rt.store, rt.settings))
    save_report(report, rt.settings.data_dir)
    for finding in report.findings:
        log.error("fixity: %s %s: %s", finding.check, finding.subject, finding.problem)
    log.info("fixity check done: %s, %d findings", report.checked, len(report.findings))
    return report.clean
