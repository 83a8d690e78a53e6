"""Sign-in through the tenant's directory, and provisioning of the people it knows.

A tenant with a directory signs its people in there; only the accounts named as local
(``local_users``: break-glass admins) use their eAkte password, and they still can when the
directory is down. A directory user is created at the first sign-in and updated at each:
name, org unit and roles follow the mapped groups (``mapping``). Throttling and the audit
trail work as for local accounts (``accounts.authenticate``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from eakte import audit
from eakte.db import transaction
from eakte.directory import config, mapping
from eakte.directory.ldap_client import DirectoryClient, DirectoryEntry
from eakte.directory.settings import LdapSettings
from eakte.errors import (
    DirectoryUnavailable,
    NotInDirectoryGroup,
    TooManyAttempts,
    WrongPassword,
)
from eakte.models import Tenant, User, UserRole
from eakte.models.api import ApiToken
from eakte.models.base import utcnow
from eakte.models.directory import DirectoryAccount
from eakte.services import accounts, sessions, throttle

log = logging.getLogger(__name__)

# The stored hash of a directory user: their password lives in the directory, nothing verifies.
DIRECTORY = "!directory"


@dataclass(frozen=True)
class Context:
    """What sign-in needs beyond the session: the environment's directory and the key that
    opens a tenant's stored bind password."""

    env: LdapSettings
    secret_key: str


def directory_of(session: Session, ctx: Context, tenant: Tenant) -> LdapSettings | None:
    return config.for_tenant(session, ctx.env, ctx.secret_key, tenant)


def is_directory_user(session: Session, user: User) -> bool:
    return session.get(DirectoryAccount, user.id) is not None


def authenticate(
    session: Session,
    ctx: Context,
    tenant_slug: str,
    username: str,
    password: str,
    client_address: str = "",
) -> User | None:
    """The signed-in user, else None; ``TooManyAttempts``; ``DirectoryUnavailable`` when the
    tenant's directory is down (local break-glass accounts are not affected);
    ``NotInDirectoryGroup`` when the password is right but no group is mapped."""
    username = username.strip()
    tenant = session.scalar(select(Tenant).where(Tenant.slug == tenant_slug))
    directory = directory_of(session, ctx, tenant) if tenant is not None else None
    if tenant is None or directory is None or username in directory.local_users:
        return accounts.authenticate(session, tenant_slug, username, password, client_address)
    return _directory_sign_in(session, directory, tenant, username, password, client_address)


def _directory_sign_in(
    session: Session,
    directory: LdapSettings,
    tenant: Tenant,
    username: str,
    password: str,
    client_address: str,
) -> User | None:
    by_address = throttle.address_key(client_address)
    by_account = throttle.account_key(tenant.slug, username)
    now = utcnow()
    known = session.scalar(
        select(User).where(User.tenant_id == tenant.id, User.username == username)
    )
    refused = throttle.blocked(session, by_address, now) or (
        throttle.blocked(session, by_account, now)
        and not (known and sessions.known_address(session, known.id, client_address))
    )
    details: dict[str, Any] = {"via": "directory", "client_address": client_address}
    if refused:
        with transaction(session):
            audit.record(
                session,
                None,
                "login",
                outcome="throttled",
                tenant_id=tenant.id,
                attempted_username=username[:80],
                **details,
            )
        raise TooManyAttempts(f"sign-in for {by_account!r} from {client_address!r} throttled")
    session.commit()  # no transaction held while the directory answers
    try:
        entry = DirectoryClient(directory).authenticate(username, password)
    except DirectoryUnavailable as exc:
        log.error("sign-in of %r: %s", username[:80], exc)
        with transaction(session):
            audit.record(
                session,
                None,
                "login",
                outcome="unreachable",
                tenant_id=tenant.id,
                attempted_username=username[:80],
                **details,
            )
        raise
    if entry is None:
        with transaction(session):
            throttle.count_failure(session, by_address, throttle.FREE_PER_ADDRESS, now)
            throttle.count_failure(session, by_account, throttle.FREE_PER_ACCOUNT, now)
            audit.record(
                session,
                None,
                "login",
                known,
                outcome="failed",
                tenant_id=tenant.id,
                attempted_username=username[:80],
                **details,
            )
        return None
    with transaction(session):
        user = provision(session, tenant, entry)
        if user is None or not user.active:
            audit.record(
                session,
                None,
                "login",
                user,
                outcome="no_mapped_group" if user is None else "disabled",
                tenant_id=tenant.id,
                attempted_username=username[:80],
                **details,
            )
            session.commit()
            if user is None:
                raise NotInDirectoryGroup(f"{username!r}: no mapped directory group")
            return None
        user.last_login_at = now
        throttle.forget(session, by_address)
        audit.record(session, user, "login", user, **details)
    return user


