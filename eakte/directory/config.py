"""A tenant's directory: its own row (kept by its admins), else the environment's for the tenant
``EAKTE_LDAP_TENANT`` names, else none (local accounts only)."""

from __future__ import annotations

import dataclasses

from sqlalchemy.orm import Session

from eakte import audit
from eakte.db import transaction
from eakte.directory import secrets
from eakte.directory.settings import LdapSettings
from eakte.models import Tenant, User
from eakte.models.base import utcnow
from eakte.models.directory import DirectoryConfig
from eakte.permissions import Action, require

PURPOSE = "directory bind password"
# What a tenant's row may set (the bind password goes its own way: sealed, never shown).
FIELDS = (
    "url",
    "starttls",
    "ca_file",
    "base_dn",
    "user_filter",
    "group_base_dn",
    "group_filter",
    "bind_dn",
    "local_users",
)


def for_tenant(
    session: Session, env: LdapSettings, secret_key: str, tenant: Tenant
) -> LdapSettings | None:
    row = session.get(DirectoryConfig, tenant.id)
    if row is not None:
        if not row.enabled:
            return None
        password = (
            secrets.unseal(secret_key, PURPOSE, row.bind_password_enc)
            if row.bind_password_enc
            else ""
        )
        return LdapSettings(
            url=row.url,
            starttls=row.starttls,
            ca_file=row.ca_file,
            base_dn=row.base_dn,
            user_filter=row.user_filter,
            group_base_dn=row.group_base_dn,
            group_filter=row.group_filter,
            bind_dn=row.bind_dn,
            bind_password=password,
            local_users=tuple(u.strip() for u in row.local_users.split(",") if u.strip()),
            tenant=tenant.slug,
            timeout=env.timeout,
        )
    if env.enabled and env.tenant == tenant.slug:
        return env
    return None


def save(
    session: Session,
    actor: User | None,
    tenant: Tenant,
    values: LdapSettings,
    secret_key: str,
    *,
    enabled: bool = True,
    keep_password: bool = False,
) -> DirectoryConfig:
    """An admin of ``tenant`` (or the operator: ``actor`` None) sets its directory. With
    ``keep_password`` the stored bind password stays (the form never shows it again)."""
    with transaction(session):
        if actor is not None:
            require(session, actor, Action.manage_users)
        row = session.get(DirectoryConfig, tenant.id)
        stored = row.bind_password_enc if row is not None else ""
        if keep_password and stored:
            current = secrets.unseal(secret_key, PURPOSE, stored)
            values = dataclasses.replace(values, bind_password=current)
        values.check(prefix="")
        if row is None:
            row = DirectoryConfig(tenant_id=tenant.id, url="", base_dn="", user_filter="")
            session.add(row)
        for name in FIELDS:
            value = getattr(values, name)
            setattr(row, name, ",".join(value) if name == "local_users" else value)
        row.enabled = enabled
        row.bind_password_enc = (
            secrets.seal(secret_key, PURPOSE, values.bind_password) if values.bind_password else ""
        )
        row.updated_at = utcnow()
        session.flush()
        # what changed, never the password (only whether one is set)
        audit.record(
            session,
            actor,
            "directory_config",
            tenant,
            tenant_id=tenant.id,
            enabled=enabled,
            bind_password_set=bool(values.bind_password),
            **{name: getattr(values, name) for name in FIELDS},
        )
    return row


def stored(session: Session, tenant: Tenant) -> DirectoryConfig | None:
    return session.get(DirectoryConfig, tenant.id)


def describe(
    session: Session, actor: User, env: LdapSettings
) -> tuple[str, DirectoryConfig | None, LdapSettings | None]:
    """For the admin page: where the actor's tenant's directory comes from ("tenant",
    "environment" or "none"), its stored row, and the environment's settings if they apply
    (never a password: the caller shows only whether one is set)."""
    require(session, actor, Action.manage_users)
    tenant = session.get_one(Tenant, actor.tenant_id)
    row = session.get(DirectoryConfig, tenant.id)
    if row is not None:
        return "tenant", row, None
    if env.enabled and env.tenant == tenant.slug:
        return "environment", None, dataclasses.replace(env, bind_password="")
    return "none", None, None
