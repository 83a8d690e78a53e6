"""A queue-wide lock that names its holder, so that a holder killed mid-run (OOM, SIGKILL, a
deploy) does not block its task for good: Huey's ``lock_task`` is released only by its holder,
and the SQLite queue offers no expiry. The holder is judged like a document's claim: gone when
its process is (same host), or when it has held the lock longer than ``stale_after``."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from huey import Huey
from huey.exceptions import TaskLockedException

from eakte.ingest import claims

log = logging.getLogger(__name__)


def _key(name: str) -> str:
    return f"eakte.owned-lock.{name}"


@contextmanager
def owned_lock(queue: Huey, name: str, stale_after: timedelta) -> Iterator[None]:
    """Hold lock ``name`` for the block; ``TaskLockedException`` while a live holder has it."""
    key = _key(name)
    mine = (claims.identity(), datetime.now(UTC).isoformat())
    if not queue.put_if_empty(key, mine):
        holder = queue.get(key, peek=True)
        if holder is not None and not _gone(holder, stale_after):
            raise TaskLockedException(f"{name} is running ({holder[0]}, since {holder[1]})")
        log.warning("lock %s: its holder %s is gone; taken over", name, holder)
        queue.delete(key)
        if not queue.put_if_empty(key, mine):  # another taker was quicker
            raise TaskLockedException(f"{name} is running")
    try:
        yield
    finally:
        if queue.get(key, peek=True) == mine:  # not taken over meanwhile
            queue.delete(key)


def _gone(holder: Any, stale_after: timedelta) -> bool:  # what the queue stored
    try:
        identity, since = holder
        started = datetime.fromisoformat(since)
    except (TypeError, ValueError):
        return True  # not a holder this code wrote
    return claims.is_stale(identity, started, datetime.now(UTC), stale_after)
