"""The Huey instance, chosen by the settings (built by ``eakte.jobs.factory``, never at import)."""

from __future__ import annotations

from typing import Any

from huey import Huey, RedisHuey, SqliteHuey

from eakte import logs
from eakte.config import Settings


def make_huey(settings: Settings) -> Huey:
    if settings.redis_url:
        return RedisHuey("eakte", url=settings.redis_url, utc=True)
    settings.ensure_data_dir()
    return SqliteHuey("eakte", filename=str(settings.data_dir / "jobs.db"), utc=True)


def log_job_ids(queue: Huey) -> None:
    """Every log line of a running task carries its Huey task id (``eakte.logs.job_id``)."""

    @queue.pre_execute(name="eakte-job-id")
    def _bind(task: Any) -> None:
        logs.job_id.set(task.id)

    @queue.post_execute(name="eakte-job-id")
    def _unbind(_task: Any, _value: Any, _exc: BaseException | None) -> None:
        logs.job_id.set(None)
