"""The second factor: TOTP (RFC 6238, 30-second steps, 6 digits) and one-time recovery codes.

Required for admins and records officers (``EAKTE_SECOND_FACTOR=privileged``, the default from
the environment) or for everyone (``everyone``); whoever enrolled is asked for it in any case.
The secret is stored encrypted (``eakte.directory.secrets``) and shown once, as a QR code at
enrolment; recovery codes are stored as hashes only. A code is accepted once (the step is
remembered: no replay), failures are throttled like passwords, every check is audited.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets as random
import time

import pyotp
import segno
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from eakte import audit
from eakte.db import transaction
from eakte.directory import secrets
from eakte.errors import (
    Conflict,
    SecondFactorNotEnrolled,
    SecondFactorRequired,
    TooManyAttempts,
    WrongSecondFactor,
)
from eakte.models import Role, Tenant, User
from eakte.models.base import utcnow
from eakte.models.directory import RecoveryCode, TotpSecret
from eakte.permissions import Action, require
from eakte.services import throttle
from eakte.services.accounts import find_user
from eakte.services.guard import audited_refusals

PURPOSE = "totp secret"
ISSUER = "eAkte"
STEP = 30
RECOVERY_CODES = 10
PRIVILEGED = frozenset({Role.admin, Role.records_officer})
FREE_FAILURES = 5


def required(user: User, policy: str) -> bool:
    """Does the policy demand a second factor of ``user``?"""
    if policy == "everyone":
        return True
    return policy == "privileged" and bool(user.roles & PRIVILEGED)


def enrolled(session: Session, user: User) -> bool:
    row = session.get(TotpSecret, user.id)
    return row is not None and row.confirmed_at is not None


def needed(session: Session, user: User, policy: str) -> bool:
    """Must ``user`` give a code (at sign-in, before a disposal approval)?"""
    return required(user, policy) or enrolled(session, user)


def start_enrolment(session: Session, user: User, secret_key: str) -> tuple[str, str]:
    """A new secret for ``user`` (replacing one not yet confirmed): returns it and its
    ``otpauth://`` URI, to be shown once. ``Conflict`` when one is enrolled already."""
    secret = pyotp.random_base32()
    with transaction(session):
        row = session.get(TotpSecret, user.id, with_for_update=True)
        if row is not None and row.confirmed_at is not None:
            raise Conflict(f"user {user.username!r} has a second factor already")
        if row is None:
            row = TotpSecret(user_id=user.id, secret_enc="", last_step=0)
            session.add(row)
        row.secret_enc = secrets.seal(secret_key, PURPOSE, secret)
    tenant = session.get_one(Tenant, user.tenant_id)
    uri = pyotp.TOTP(secret).provisioning_uri(
        name=f"{user.username}@{tenant.slug}", issuer_name=ISSUER
    )
    return secret, uri


def qr_svg(uri: str) -> str:
    """The URI as an inline SVG QR code (made here: the secret goes to no outside service)."""
    return str(segno.make(uri, error="m").svg_inline(scale=5, border=2, dark="#000", light="#fff"))


def confirm_enrolment(
    session: Session, user: User, code: str, secret_key: str, client_address: str = ""
) -> list[str]:
    """The first code proves the app has the secret: the factor is on; returns the recovery
    codes (shown once, stored as hashes)."""
    if throttle.blocked(session, _key(user), utcnow()):
        raise TooManyAttempts(f"second-factor enrolment of {user.username!r} throttled")
    row = session.get(TotpSecret, user.id)
    if row is None or row.confirmed_at is not None:
        raise SecondFactorNotEnrolled(f"no enrolment of {user.username!r} is open")
    step = _matching_step(secrets.unseal(secret_key, PURPOSE, row.secret_enc), code)
    if step is None:
        _failed(session, user, "enrol", client_address)
        raise WrongSecondFactor(f"wrong code at enrolment of {user.username!r}")
    codes = [_recovery_code() for _ in range(RECOVERY_CODES)]
    with transaction(session):
        row = session.get_one(TotpSecret, user.id, with_for_update=True)
        row.confirmed_at, row.last_step = utcnow(), step
        session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
        session.add_all(RecoveryCode(user_id=user.id, code_hash=_digest(c)) for c in codes)
        throttle.forget(session, _key(user))
        audit.record(session, user, "second_factor_enrol", user, client_address=client_address)
    return codes


