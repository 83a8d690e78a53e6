"""The job port built by ``eakte.jobs.factory``: every task registered under a stable name
(what an enqueuing process and the workers agree on), and what each port method enqueues."""

from __future__ import annotations

from types import SimpleNamespace

from huey import MemoryHuey

from eakte.jobs.factory import build_queue


def _jobs():
    # Binding reads nothing of the runtime: a stand-in is enough to see what is enqueued.
    rt = SimpleNamespace(after_fork=lambda: None)
    return build_queue(rt, MemoryHuey("test", utc=True))  # type: ignore[arg-type]


def _queued(jobs) -> list[tuple[str, tuple]]:
    return [(t.name, t.args) for t in [*jobs.huey.pending(), *jobs.huey.scheduled()]]


def test_every_task_is_registered_under_its_module_and_name():
    jobs = _jobs()
    assert set(jobs.huey._registry._registry) == {
        "eakte.jobs.ingest_tasks.ingest.process_document",
        "eakte.jobs.index_tasks.index_pending_task",
        "eakte.jobs.tasks.verify_now",
        "retention.jobs.execute_disposal_task",
        "eakte.jobs.thumbnail_tasks.render_thumbnail_task",
        # periodic
        "eakte.jobs.audit_tasks.anchor_audit_trail",
        "eakte.jobs.index_tasks.index_catch_up",
        "eakte.jobs.factory.recover_task",
        "retention.jobs.sync_retention_locks",
        "retention.jobs.nightly_due_refresh",
        "eakte.jobs.factory.nightly_fixity_check",
        "eakte.jobs.directory_tasks.nightly_directory_sync",
        "eakte.jobs.workflow_tasks.send_workflow_notices",
        "eakte.jobs.workflow_tasks.nightly_workflow",
        "eakte.jobs.mail_tasks.poll_mail_accounts",
        "eakte.jobs.suggest_tasks.retrain_filing_models",
    }
    assert set(jobs.periodic) == {
        "anchor_audit_trail",
        "index_catch_up",
        "recover_task",
        "sync_retention_locks",
        "nightly_due_refresh",
        "nightly_fixity_check",
        "nightly_directory_sync",
        "send_workflow_notices",
        "nightly_workflow",
        "poll_mail_accounts",
        "retrain_filing_models",
    }


def test_the_port_enqueues_what_it_names():
    jobs = _jobs()
    jobs.enqueue(7)
    jobs.process_document(8)
    jobs.request_disposal(3, 4)
    task_id = jobs.verify_now()
    assert _queued(jobs) == [
        ("ingest.process_document", (7,)),
        ("ingest.process_document", (8,)),
        ("execute_disposal_task", (3, 4)),
        ("verify_now", ()),
    ]
    assert task_id == jobs.huey.pending()[-1].id
    assert jobs.queued_document_ids() == {7, 8}
    assert jobs.pending_count() == 4


def test_index_requests_coalesce_into_one_run_now_and_one_at_the_end_of_the_window():
    jobs = _jobs()
    jobs.enqueue(9, ready=True)  # finished at intake: only the index must catch up
    jobs.index_soon()
    jobs.index_soon()
    runs = jobs.huey.pending()  # a delayed task waits in the queue until a worker takes it
    assert [t.name for t in runs] == ["index_pending_task", "index_pending_task"]
    assert runs[0].eta is None and runs[1].eta is not None
