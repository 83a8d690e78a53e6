"""Sign-in throttling (OWASP ASVS V2.2): growing delays per client address and per account.

From a key's ``free``-th failure on, each failure doubles the wait before the next attempt under
that key is looked at (``FIRST_DELAY`` up to ``MAX_DELAY``); a quiet hour forgets the failures.
The address key slows the machine that guesses. The account key catches guessing spread over
many addresses, but never locks the account: it is not applied to addresses the user signed in
from before (see ``sessions.known_address``), so a stranger cannot keep the real user out.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from eakte.models.signin import LoginThrottle

FREE_PER_ADDRESS = 5
FREE_PER_ACCOUNT = 20
FIRST_DELAY = timedelta(seconds=5)
MAX_DELAY = timedelta(minutes=15)
FORGET_AFTER = timedelta(hours=1)


def address_key(address: str) -> str:
    return f"addr:{address}"[:200]


def account_key(tenant_slug: str, username: str) -> str:
    return f"acct:{tenant_slug}/{username.strip().lower()}"[:200]


def blocked(session: Session, key: str, now: datetime) -> bool:
    row = session.get(LoginThrottle, key)
    return bool(row and row.blocked_until and aware(row.blocked_until) > now)


def count_failure(session: Session, key: str, free: int, now: datetime) -> None:
    row = session.get(LoginThrottle, key, populate_existing=True)
    if row is None:
        row = session.merge(LoginThrottle(key=key, failures=0, last_failure_at=now))
    elif now - aware(row.last_failure_at) > FORGET_AFTER:
        row.failures = 0
    row.failures += 1
    row.last_failure_at = now
    if row.failures >= free:
        row.blocked_until = now + min(FIRST_DELAY * 2 ** min(row.failures - free, 20), MAX_DELAY)


def forget(session: Session, key: str) -> None:
    row = session.get(LoginThrottle, key)
    if row is not None:
        session.delete(row)


def aware(moment: datetime) -> datetime:
    """SQLite returns naive UTC datetimes; PostgreSQL aware ones."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
