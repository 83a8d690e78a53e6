"""Periodic tasks that run once per period, however many worker hosts share the queue.

Huey gives every consumer its own scheduler, so with three worker hosts on one Redis each
periodic task would be enqueued and run three times — the nightly fixity check would read the
whole archive three times. The first instance of a period claims it in the queue's own
key-value store (an atomic put-if-empty, in Redis and in SQLite alike); the others skip.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from huey import Huey

log = logging.getLogger(__name__)

_KEEP = 3  # earlier periods whose claims are removed when a new period is claimed


def _key(name: str, period: int) -> str:
    return f"eakte.periodic.{name}.{period}"


def claim_period(queue: Huey, name: str, every: timedelta, now: float | None = None) -> bool:
    """True for the first caller of the current period of ``every``, False for the rest."""
    period = int((time.time() if now is None else now) // every.total_seconds())
    if not queue.put_if_empty(_key(name, period), "1"):
        return False
    for earlier in range(period - _KEEP, period):  # the store keeps no expiry: tidy up
        queue.delete(_key(name, earlier))
    return True


def periodic(
    queue: Huey, validate_datetime: Callable[..., bool], every: timedelta, **options: Any
) -> Callable[[Callable[..., Any]], Any]:
    """``queue.periodic_task`` that runs once per ``every`` across all worker hosts;
    ``every`` is the schedule's period (``crontab(minute="*/5")`` → five minutes)."""

    def decorate(fn: Callable[..., Any]) -> Any:
        @functools.wraps(fn)
        def once_per_period(*args: Any, **kwargs: Any) -> Any:
            if not claim_period(queue, fn.__name__, every):
                log.info("%s: already run for this period by another worker", fn.__name__)
                return None
            return fn(*args, **kwargs)

        return queue.periodic_task(validate_datetime, **options)(once_per_period)

    return decorate
