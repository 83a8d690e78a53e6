"""With real ``eakte worker`` processes: index requests become searchable documents, and two
workers asking at once never meet a lock error."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from eakte.jobs.factory import build_queue
from eakte.models import User
from eakte.services import search as search_service
from tests.search.conftest import add_document

# Whoosh on SQLite (file locks) and the PostgreSQL backend (advisory locks).
per_backend = pytest.mark.parametrize(
    "search_case",
    [("sqlite", "whoosh"), pytest.param(("postgresql", "postgresql"), marks=pytest.mark.postgres)],
    ids=["sqlite", "pgsearch"],
    indirect=True,
)


def _wait_until(predicate, timeout=90.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.1)


@per_backend
def test_requested_index_runs_make_documents_searchable_without_lock_errors(
    world, archive, env, tmp_path
):
    # The queue of this installation, with the tasks the workers know.
    jobs = build_queue(world.rt)
    queue = jobs.huey
    logs = [tmp_path / f"worker{n}.log" for n in (1, 2)]
    workers = [
        subprocess.Popen(
            [sys.executable, "-m", "eakte", "worker"],
            env={**os.environ, "EAKTE_LOG_LEVEL": "WARNING"},
            stdout=subprocess.DEVNULL,
            stderr=log.open("w"),
            start_new_session=True,
        )
        for log in logs
    ]
    try:
        ids = [
            add_document(world, f"Eingang {n}", f"Zeppelinhalle Nummer{n} Gebühr", unit="32")
            for n in range(6)
        ]
        for _ in range(8):  # a burst of requests, as from several uploads at once
            jobs.index_now()

        def all_found():
            with world.session() as s:
                result = search_service.search(
                    s, s.get(User, world.clerk.id), world.rt.search, "Zeppelinhalle", per_page=50
                )
            return {hit.key for hit in result.hits} == {f"d{i}" for i in ids}

        _wait_until(all_found)
        _wait_until(lambda: queue.pending_count() == 0 and queue.scheduled_count() == 0)
        # Released after every run (asked before the workers stop: one stopped mid-run leaves
        # it for the next run to clear, which ``index_pending_task`` does).
        _wait_until(lambda: not queue.is_locked("eakte-index"))
    finally:
        for worker in workers:
            os.killpg(worker.pid, signal.SIGTERM)
        for worker in workers:
            worker.wait(timeout=30)
    output = "".join(log.read_text() for log in logs)
    assert "LockError" not in output and "Traceback" not in output, output
