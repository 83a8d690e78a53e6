"""Server-side web sessions: the browser's cookie carries a random id, the row decides.

A session ends at sign-out, when the user's password changes or is reset, when the user is
disabled, and after ``LIFETIME``; a cookie replayed after that opens nothing.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from eakte.db import transaction
from eakte.models import User
from eakte.models.base import utcnow
from eakte.models.signin import WebSession
from eakte.services.throttle import aware

LIFETIME = timedelta(hours=12)
# Ended sessions are kept this long: the sign-in throttle trusts the addresses they came from.
REMEMBER_ADDRESSES = timedelta(days=90)


def _digest(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def start(session: Session, user: User, client_address: str) -> str:
    """A new session for ``user``; returns the id for the cookie (never stored as such)."""
    now = utcnow()
    session_id = secrets.token_urlsafe(32)
    with transaction(session):
        session.execute(
            delete(WebSession).where(
                WebSession.user_id == user.id, WebSession.expires_at < now - REMEMBER_ADDRESSES
            )
        )
        session.add(
            WebSession(
                token_hash=_digest(session_id),
                user_id=user.id,
                client_address=client_address[:64],
                expires_at=now + LIFETIME,
            )
        )
    return session_id


def user_of(session: Session, session_id: str | None) -> User | None:
    """The active user of a live session, else None."""
    if not session_id or len(session_id) > 100:
        return None
    row = session.scalar(select(WebSession).where(WebSession.token_hash == _digest(session_id)))
    if row is None or row.ended_at is not None or aware(row.expires_at) < utcnow():
        return None
    user = session.get(User, row.user_id)
    return user if user is not None and user.active and not user.is_service else None


def end(session: Session, session_id: str | None) -> None:
    """Sign-out: this one session ends."""
    if not session_id:
        return
    with transaction(session):
        session.execute(
            update(WebSession)
            .where(WebSession.token_hash == _digest(session_id), WebSession.ended_at.is_(None))
            .values(ended_at=utcnow())
        )


def end_all(session: Session, user: User, keep: str | None = None) -> None:
    """Every live session of ``user`` ends, except ``keep`` (in the caller's transaction)."""
    query = update(WebSession).where(WebSession.user_id == user.id, WebSession.ended_at.is_(None))
    if keep:
        query = query.where(WebSession.token_hash != _digest(keep))
    session.execute(query.values(ended_at=utcnow()))


def known_address(session: Session, user_id: int, client_address: str) -> bool:
    """Has the user signed in from this address before (within ``REMEMBER_ADDRESSES``)?"""
    return (
        session.scalar(
            select(WebSession.id)
            .where(
                WebSession.user_id == user_id,
                WebSession.client_address == client_address[:64],
                WebSession.created_at > utcnow() - REMEMBER_ADDRESSES,
            )
            .limit(1)
        )
        is not None
    )