def verify(
    session: Session,
    user: User,
    code: str | None,
    secret_key: str,
    *,
    purpose: str,
    client_address: str = "",
) -> None:
    """A current TOTP code or an unused recovery code of ``user``, else ``WrongSecondFactor``
    (``SecondFactorRequired`` when none was given, ``TooManyAttempts`` after repeated
    failures). Audited with its ``purpose`` (sign-in, a disposal approval)."""
    code = (code or "").strip().replace(" ", "")
    if not code:
        raise SecondFactorRequired(f"{purpose}: a second-factor code is needed")
    now = utcnow()
    if throttle.blocked(session, _key(user), now):
        with transaction(session):
            audit.record(session, user, "second_factor", user, outcome="throttled", purpose=purpose)
        raise TooManyAttempts(f"second factor of {user.username!r} throttled")
    row = session.get(TotpSecret, user.id)
    if row is None or row.confirmed_at is None:
        raise SecondFactorNotEnrolled(f"user {user.username!r} has no second factor")
    session.commit()
    with transaction(session):
        row = session.get_one(TotpSecret, user.id, with_for_update=True, populate_existing=True)
        method = None
        step = _matching_step(secrets.unseal(secret_key, PURPOSE, row.secret_enc), code)
        if step is not None and step > row.last_step:
            row.last_step, method = step, "totp"
        elif "-" in code:
            used = session.scalar(
                select(RecoveryCode).where(
                    RecoveryCode.user_id == user.id,
                    RecoveryCode.code_hash == _digest(code),
                    RecoveryCode.used_at.is_(None),
                )
            )
            if used is not None:
                used.used_at, method = now, "recovery_code"
        if method is not None:
            throttle.forget(session, _key(user))
            audit.record(
                session,
                user,
                "second_factor",
                user,
                method=method,
                purpose=purpose,
                client_address=client_address,
            )
            return
    _failed(session, user, purpose, client_address)
    raise WrongSecondFactor(f"{purpose}: wrong or used second-factor code of {user.username!r}")


@audited_refusals
def reset(session: Session, actor: User, username: str) -> User:
    """An admin removes a user's second factor (a lost phone): they enrol again at their next
    sign-in; their recovery codes are void."""
    with transaction(session):
        require(session, actor, Action.manage_users)
        user = find_user(session, session.get_one(Tenant, actor.tenant_id), username)
        session.execute(delete(TotpSecret).where(TotpSecret.user_id == user.id))
        session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
        audit.record(session, actor, "second_factor_reset", user)
    return user


def remaining_recovery_codes(session: Session, user: User) -> int:
    return len(
        session.scalars(
            select(RecoveryCode.id).where(
                RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None)
            )
        ).all()
    )


def _failed(session: Session, user: User, purpose: str, client_address: str) -> None:
    session.rollback()
    with transaction(session):
        throttle.count_failure(session, _key(user), FREE_FAILURES, utcnow())
        audit.record(
            session,
            user,
            "second_factor",
            user,
            outcome="failed",
            purpose=purpose,
            client_address=client_address,
        )


def _matching_step(secret: str, code: str) -> int | None:
    """The 30-second step (this one, or one either side for clock drift) whose code is
    ``code``, compared in constant time."""
    if not (len(code) == 6 and code.isdigit()):
        return None
    totp = pyotp.TOTP(secret)
    now = int(time.time()) // STEP
    for step in (now - 1, now, now + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _recovery_code() -> str:
    raw = random.token_hex(10)  # 80 bits: a hash without salt or stretching is enough
    return "-".join(raw[i : i + 5] for i in range(0, 20, 5))


def _digest(code: str) -> str:
    return hashlib.sha256(code.strip().lower().encode()).hexdigest()


def _key(user: User) -> str:
    return f"2fa:{user.id}"
