"""API tokens: created by admins, shown once, stored as a hash, revocable."""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from eakte import audit
from eakte.db import transaction
from eakte.errors import BadInput, NotFound
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
    session: Session, actor: User, name: str, username: str, scopes: set[Scope]
) -> tuple[ApiToken, str]:
    """A new token acting as ``username``; the plain token is returned once, never stored."""
    if not name.strip():
        raise BadInput("a token needs a name")
    if not scopes:
        raise BadInput("a token needs at least one scope")
    with transaction(session):
        require(session, actor, Action.manage_users)
        user = find_user(session, session.get(Tenant, actor.tenant_id), username)
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
            session, actor, "create", token, name=token.name, user=username, scopes=token.scopes
        )
    return token, plain


@audited_refusals
def revoke_token(session: Session, actor: User, token_ident: str) -> ApiToken:
    with transaction(session):
        require(session, actor, Action.manage_users)
        token = load(session, actor, ApiToken, token_ident)
        if token.revoked_at is None:
            token.revoked_at = utcnow()
            audit.record(session, actor, "revoke", token, name=token.name)
    return token


def list_tokens(session: Session, actor: User) -> list[ApiToken]:
    require(session, actor, Action.manage_users)
    return list(
        session.scalars(
            select(ApiToken).where(ApiToken.tenant_id == actor.tenant_id).order_by(ApiToken.id)
        )
    )


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
