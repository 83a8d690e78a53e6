"""IMAP accounts of the mail intake (issue 17): kept by admins and records officers.

The account's secret (a password, or an XOAUTH2 access token) is encrypted with a key derived
from the installation's secret key (HKDF, Fernet): the database alone does not reveal it, it is
written once and never shown, logged or put into the audit trail again. Changing the
installation's secret key makes stored secrets unreadable: ``secret_of`` says so, and the
account's secret is set again (``eakte mail add --replace``).
"""

from __future__ import annotations

import base64
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import select
from sqlalchemy.orm import Session

from eakte import audit
from eakte.config import Settings
from eakte.db import transaction
from eakte.errors import BadInput, ConfigError, Conflict, EakteError, NotFound
from eakte.ingest import imap
from eakte.models import OrgUnit, User
from eakte.models.base import utcnow
from eakte.models.mail_accounts import MailAccount, MailAfter, MailAuth, MailFetch, MailSecurity
from eakte.permissions import Action, require
from storage.blobstore import BlobStore

log = logging.getLogger(__name__)

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,79}")
FLAG = re.compile(r"\\Seen|\\Flagged|\$?[A-Za-z0-9_.-]{1,60}")
MAX_POLL_MINUTES = 24 * 60


@dataclass(frozen=True)
class AccountSpec:
    """What a person gives for a new account (the secret apart)."""

    name: str
    host: str
    username: str
    inbox: str  # org unit code
    port: int | None = None  # default: 993 (IMAPS) or 143 (STARTTLS)
    security: str = MailSecurity.imaps.value
    auth: str = MailAuth.password.value
    folders: str = "INBOX"
    after_action: str = MailAfter.move.value
    after_folder: str = "eAkte"
    after_flag: str = "$eAkte"
    sender_filter: str = ""
    subject_filter: str = ""
    poll_minutes: int = 5
    ca_file: str = ""


def _fernet(settings: Settings) -> Fernet:
    key = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"eakte mail account secret"
    ).derive(settings.resolved_secret_key().encode())
    return Fernet(base64.urlsafe_b64encode(key))


def seal(settings: Settings, secret: str) -> str:
    return _fernet(settings).encrypt(secret.encode()).decode()


def secret_of(settings: Settings, account: MailAccount) -> str:
    """The account's secret for signing in (the worker's use only)."""
    try:
        return _fernet(settings).decrypt(account.secret_encrypted.encode()).decode()
    except InvalidToken:
        raise ConfigError(
            f"mail account {account.name}: its secret cannot be decrypted (the installation's "
            "secret key changed?); set it again with eakte mail add --replace"
        ) from None


def _check(spec: AccountSpec, secret: str) -> None:
    problems = []
    if not NAME.fullmatch(spec.name):
        problems.append("name: letters, digits, '.', '_' or '-' (at most 80)")
    if not spec.host or len(spec.host) > 255 or any(c.isspace() for c in spec.host):
        problems.append("host: a server name without spaces")
    if spec.port is not None and not 0 < spec.port < 65536:
        problems.append("port: 1 to 65535")
    if spec.security not in {m.value for m in MailSecurity}:
        problems.append("security: imaps or starttls")
    if spec.auth not in {m.value for m in MailAuth}:
        problems.append("auth: password or xoauth2")
    if not spec.username or not secret:
        problems.append("user and secret are required")
    if not [f for f in spec.folders.split(",") if f.strip()]:
        problems.append("folders: at least one")
    if spec.after_action not in {m.value for m in MailAfter}:
        problems.append("after: move or flag")
    if spec.after_action == MailAfter.move and not spec.after_folder.strip():
        problems.append("after: a folder to move to")
    if spec.after_action == MailAfter.move and spec.after_folder.strip() in spec.folders.split(","):
        problems.append("after: the folder to move to must not be one that is read")
    if spec.after_action == MailAfter.flag and not FLAG.fullmatch(spec.after_flag):
        problems.append("after: a flag such as $eAkte or \\Seen")
    if not 1 <= spec.poll_minutes <= MAX_POLL_MINUTES:
        problems.append(f"poll interval: 1 to {MAX_POLL_MINUTES} minutes")
    if problems:
        raise BadInput("mail account: " + "; ".join(problems))


