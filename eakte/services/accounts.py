"""Tenants and users: creation and sign-in. Each function owns its transaction."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from eakte import audit
from eakte.db import transaction
from eakte.errors import BadInput, Conflict, NotFound, TooManyAttempts
from eakte.models import OrgUnit, Role, Tenant, User, UserRole
from eakte.models.api import LoginThrottle
from eakte.models.base import utcnow
from eakte.passwords import hash_password, verify_password
from eakte.permissions import Action, require
from eakte.services.guard import audited_refusals

DEFAULT_TENANT = "default"
MIN_PASSWORD_LENGTH = 10


def ensure_default_tenant(session: Session, name: str = "Standard-Mandant") -> Tenant:
    with transaction(session):
        tenant = session.scalar(select(Tenant).where(Tenant.slug == DEFAULT_TENANT))
        if tenant is None:
            tenant = Tenant(slug=DEFAULT_TENANT, name=name)
            session.add(tenant)
    return tenant


def get_tenant(session: Session, slug: str) -> Tenant:
    tenant = session.scalar(select(Tenant).where(Tenant.slug == slug))
    if tenant is None:
        raise NotFound(f"tenant {slug!r} does not exist")
    return tenant


def create_user(
    session: Session,
    tenant: Tenant,
    username: str,
    password: str,
    roles: set[Role],
    display_name: str = "",
    org_unit_id: int | None = None,
) -> User:
    """Operator path (``eakte init``, ``eakte tenant add``, tests): no acting user."""
    with transaction(session):
        user = _new_user(session, tenant.id, username, password, roles, display_name, org_unit_id)
        audit.record(session, None, "create", user, roles=sorted(r.value for r in roles))
    return user


def _new_user(
    session: Session,
    tenant_id: int,
    username: str,
    password: str,
    roles: set[Role],
    display_name: str,
    org_unit_id: int | None,
) -> User:
    username = username.strip()
    if not username or len(username) > 80:
        raise BadInput("user name must be 1-80 characters")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise BadInput(f"password must have at least {MIN_PASSWORD_LENGTH} characters")
    exists = session.scalar(
        select(User.id).where(User.tenant_id == tenant_id, User.username == username)
    )
    if exists:
        raise Conflict(f"user {username!r} already exists")
    user = User(
        tenant_id=tenant_id,
        username=username,
        display_name=display_name or username,
        password_hash=hash_password(password),
        org_unit_id=org_unit_id,
        role_rows=[UserRole(role=r.value) for r in sorted(roles)],
    )
    session.add(user)
    session.flush()
    return user


def has_admin(session: Session, tenant: Tenant) -> bool:
    return (
        session.scalar(
            select(User.id)
            .join(UserRole)
            .where(User.tenant_id == tenant.id, UserRole.role == Role.admin.value)
            .limit(1)
        )
        is not None
    )


MAX_FAILURES = 5
THROTTLE_WINDOW = timedelta(minutes=15)
LOCK_DURATION = timedelta(minutes=15)


def authenticate(session: Session, tenant_slug: str, username: str, password: str) -> User | None:
    """The active user with these credentials, else None (same timing either way).

    Every attempt is in the audit trail (R20). After ``MAX_FAILURES`` failures within
    ``THROTTLE_WINDOW`` the name is locked for ``LOCK_DURATION``: ``TooManyAttempts``.
    """
    key = f"{tenant_slug}/{username.strip().lower()}"[:160]
    with transaction(session):
        throttle = session.get(LoginThrottle, key)
        now = utcnow()
        locked = bool(throttle and throttle.locked_until and _aware(throttle.locked_until) > now)
        if locked:
            tenant_id = session.scalar(select(Tenant.id).where(Tenant.slug == tenant_slug))
            audit.record(
                session,
                None,
                "login",
                outcome="locked",
                tenant_id=tenant_id,
                attempted_username=username[:80],
            )
    if locked:
        raise TooManyAttempts(f"sign-in for {key!r} is locked after repeated failures")
    # The deliberately slow hash check runs outside the write transaction: on SQLite that
    # holds the database's write lock, which every page view needs for its audit entry.
    candidate = session.scalar(
        select(User)
        .join(Tenant)
        .where(Tenant.slug == tenant_slug, User.username == username.strip())
    )
    ok = verify_password(candidate.password_hash if candidate else None, password)
    session.commit()  # end the read transaction before the write one
    with transaction(session):
        throttle = session.get(LoginThrottle, key, populate_existing=True)
        user = session.get(User, candidate.id) if candidate else None
        if ok and user and user.active:
            user.last_login_at = now
            if throttle:
                session.delete(throttle)
            audit.record(session, user, "login", user)
            return user
        if throttle is None or now - _aware(throttle.window_start) > THROTTLE_WINDOW:
            throttle = session.merge(LoginThrottle(key=key, failures=0, window_start=now))
        throttle.failures += 1
        if throttle.failures >= MAX_FAILURES:
            throttle.locked_until = now + LOCK_DURATION
        tenant_id = session.scalar(select(Tenant.id).where(Tenant.slug == tenant_slug))
        audit.record(
            session,
            None,
            "login",
            user,
            outcome="failed",
            tenant_id=tenant_id,
            attempted_username=username[:80],
        )
    return None


def _aware(moment: datetime) -> datetime:
    """SQLite returns naive UTC datetimes; PostgreSQL aware ones."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def find_user(session: Session, tenant: Tenant, username: str) -> User:
    user = session.scalar(
        select(User).where(User.tenant_id == tenant.id, User.username == username)
    )
    if user is None:
        raise NotFound(f"user {username!r} does not exist in tenant {tenant.slug!r}")
    return user


