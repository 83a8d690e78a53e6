"""The one place where Huey tasks are bound to a runtime: ``build_queue(runtime)``.

Huey registers a task with a queue instance when it is defined, so no task is defined at import
time; the composition root (``Runtime.jobs``) calls ``build_queue`` once per runtime. Task bodies
live with their area (``eakte.jobs.*_tasks``, ``retention.jobs``) as plain functions; here each is
registered under its own module and name, so that the enqueuing process (web, a command) and the
worker agree on every task's identity.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from huey import Huey, crontab

from eakte.jobs import (
    audit_tasks,
    directory_tasks,
    index_tasks,
    ingest_tasks,
    mail_tasks,
    suggest_tasks,
    tasks,
    thumbnail_tasks,
    workflow_tasks,
)
from eakte.jobs.periodic import periodic
from eakte.jobs.queue import log_job_ids, make_huey
from retention import jobs as retention_jobs

if TYPE_CHECKING:
    from eakte.runtime import Runtime


def _bind(fn: Callable[..., Any], *bound: Any) -> Callable[..., Any]:
    """``fn`` with its first arguments given, keeping its module and name (the task's id)."""

    @functools.wraps(fn)
    def task(*args: Any, **kwargs: Any) -> Any:
        return fn(*bound, *args, **kwargs)

    return task


class HueyJobs:
    """The job port (``eakte.jobs.port.Jobs``) on Huey, with every task bound to ``rt``."""

    def __init__(self, rt: Runtime, queue: Huey) -> None:
        self.huey = queue
        log_job_ids(queue)
        # Worker processes are forked from the consumer: each needs connections of its own.
        queue.on_startup(name="eakte-runtime")(rt.after_fork)

        self.process_document_task = queue.task(
            name="ingest.process_document",
            retries=ingest_tasks.RETRIES,
            retry_delay=ingest_tasks.RETRY_DELAY_S,
            retry_backoff=2,
            context=True,
        )(_bind(ingest_tasks.process_document_task, rt, queue))
        self.index_pending_task = queue.task()(_bind(index_tasks.index_pending_task, rt, queue))
        self.execute_disposal_task = queue.task(retries=5, retry_delay=60)(
            _bind(retention_jobs.execute_disposal_task, rt)
        )
        self.verify_task = queue.task()(_bind(tasks.verify_now, rt, queue))
        self.thumbnail_task = queue.task(retries=2, retry_delay=30)(
            _bind(thumbnail_tasks.render_thumbnail_task, rt)
        )
        self._index_window = index_tasks.IndexWindow(
            self.index_now, lambda delay: self.index_pending_task.schedule(delay=delay)
        )

        def every(minutes: int) -> Callable[[Callable[..., Any]], Any]:
            return periodic(queue, crontab(minute=f"*/{minutes}"), timedelta(minutes=minutes))

        def daily(hour: int, minute: int) -> Callable[[Callable[..., Any]], Any]:
            schedule = crontab(hour=str(hour), minute=str(minute))
            return periodic(queue, schedule, timedelta(days=1))

        verify_task = self.verify_task
        scheduled = [
            every(10)(_bind(audit_tasks.anchor_audit_trail, rt)),
            every(1)(_bind(index_tasks.index_catch_up, self.index_now)),
            every(10)(_bind(recover_task, rt)),
            every(1)(_bind(mail_tasks.poll_mail_accounts, rt, queue)),  # each by its interval
            every(5)(_bind(retention_jobs.sync_retention_locks, rt)),
            every(15)(_bind(suggest_tasks.retrain_filing_models, rt)),  # issue 18
            daily(1, 15)(_bind(retention_jobs.nightly_due_refresh, rt)),
            daily(2, 30)(_bind(nightly_fixity_check, verify_task)),
            daily(3, 10)(_bind(directory_tasks.nightly_directory_sync, rt)),  # issue 19
            every(1)(_bind(workflow_tasks.send_workflow_notices, rt)),
            daily(5, 30)(_bind(workflow_tasks.nightly_workflow, rt)),
        ]
        self.periodic: dict[str, Any] = {task.task_class.__name__: task for task in scheduled}

    # ------------------------------------------------------------------ the port (Jobs)

    def process_document(self, document_id: int) -> None:
        self.process_document_task(document_id)

    def enqueue(self, document_id: int, *, ready: bool = False) -> None:
        if ready:
            self.index_soon()
        else:
            self.process_document(document_id)

    def index_soon(self) -> None:
        self._index_window.request()

    def index_now(self) -> None:
        self.index_pending_task()

    def request_disposal(self, request_id: int, user_id: int) -> None:
        self.execute_disposal_task(request_id, user_id)

    def verify_now(self) -> str:
        return str(self.verify_task().id)

    def render_thumbnail(self, document_id: int) -> None:
        self.thumbnail_task(document_id)

    def queued_document_ids(self) -> set[int]:
        ids = set()
        for task in [*self.huey.pending(), *self.huey.scheduled()]:
            if task.name == self.process_document_task.name and task.args:
                ids.add(int(task.args[0]))
        return ids

    def pending_count(self) -> int:
        return int(self.huey.pending_count())


# Periodic tasks are named (and claimed once per period, ``periodic``) by their function's name.


def recover_task(rt: Runtime) -> None:
    ingest_tasks.recover_now(rt)


def nightly_fixity_check(verify_task: Any) -> bool:
    """R18: the whole store is hashed against the database every night."""
    return bool(verify_task.call_local())


def build_queue(rt: Runtime, queue: Huey | None = None) -> HueyJobs:
    """The job port of ``rt``: its settings' queue (or ``queue``) with every task bound."""
    return HueyJobs(rt, make_huey(rt.settings) if queue is None else queue)
