"""The mail intake's periodic task (issue 17): every minute, the accounts whose poll interval
has passed are read. One poll at a time across all worker hosts (an owned lock: a worker
killed mid-poll does not block it for good); accounts are read one after another, so a slow
server delays the others by at most its own run."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING

from huey import Huey
from huey.exceptions import TaskLockedException

from eakte.jobs.owned_lock import owned_lock
from eakte.services import mail_accounts

if TYPE_CHECKING:
    from eakte.runtime import Runtime

log = logging.getLogger(__name__)

STALE_AFTER = timedelta(hours=2)


def poll_mail_accounts(rt: Runtime, queue: Huey) -> int:
    """Read every due account; returns how many were read (0 while another poll runs)."""
    try:
        with owned_lock(queue, "mail-poll", STALE_AFTER):
            with rt.session() as session:
                due = mail_accounts.due_accounts(session)
                done = mail_accounts.run_accounts(
                    session, rt.store, rt.settings, due, enqueue=rt.jobs.enqueue
                )
            for name, report in done.items():
                if not isinstance(report, str) and (report.accepted or report.quarantined):
                    log.info(
                        "mail account %s: %d taken in, %d quarantined",
                        name,
                        report.accepted,
                        report.quarantined,
                    )
            return len(done)
    except TaskLockedException:
        log.info("mail poll: still running elsewhere")
        return 0