def provision(session: Session, tenant: Tenant, entry: DirectoryEntry) -> User | None:
    """Create or update the user of a directory entry (in the caller's transaction); None when
    none of its groups is mapped. A user the sync disabled is enabled again when the
    directory lets them in with a mapped group; one an admin disabled stays disabled."""
    mapped = mapping.resolve(session, tenant.id, entry.groups)
    user = session.scalar(
        select(User).where(User.tenant_id == tenant.id, User.username == entry.username)
    )
    if not mapped.any:
        if user is not None:
            link = session.get(DirectoryAccount, user.id)
            if link is not None and user.active:
                disable(session, user, link, reason="no_mapped_group")
        return None
    now = utcnow()
    if user is None:
        user = User(
            tenant_id=tenant.id,
            username=entry.username,
            display_name=entry.display_name,
            password_hash=DIRECTORY,
            role_rows=[],
        )
        session.add(user)
        session.flush()
        audit.record(session, None, "create", user, via="directory", dn=entry.dn)
    link = session.get(DirectoryAccount, user.id)
    if link is None:
        # a local account of that name becomes the directory's: its password stops working
        link = DirectoryAccount(user_id=user.id, tenant_id=tenant.id, dn=entry.dn)
        session.add(link)
        user.password_hash = DIRECTORY
        user.must_change_password = False
    if not user.active and link.disabled_by_sync_at is not None:
        user.active = True
        link.disabled_by_sync_at = None
        audit.record(session, None, "enable", user, via="directory")
    link.dn, link.groups, link.last_seen_at = entry.dn, "\n".join(entry.groups), now
    user.display_name = entry.display_name or user.display_name
    apply_mapping(session, user, mapped)
    return user


def apply_mapping(session: Session, user: User, mapped: mapping.Mapped) -> None:
    """The user's roles and org unit become those of their groups (audited when changed).

    The directory is the source of the roles here: the four eyes of a grant sit in who may
    map a group to a four-eyes role (the operator) and in the directory's own group changes.
    """
    before = sorted(user.roles)
    after = sorted(mapped.roles)
    if before != after:
        now = utcnow()
        wanted = {role.value for role in after}
        keep = {r.role: r for r in user.role_rows if r.role in wanted}
        user.role_rows = [
            keep.get(role.value) or UserRole(role=role.value, granted_at=now, confirmed_at=now)
            for role in after
        ]
        audit.record(
            session,
            None,
            "directory_roles",
            user,
            before=[r.value for r in before],
            after=[r.value for r in after],
        )
        if set(before) - set(after):  # a role taken away takes effect now, not next sign-in
            sessions.end_all(session, user)
    if mapped.org_unit_id is not None and user.org_unit_id != mapped.org_unit_id:
        audit.record(
            session,
            None,
            "directory_org_unit",
            user,
            before=user.org_unit_id,
            after=mapped.org_unit_id,
        )
        user.org_unit_id = mapped.org_unit_id


def disable(session: Session, user: User, link: DirectoryAccount, *, reason: str) -> None:
    """The directory no longer lets ``user`` in: disabled, sessions ended, API tokens revoked."""
    now = utcnow()
    user.active = False
    link.disabled_by_sync_at = now
    sessions.end_all(session, user)
    session.execute(
        update(ApiToken)
        .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    audit.record(session, None, "disable", user, via="directory", reason=reason)


def confirm_identity(session: Session, ctx: Context, user: User, password: str) -> None:
    """``accounts.confirm_identity`` for anyone: a directory user proves it by a bind; in a
    tenant with a directory only its break-glass accounts have local passwords that count."""
    link = session.get(DirectoryAccount, user.id)
    tenant = session.get_one(Tenant, user.tenant_id)
    directory = directory_of(session, ctx, tenant)
    if link is None:
        if directory is not None and user.username not in directory.local_users:
            _refuse(session, user, "local password in a directory tenant")
        accounts.confirm_identity(session, user, password)
        return
    if directory is None:
        raise DirectoryUnavailable(f"tenant {tenant.slug!r} has no directory configured")
    if DirectoryClient(directory).authenticate(user.username, password) is None:
        _refuse(session, user, "wrong directory password")


def _refuse(session: Session, user: User, why: str) -> None:
    session.rollback()
    with transaction(session):
        audit.record(session, user, "confirm_identity", outcome="refused", detail=why)
    raise WrongPassword(f"{why} for user {user.username!r}")
