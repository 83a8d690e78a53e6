"""The Huey instance, chosen by the settings."""

from __future__ import annotations

from huey import Huey, RedisHuey, SqliteHuey

from eakte.config import Settings


def make_huey(settings: Settings) -> Huey:
    if settings.redis_url:
        return RedisHuey("eakte", url=settings.redis_url, utc=True)
    settings.ensure_data_dir()
    return SqliteHuey("eakte", filename=str(settings.data_dir / "jobs.db"), utc=True)


huey = make_huey(Settings.from_env())
