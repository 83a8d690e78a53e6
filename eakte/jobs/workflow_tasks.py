"""The workflow's jobs (issue 16): the outbox sender (every minute, so that a mail on arrival
goes out within a minute) and the nightly run (due Wiedervorlagen, overdue steps, digests).
Task bodies call services; they hold no business rules."""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

from eakte.workflow.mailer import send_pending
from eakte.workflow.nightly import run_nightly

if TYPE_CHECKING:
    from eakte.runtime import Runtime

log = logging.getLogger(__name__)


def send_workflow_notices(rt: Runtime) -> int:
    with rt.session() as session:
        return send_pending(session, rt.settings.smtp)


def nightly_workflow(rt: Runtime) -> int:
    started = time.monotonic()
    with rt.session() as session:
        result = run_nightly(session)
        sent = send_pending(session, rt.settings.smtp)
    log.info(
        "workflow nightly: %d Wiedervorlagen due (%d new), %d steps overdue (%d new), "
        "%d digests, %d mails sent, %.1f s",
        result.due_wiedervorlagen,
        result.newly_due,
        result.overdue_steps,
        result.newly_overdue,
        result.digests,
        sent,
        time.monotonic() - started,
    )
    return result.digests