@audited_refusals
def add_user(
    session: Session,
    actor: User,
    username: str,
    password: str,
    roles: set[Role],
    *,
    display_name: str = "",
    org_unit_code: str | None = None,
) -> User:
    """An admin adds a user to their own tenant."""
    with transaction(session):
        require(session, actor, Action.manage_users)
        org_unit_id = _unit_id(session, actor.tenant_id, org_unit_code)
        user = _new_user(
            session, actor.tenant_id, username, password, roles, display_name, org_unit_id
        )
        audit.record(
            session,
            actor,
            "create",
            user,
            roles=sorted(r.value for r in roles),
            org_unit=org_unit_code,
        )
    return user


@audited_refusals
def set_user_active(session: Session, actor: User, username: str, active: bool) -> User:
    with transaction(session):
        require(session, actor, Action.manage_users)
        user = find_user(session, session.get(Tenant, actor.tenant_id), username)
        if user.active != active:
            user.active = active
            audit.record(session, actor, "enable" if active else "disable", user)
    return user


@audited_refusals
def list_users(session: Session, actor: User) -> list[User]:
    require(session, actor, Action.manage_users)
    return list(
        session.scalars(
            select(User).where(User.tenant_id == actor.tenant_id).order_by(User.username)
        )
    )


@audited_refusals
def list_org_units(session: Session, actor: User) -> list[OrgUnit]:
    require(session, actor, Action.manage_users)
    return list(
        session.scalars(
            select(OrgUnit).where(OrgUnit.tenant_id == actor.tenant_id).order_by(OrgUnit.code)
        )
    )


@audited_refusals
def add_org_unit(
    session: Session, actor: User, code: str, name: str, parent_code: str | None = None
) -> OrgUnit:
    code, name = code.strip(), name.strip()
    if not code or not name:
        raise BadInput("an org unit needs a code and a name")
    with transaction(session):
        require(session, actor, Action.manage_users)
        if _unit_id(session, actor.tenant_id, code, must_exist=False):
            raise Conflict(f"org unit {code!r} already exists")
        unit = OrgUnit(
            tenant_id=actor.tenant_id,
            code=code,
            name=name,
            parent_id=_unit_id(session, actor.tenant_id, parent_code),
        )
        session.add(unit)
        session.flush()
        audit.record(session, actor, "create", unit, code=code, name=name, parent=parent_code)
    return unit


def _unit_id(
    session: Session, tenant_id: int, code: str | None, must_exist: bool = True
) -> int | None:
    if not code:
        return None
    unit_id = session.scalar(
        select(OrgUnit.id).where(OrgUnit.tenant_id == tenant_id, OrgUnit.code == code)
    )
    if unit_id is None and must_exist:
        raise NotFound(f"org unit {code!r} does not exist")
    return unit_id


def add_tenant(session: Session, slug: str, name: str, admin_password: str) -> Tenant:
    """Operator action (server shell): a new municipality with its first admin."""
    slug = slug.strip().lower()
    if not slug or len(slug) > 40 or not all(c.isalnum() or c == "-" for c in slug):
        raise BadInput("a tenant slug has 1-40 letters, digits and '-'")
    with transaction(session):
        if session.scalar(select(Tenant.id).where(Tenant.slug == slug)):
            raise Conflict(f"tenant {slug!r} already exists")
        tenant = Tenant(slug=slug, name=name.strip() or slug)
        session.add(tenant)
        session.flush()
        audit.record(session, None, "create", tenant, tenant_id=tenant.id, slug=slug)
    create_user(
        session, tenant, "admin", admin_password, {Role.admin}, display_name="Administrator"
    )
    return tenant


def list_tenants(session: Session) -> list[Tenant]:
    return list(session.scalars(select(Tenant).order_by(Tenant.slug)))
