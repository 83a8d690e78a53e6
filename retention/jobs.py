"""Retention jobs: disposal execution, the object-lock and legal-hold sync, the nightly refresh
of the due list (issue 6). Task bodies call ``retention`` services; they hold no rules.

Each body takes the runtime as a ``JobContext`` (settings, store, sessions); the composition
root (``eakte.jobs.factory``) binds them to its runtime and registers them with the queue.
"""

from __future__ import annotations

import logging
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from eakte.audit_anchors import AnchorPolicy
from eakte.config import Settings
from eakte.models import Tenant, User
from retention.due import due_counts
from retention.execution import execute_request
from retention.floor import extend_floors
from retention.holds import mark_all_for_sync, sync_holds
from retention.locks import sync_object_locks
from retention.schedules import refresh_retention
from storage.blobstore import BlobStore

log = logging.getLogger(__name__)


class JobContext(Protocol):
    """What a retention job needs of the runtime (``eakte.runtime.Runtime`` is one)."""

    @property
    def settings(self) -> Settings: ...

    @property
    def store(self) -> BlobStore: ...

    def session(self) -> Session: ...


def execute_disposal_task(rt: JobContext, request_id: int, user_id: int) -> bool:
    """Run (or resume) an approved disposal request. Idempotent: Huey retries it after a
    failure and a rerun after a crash picks up where the last one stopped."""
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


def sync_retention_locks(rt: JobContext) -> None:
    """R25/R12: apply the S3 retain-until of cases closed or reopened since the last run, and
    the S3 legal holds of holds placed or released since; retried every five minutes."""
    with rt.session() as session:
        locked = sync_object_locks(session, rt.store)
        held = sync_holds(session, rt.store)
    for problem in [*locked.failed, *held.failed]:
        log.warning("retention sync: %s (retried in the next run)", problem)


def nightly_due_refresh(rt: JobContext) -> None:
    """R8/R14: recompute every retention end, re-check the S3 side of all active holds, and
    log how many cases are due and past due. Then extend the COMPLIANCE floor of what still
    lives (issue 13)."""
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
    sync_retention_locks(rt)  # not the periodic task: it may have run in this period
    extend_floors_now(rt)


def extend_floors_now(rt: JobContext) -> None:
    with rt.session() as session:
        report = extend_floors(session, rt.store)
    log.info("object lock floor: %d versions extended", report.extended)
    for problem in report.failed:
        log.warning("object lock floor: %s (retried in the next run)", problem)
