"""The verify job (R18): on demand and every night. Task bodies call services; they hold no
business rules."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING

from huey import Huey

from eakte.jobs.owned_lock import owned_lock
from eakte.verify import VerifyContext, run_verify, save_report

if TYPE_CHECKING:
    from eakte.runtime import Runtime

log = logging.getLogger(__name__)

VERIFY_STALE = timedelta(hours=12)  # a holder on another host longer than that is gone


def verify_now(rt: Runtime, queue: Huey) -> bool:
    """A full verify run; the report is kept for the records officers' page."""
    with owned_lock(queue, "verify", VERIFY_STALE), rt.session() as session:
        report = run_verify(VerifyContext(session, rt.store, rt.settings))
    save_report(report, rt.settings.data_dir)
    for finding in report.findings:
        log.error("fixity: %s %s: %s", finding.check, finding.subject, finding.problem)
    log.info("fixity check done: %s, %d findings", report.checked, len(report.findings))
    return report.clean
