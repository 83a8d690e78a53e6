"""Retention jobs: disposal execution, the object-lock and legal-hold sync, the nightly refresh
of the due list (issue 6). Task bodies call ``retention`` services; they hold no rules."""

from __future__ import annotations

import logging
from datetime import timedelta

from huey import crontab
from sqlalchemy import select

from eakte.jobs.context import runtime
from eakte.jobs.periodic import periodic
from eakte.jobs.queue import huey
from eakte.models import Tenant, User

log = logging.getLogger(__name__)


@huey.task(retries=5, retry_delay=60)
def execute_disposal_task(request_id: int, user_id: int) -> bool:
    """Run (or resume) an approved disposal request. Idempotent: Huey retries it after a
    failure and a rerun after a crash picks up where the last one stopped."""
    from eakte.audit_anchors import AnchorPolicy
    from retention.execution import execute_request

    rt = runtime()
    with rt.session() as session:
        actor = session.get(User, user_id)
        report = execute_request(
            session,
            actor,
            rt.store,
            request_id,
            data_dir=rt.settings.data_dir,
            anchors=AnchorPolicy.from_settings(rt.settings),
        )
    log.info(
        "disposal %s: %d destroyed, %d held, %d waiting for the archive",
        request_id,
        len(report.destroyed),
        len(report.held),
        len(report.waiting),
    )
    return report.completed


def request_disposal(request_id: int, user_id: int) -> None:
    """Hand an approved request to the workers."""
    execute_disposal_task(request_id, user_id)


@periodic(crontab(minute="*/5"), every=timedelta(minutes=5))
def sync_retention_locks() -> None:
    """R25/R12: apply the S3 retain-until of cases closed or reopened since the last run, and
    the S3 legal holds of holds placed or released since; retried every five minutes."""
    sync_retention_locks_now()


def sync_retention_locks_now() -> None:
    from retention.holds import sync_holds
    from retention.locks import sync_object_locks

    rt = runtime()
    with rt.session() as session:
        locked = sync_object_locks(session, rt.store)
        held = sync_holds(session, rt.store)
    for problem in [*locked.failed, *held.failed]:
        log.warning("retention sync: %s (retried in the next run)", problem)


@periodic(crontab(hour="1", minute="15"), every=timedelta(days=1))
def nightly_due_refresh() -> None:
    """R8/R14: recompute every retention end, re-check the S3 side of all active holds, and
    log how many cases are due and past due. Then extend the COMPLIANCE floor of what still
    lives (issue 13)."""
    from retention.due import due_counts
    from retention.holds import mark_all_for_sync
    from retention.schedules import refresh_retention

    rt = runtime()
    with rt.session() as session:
        refreshed = refresh_retention(session)
        mark_all_for_sync(session)
        log.info(
            "retention refresh: %d closed cases checked, %d ends moved",
            refreshed.checked,
            refreshed.changed,
        )
        for tenant in session.scalars(select(Tenant)):
            due, held = due_counts(session, tenant.id)
            log.info(
                "tenant %s: %d cases due for disposal, %d held, %d past due (neither disposed "
                "of nor held, R14)",
                tenant.slug,
                due,
                held,
                due - held,
            )
    sync_retention_locks_now()  # not the periodic task: it may have run in this period
    extend_floors_now()


def extend_floors_now() -> None:
    from retention.floor import extend_floors

    rt = runtime()
    with rt.session() as session:
        report = extend_floors(session, rt.store)
    log.info("object lock floor: %d versions extended", report.extended)
    for problem in report.failed:
        log.warning("object lock floor: %s (retried in the next run)", problem)
