"""API tokens: shown once, stored as a hash, revocable.

A token acts as a person only if that person made it; an admin makes tokens only for service
accounts (never for a person: an admin must not be able to act as a records officer)."""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from eakte import audit
from eakte.db import transaction
from eakte.errors import BadInput, NotFound, PermissionDenied
from eakte.models import Tenant, User
from eakte.models.api import ApiToken, Scope
from eakte.models.base import utcnow
from eakte.permissions import Action, require
from eakte.services.accounts import find_user
from eakte.services.guard import audited_refusals, load

TOKEN_PREFIX = "eak_"  # noqa: S105 (a marker, not a secret)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@audited_refusals
def create_token(
    session: Session,
    actor: User,
    name: str,
    scopes: set[Scope],
    *,
    service_account: str | None = None,
) -> tuple[ApiToken, str]:
    """A new token acting as ``actor`` themselves, or (admins) as ``service_account``; the
    plain token is returned once, never stored."""
    if not name.strip():
        raise BadInput("a token needs a name")
    if not scopes:
        raise BadInput("a token needs at least one scope")
    with transaction(session):
        if service_account is None:
            if actor.is_service:
                raise PermissionDenied("a service account does not make its own tokens")
            user = actor
        else:
            require(session, actor, Action.manage_users)
            user = find_user(session, session.get_one(Tenant, actor.tenant_id), service_account)
            if not user.is_service:
                raise PermissionDenied(
                    f"{service_account!r} is a person: only they can make a token acting as them"
                )
        plain = TOKEN_PREFIX + secrets.token_urlsafe(32)
        token = ApiToken(
            tenant_id=actor.tenant_id,
            user_id=user.id,
            name=name.strip(),
            prefix=plain[: len(TOKEN_PREFIX) + 6],
            token_hash=_digest(plain),
            scopes=" ".join(sorted(s.value for s in scopes)),
            created_by_id=actor.id,
        )
        session.add(token)
        session.flush()
        audit.record(
            session,
            actor,
            "create",
            token,
            name=token.name,
            user=user.username,
            scopes=token.scopes,
        )
    return token, plain


@audited_refusals
def revoke_token(session: Session, actor: User, token_ident: str) -> ApiToken:
    """Its owner, or an admin, revokes a token."""
    with transaction(session):
        token = load(session, actor, ApiToken, token_ident)
        if token.user_id != actor.id:
            require(session, actor, Action.manage_users)
        if token.revoked_at is None:
            token.revoked_at = utcnow()
            audit.record(session, actor, "revoke", token, name=token.name)
    return token


def list_tokens(session: Session, actor: User, *, own: bool = False) -> list[ApiToken]:
    """The actor's own tokens, or (admins) every token of the tenant."""
    query = select(ApiToken).where(ApiToken.tenant_id == actor.tenant_id)
    if own:
        query = query.where(ApiToken.user_id == actor.id)
    else:
        require(session, actor, Action.manage_users)
    return list(session.scalars(query.order_by(ApiToken.id)))


def origin(token: ApiToken) -> dict[str, str]:
    """What audit entries made through ``token`` say about it (``audit.ORIGIN``)."""
    return {"via": "api", "token": token.name, "token_id": str(token.uuid)}


def authenticate_token(session: Session, plain: str) -> ApiToken:
    """The active token for a bearer string, its user active too; else ``NotFound``."""
    if not plain.startswith(TOKEN_PREFIX) or len(plain) > 200:
        raise NotFound("unknown API token")
    with transaction(session):
        token = session.scalar(select(ApiToken).where(ApiToken.token_hash == _digest(plain)))
        if token is None or token.revoked_at is not None or not token.user.active:
            raise NotFound("unknown or revoked API token")
        token.last_used_at = utcnow()
    return token
