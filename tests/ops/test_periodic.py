"""Periodic tasks run once per period however many worker hosts share the queue (each Huey
consumer schedules them itself), and a lock whose holder died does not block its task."""

from __future__ import annotations

import dataclasses
import subprocess
from datetime import UTC, datetime, timedelta

import pytest
from huey.exceptions import TaskLockedException

from eakte.ingest import claims
from eakte.jobs.owned_lock import _key as _lock_key
from eakte.jobs.owned_lock import owned_lock
from eakte.jobs.periodic import _key, claim_period
from eakte.jobs.queue import make_huey

MINUTE = timedelta(minutes=1)


@pytest.fixture(params=["sqlite", "redis"])
def queue(request, tmp_path):
    from eakte.config import Settings

    settings = dataclasses.replace(Settings.from_env(), data_dir=tmp_path)
    if request.param == "redis":
        settings = dataclasses.replace(settings, redis_url=request.getfixturevalue("redis_url"))
    huey = make_huey(settings)
    huey.flush()  # the tests' own Redis database or a fresh file
    yield huey
    huey.flush()


def test_first_worker_of_a_period_runs_the_others_skip(queue):
    t = 1_800_000_000.0  # a minute boundary
    hosts = [claim_period(queue, "index_catch_up", MINUTE, now=t + s) for s in (0.1, 0.5, 59)]
    assert hosts == [True, False, False]
    assert claim_period(queue, "index_catch_up", MINUTE, now=t + 60)  # the next minute
    assert claim_period(queue, "recover_task", MINUTE, now=t + 61)  # another task: its own


def test_claims_of_earlier_periods_are_removed(queue):
    t = 1_800_000_000.0
    for minute in range(10):
        assert claim_period(queue, "index_catch_up", MINUTE, now=t + 60 * minute)
    period = int(t // 60)
    left = [m for m in range(10) if queue.get(_key("index_catch_up", period + m), peek=True)]
    assert left == [9]  # only the current period's claim is kept


def test_a_lock_whose_holder_died_is_taken_over(queue):
    """A verify run killed mid-way must not switch the nightly fixity check off for good."""
    key, hours = _lock_key("verify"), timedelta(hours=12)
    alive = subprocess.Popen(["sleep", "30"])
    dead = subprocess.Popen(["true"])
    dead.wait()
    since = datetime.now(UTC).isoformat()
    try:
        queue.put(key, (claims.identity("job", alive.pid), since))
        with pytest.raises(TaskLockedException), owned_lock(queue, "verify", hours):
            pass  # a live holder: nobody else runs
        queue.put(key, (claims.identity("job", dead.pid), since))
        with owned_lock(queue, "verify", hours):  # its holder is gone: taken over
            assert queue.get(key, peek=True)[0] == claims.identity()
            with pytest.raises(TaskLockedException), owned_lock(queue, "verify", hours):
                pass
        assert queue.get(key, peek=True) is None  # released after the run
        a_day_ago = (datetime.now(UTC) - timedelta(days=1)).isoformat()
        queue.put(key, ("other-host:1:1:job", a_day_ago))  # another host, far too long
        with owned_lock(queue, "verify", hours):
            pass
    finally:
        alive.kill()
        alive.wait()
