"""Server-side web sessions and sign-in throttling."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from eakte.models.base import Base, CreatedMixin


class WebSession(CreatedMixin, Base):
    """One signed-in browser. The cookie holds a random id; this row holds only its sha256.

    A session ends (``ended_at``) at sign-out, a password change or reset, when the user is
    disabled, and at ``expires_at``. Ended rows stay a while: they tell which addresses the
    user signed in from before (the sign-in throttle trusts those).
    """

    __tablename__ = "web_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    client_address: Mapped[str] = mapped_column(String(64), default="")
    expires_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]


class LoginThrottle(Base):
    """Failed sign-ins under one key (an address, or an account); each failure past a few
    doubles the wait before the next attempt under that key is looked at."""

    __tablename__ = "login_throttle"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0)
    last_failure_at: Mapped[datetime]
    blocked_until: Mapped[datetime | None]
