"""The nightly sync: every directory user is looked up again; who vanished, was disabled there
(the user filter no longer finds them) or left every mapped group is disabled here, their
sessions end and their API tokens are revoked. Roles and org units follow group changes.

A directory that does not answer changes nothing (``DirectoryUnavailable``): an outage must
not disable everyone.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from eakte import audit
from eakte.db import transaction
from eakte.directory import mapping
from eakte.directory.ldap_client import DirectoryClient
from eakte.directory.signin import Context, apply_mapping, directory_of, disable
from eakte.models import Tenant, User
from eakte.models.base import utcnow
from eakte.models.directory import DirectoryAccount

log = logging.getLogger(__name__)


@dataclass
class SyncReport:
    tenant: str
    checked: int = 0
    disabled: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)


def sync_tenant(session: Session, ctx: Context, tenant: Tenant) -> SyncReport | None:
    """None when the tenant has no directory; ``DirectoryUnavailable`` when it is down."""
    directory = directory_of(session, ctx, tenant)
    if directory is None:
        return None
    client = DirectoryClient(directory)
    report = SyncReport(tenant.slug)
    users = session.execute(
        select(User.id, User.username)
        .join(DirectoryAccount, DirectoryAccount.user_id == User.id)
        .where(User.tenant_id == tenant.id, User.active.is_(True))
        .order_by(User.id)
    ).all()
    session.commit()
    for user_id, username in users:
        entry = client.lookup(username)  # the directory first, outside any transaction
        with transaction(session):
            user = session.get(User, user_id, with_for_update=True)
            link = session.get(DirectoryAccount, user_id)
            if user is None or link is None or not user.active:
                continue
            report.checked += 1
            if entry is None or entry.dn.lower() != link.dn.lower():
                disable(session, user, link, reason="not_in_directory")
                report.disabled.append(username)
                continue
            mapped = mapping.resolve(session, tenant.id, entry.groups)
            if not mapped.any:
                disable(session, user, link, reason="no_mapped_group")
                report.disabled.append(username)
                continue
            roles_before = user.roles
            apply_mapping(session, user, mapped)
            if user.roles != roles_before:
                report.changed.append(username)
            link.groups, link.last_seen_at = "\n".join(entry.groups), utcnow()
    with transaction(session):
        audit.record(
            session,
            None,
            "directory_sync",
            tenant,
            tenant_id=tenant.id,
            checked=report.checked,
            disabled=report.disabled,
            changed=report.changed,
        )
    log.info(
        "directory sync of %s: %d checked, %d disabled, %d changed",
        tenant.slug,
        report.checked,
        len(report.disabled),
        len(report.changed),
    )
    return report


def sync_all(session: Session, ctx: Context) -> list[SyncReport]:
    """Every tenant with a directory; one that is down is logged and the others still run."""
    reports = []
    for tenant in session.scalars(select(Tenant).order_by(Tenant.slug)).all():
        try:
            report = sync_tenant(session, ctx, tenant)
        except Exception as exc:  # one tenant's directory must not stop the others
            session.rollback()
            log.error("directory sync of %s failed: %s", tenant.slug, exc)
            continue
        if report is not None:
            reports.append(report)
    return reports
