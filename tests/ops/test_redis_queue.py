"""Huey on Redis: a job enqueued by one process is run by a real ``eakte worker`` process."""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys

import pytest

from eakte.jobs.queue import make_huey
from eakte.runtime import Runtime
from web import create_app

pytestmark = pytest.mark.slow


# A process that builds its runtime from the environment and asks for a verify run.
_PRODUCER = """
from eakte.config import Settings
from eakte.runtime import open_runtime

with open_runtime(Settings.from_env()) as rt:
    print(rt.jobs.verify_now())
"""


def _process_env(env: dict[str, str], redis_url: str) -> dict[str, str]:
    values = {k: v for k, v in os.environ.items() if not k.startswith("EAKTE_")}
    values.update(env, EAKTE_REDIS_URL=redis_url, EAKTE_LOG_FORMAT="json")
    return values


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_worker_on_redis_runs_a_job_enqueued_elsewhere(world, env, redis_url, tmp_path):
    world.inbox_document("Antrag")  # something for the job (a fixity check) to hash
    settings = dataclasses.replace(world.rt.settings, redis_url=redis_url)
    queue = make_huey(settings)
    queue.flush()  # this Redis database is the tests' own
    process_env = _process_env(env, redis_url)

    # A producer process (as a web host would be) enqueues; nothing runs it yet.
    enqueued = subprocess.run(
        [sys.executable, "-c", _PRODUCER],
        env=process_env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    task_id = enqueued.stdout.strip().splitlines()[-1]
    assert queue.pending_count() == 1
    rt = Runtime(settings, world.rt.engine, world.rt.sessions, world.rt.store)
    ready = create_app(rt, {"TESTING": True}).test_client().get("/readyz").get_json()
    assert ready["checks"]["queue"]["pending"] == 1

    log_path = tmp_path / "worker.log"
    with log_path.open("w") as log_file:
        worker = subprocess.Popen(
            [sys.executable, "-m", "eakte", "worker"],
            env=process_env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
        try:
            assert queue.result(task_id, blocking=True, timeout=120) is True
        finally:
            worker.send_signal(signal.SIGINT)  # Huey's graceful shutdown
            try:
                worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()

    # One JSON object per line, nothing else.
    entries = [json.loads(line) for line in log_path.read_text().splitlines()]
    of_job = [e for e in entries if e.get("job_id") == task_id]
    assert any("fixity check done" in e["message"] for e in of_job), entries
    assert any("executed in" in e["message"] for e in of_job)
