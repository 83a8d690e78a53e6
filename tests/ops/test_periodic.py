"""Periodic tasks run once per period however many worker hosts share the queue (each Huey
consumer schedules them itself)."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest

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