def add_account(
    session: Session,
    actor: User,
    settings: Settings,
    spec: AccountSpec,
    secret: str,
    *,
    replace: bool = False,
) -> MailAccount:
    """A new account (or, with ``replace``, new settings and secret for one of that name)."""
    require(session, actor, Action.manage_mail)
    _check(spec, secret)
    unit = session.scalar(
        select(OrgUnit).where(OrgUnit.tenant_id == actor.tenant_id, OrgUnit.code == spec.inbox)
    )
    if unit is None:
        raise NotFound(f"org unit {spec.inbox!r} not found")
    port = spec.port or (993 if spec.security == MailSecurity.imaps else 143)
    sealed = seal(settings, secret)
    with transaction(session):
        account = session.scalar(
            select(MailAccount).where(
                MailAccount.tenant_id == actor.tenant_id, MailAccount.name == spec.name
            )
        )
        if account is not None and not replace:
            raise Conflict(f"mail account {spec.name!r} exists (--replace to change it)")
        if account is None:
            account = MailAccount(tenant_id=actor.tenant_id, name=spec.name)
            session.add(account)
        account.host, account.port, account.username = spec.host, port, spec.username
        account.security, account.auth, account.ca_file = spec.security, spec.auth, spec.ca_file
        account.secret_encrypted = sealed
        account.inbox_org_unit_id = unit.id
        account.folders = ",".join(f.strip() for f in spec.folders.split(",") if f.strip())
        account.after_action, account.after_folder = spec.after_action, spec.after_folder.strip()
        account.after_flag = spec.after_flag
        account.sender_filter, account.subject_filter = spec.sender_filter, spec.subject_filter
        account.poll_minutes, account.active, account.last_error = spec.poll_minutes, True, ""
        session.flush()
        audit.record(  # the secret is not named, not even its length
            session,
            actor,
            "mail_account.replace" if replace else "mail_account.add",
            account,
            name=account.name,
            host=account.host,
            port=account.port,
            username=account.username,
            inbox=spec.inbox,
        )
    return account


def list_accounts(session: Session, actor: User) -> list[MailAccount]:
    require(session, actor, Action.manage_mail)
    return list(
        session.scalars(
            select(MailAccount)
            .where(MailAccount.tenant_id == actor.tenant_id)
            .order_by(MailAccount.name)
        )
    )


def get_account(session: Session, actor: User, name: str) -> MailAccount:
    require(session, actor, Action.manage_mail)
    account = session.scalar(
        select(MailAccount).where(
            MailAccount.tenant_id == actor.tenant_id, MailAccount.name == name
        )
    )
    if account is None:
        raise NotFound(f"mail account {name!r} not found")
    return account


def set_active(session: Session, actor: User, name: str, active: bool) -> MailAccount:
    account = get_account(session, actor, name)
    with transaction(session):
        account = session.get_one(MailAccount, account.id)
        account.active = active
        audit.record(
            session,
            actor,
            "mail_account.activate" if active else "mail_account.deactivate",
            account,
            name=account.name,
        )
    return account


# ------------------------------------------------------------------------------ running


def due_accounts(session: Session, now: datetime | None = None) -> list[int]:
    """Active accounts (of every tenant) whose poll interval has passed since their last run."""
    now = now or utcnow()
    rows = session.execute(
        select(MailAccount.id, MailAccount.last_run_at, MailAccount.poll_minutes)
        .where(MailAccount.active.is_(True))
        .order_by(MailAccount.id)
    ).all()
    session.rollback()
    due = []
    for account_id, last, minutes in rows:
        if last is not None and last.tzinfo is None:  # SQLite keeps no zone: stored as UTC
            last = last.replace(tzinfo=UTC)
        # a few seconds' slack: a run that ended just after the minute is due the next minute
        if last is None or last + timedelta(minutes=minutes, seconds=-15) <= now:
            due.append(account_id)
    return due


def run_now(
    session: Session,
    store: BlobStore,
    settings: Settings,
    account_id: int,
    *,
    enqueue: Callable[..., None] | None = None,
    connector: imap.Connect = imap.connect,
    attempts: int = imap.ATTEMPTS,
) -> imap.RunReport:
    """Take in what waits in one account (the worker's periodic task, ``eakte mail run``)."""
    account = session.get_one(MailAccount, account_id)
    secret = secret_of(settings, account)
    return imap.run_account(
        session,
        store,
        settings,
        account_id,
        secret,
        enqueue=enqueue,
        connector=connector,
        attempts=attempts,
    )


def run_accounts(
    session: Session,
    store: BlobStore,
    settings: Settings,
    account_ids: list[int],
    *,
    enqueue: Callable[..., None] | None = None,
    attempts: int = imap.ATTEMPTS,
) -> dict[str, imap.RunReport | str]:
    """Each account in turn; one whose server is away or refuses does not stop the others
    (its error is kept on the account and shown on the accounts page)."""
    done: dict[str, imap.RunReport | str] = {}
    for account_id in account_ids:
        name = session.get_one(MailAccount, account_id).name
        session.rollback()
        try:
            done[name] = run_now(
                session, store, settings, account_id, enqueue=enqueue, attempts=attempts
            )
        except EakteError as exc:
            session.rollback()
            log.warning("mail account %s: %s", name, exc)
            done[name] = str(exc)
    return done


def recent_fetches(session: Session, actor: User, account: MailAccount, limit: int = 50):
    require(session, actor, Action.manage_mail)
    return list(
        session.scalars(
            select(MailFetch)
            .where(MailFetch.account_id == account.id)
            .order_by(MailFetch.id.desc())
            .limit(limit)
        )
    )
