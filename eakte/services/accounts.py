"""Tenants and users: creation and sign-in. Each function owns its transaction."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from eakte import audit
from eakte.db import transaction
from eakte.errors import (
    BadInput,
    Conflict,
    NotFound,
    TooManyAttempts,
    WeakPassword,
    WrongPassword,
)
from eakte.models import OrgUnit, Role, RoleGrant, Tenant, User, UserKind, UserRole
from eakte.models.base import utcnow
from eakte.passwords import generate_password, hash_password, verify_password
from eakte.permissions import Action, require
from eakte.services import sessions, throttle
from eakte.services.guard import audited_refusals
from eakte.services.role_grants import grant

DEFAULT_TENANT = "default"
MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 200
# The stored hash of a used one-time password and of a service account: nothing verifies.
CONSUMED = "!consumed"
SERVICE = "!service"


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
    org_unit_code: str | None = None,
    must_change: bool = False,
) -> User:
    """Operator path (``eakte init``, ``eakte tenant add``, ``eakte user add --operator``,
    tests): no acting user. Whoever runs it has the server's shell; the accounts get their
    roles at once (the first holders of a role have nobody to confirm them)."""
    with transaction(session):
        if org_unit_code:
            org_unit_id = _unit_id(session, tenant.id, org_unit_code)
        user = _new_user(
            session,
            tenant.id,
            username,
            password,
            display_name,
            org_unit_id,
            must_change=must_change,
        )
        now = utcnow()
        user.role_rows = [UserRole(role=r.value, granted_at=now) for r in sorted(roles)]
        audit.record(session, None, "create", user, roles=sorted(r.value for r in roles))
    return user


def _new_user(
    session: Session,
    tenant_id: int,
    username: str,
    password: str | None,
    display_name: str,
    org_unit_id: int | None,
    *,
    must_change: bool = False,
    kind: UserKind = UserKind.person,
) -> User:
    username = username.strip()
    if not username or len(username) > 80:
        raise BadInput("user name must be 1-80 characters")
    if password is not None:
        _check_password_rules(password)
    exists = session.scalar(
        select(User.id).where(User.tenant_id == tenant_id, User.username == username)
    )
    if exists:
        raise Conflict(f"user {username!r} already exists")
    user = User(
        tenant_id=tenant_id,
        username=username,
        display_name=display_name or username,
        # A service account has no password: nothing verifies against this marker.
        password_hash=hash_password(password) if password is not None else SERVICE,
        org_unit_id=org_unit_id,
        kind=kind.value,
        must_change_password=must_change,
        role_rows=[],
    )
    session.add(user)
    session.flush()
    return user


def _check_password_rules(password: str) -> None:
    if not MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH:
        raise WeakPassword(
            f"password must have {MIN_PASSWORD_LENGTH}-{MAX_PASSWORD_LENGTH} characters"
        )


def has_admin(session: Session, tenant: Tenant) -> bool:
    return (
        session.scalar(
            select(User.id)
            .join(UserRole, UserRole.user_id == User.id)
            .where(User.tenant_id == tenant.id, UserRole.role == Role.admin.value)
            .limit(1)
        )
        is not None
    )


def authenticate(
    session: Session, tenant_slug: str, username: str, password: str, client_address: str = ""
) -> User | None:
    """The active person with these credentials, else None (same timing either way).

    Every attempt is in the audit trail (R20). Repeated failures slow further attempts from
    the same address, and from addresses the user never signed in from (``throttle``):
    ``TooManyAttempts`` without looking at the password.
    """
    by_address = throttle.address_key(client_address)
    by_account = throttle.account_key(tenant_slug, username)
    now = utcnow()
    candidate = session.scalar(
        select(User)
        .join(Tenant)
        .where(Tenant.slug == tenant_slug, User.username == username.strip())
    )
    refused = throttle.blocked(session, by_address, now) or (
        throttle.blocked(session, by_account, now)
        and not (candidate and sessions.known_address(session, candidate.id, client_address))
    )
    if refused:
        with transaction(session):
            audit.record(
                session,
                None,
                "login",
                outcome="throttled",
                tenant_id=_tenant_id(session, tenant_slug),
                attempted_username=username[:80],
                client_address=client_address,
            )
        raise TooManyAttempts(f"sign-in for {by_account!r} from {client_address!r} throttled")
    # The deliberately slow hash check runs outside the write transaction: on SQLite that
    # holds the database's write lock, which every page view needs for its audit entry.
    checked = candidate.password_hash if candidate else None
    ok = verify_password(checked, password)
    session.commit()  # end the read transaction before the write one
    with transaction(session):
        user = session.get(User, candidate.id, with_for_update=True) if candidate else None
        # the hash checked must still be the stored one (a one-time password is used once)
        ok = ok and user is not None and user.password_hash == checked
        if ok and user is not None and user.active and not user.is_service:
            user.last_login_at = now
            throttle.forget(session, by_address)
            one_time = user.must_change_password
            if one_time:
                # An admin's password works once: it opened this session, whose only page
                # sets the user's own password; nobody signs in with it again.
                user.password_hash = CONSUMED
            audit.record(
                session, user, "login", user, client_address=client_address, one_time=one_time
            )
            return user
        throttle.count_failure(session, by_address, throttle.FREE_PER_ADDRESS, now)
        throttle.count_failure(session, by_account, throttle.FREE_PER_ACCOUNT, now)
        audit.record(
            session,
            None,
            "login",
            user,
            outcome="failed",
            tenant_id=_tenant_id(session, tenant_slug),
            attempted_username=username[:80],
            client_address=client_address,
        )
    return None


def _tenant_of(session: Session, actor: User) -> Tenant:
    tenant = session.get(Tenant, actor.tenant_id)
    if tenant is None:
        raise NotFound(f"tenant {actor.tenant_id} not found")
    return tenant


def _tenant_id(session: Session, tenant_slug: str) -> int | None:
    return session.scalar(select(Tenant.id).where(Tenant.slug == tenant_slug))


def change_password(
    session: Session, user: User, current: str | None, new: str, keep_session: str | None = None
) -> None:
    """The user sets their own password; their other sessions end. After an admin's
    one-time password (used up by the sign-in that opened this session) there is no current
    one to give."""
    _check_password_rules(new)
    if current == new:
        raise WeakPassword("the new password must differ from the current one")
    forced = session.scalar(select(User.must_change_password).where(User.id == user.id))
    if not forced:
        check_password(session, user, current or "")
    with transaction(session):
        row = session.get(User, user.id, populate_existing=True)
        if row is None:
            raise NotFound(f"user {user.username!r} not found")
        row.password_hash = hash_password(new)
        row.must_change_password = False
        row.password_changed_at = utcnow()
        sessions.end_all(session, row, keep=keep_session)
        audit.record(session, row, "change_password", row)


def check_password(session: Session, user: User, password: str) -> None:
    """``WrongPassword`` unless ``password`` is the user's."""
    stored = session.scalar(select(User.password_hash).where(User.id == user.id))
    if not verify_password(stored, password):
        raise WrongPassword(f"wrong password for user {user.username!r}")


def confirm_identity(session: Session, user: User, password: str) -> None:
    """The person a command acts as proves it with their password before a decision (the
    command line's name alone is anyone's word); a wrong one is in the audit trail."""
    try:
        if user.is_service or user.must_change_password:
            raise WrongPassword(f"user {user.username!r} has no password of their own")
        check_password(session, user, password)
    except WrongPassword as exc:
        session.rollback()
        with transaction(session):
            audit.record(session, user, "confirm_identity", outcome="refused", detail=str(exc))
        raise


@audited_refusals
def reset_password(session: Session, actor: User, username: str) -> str:
    """An admin resets a password: a one-time password, shown once, that only opens the page
    where the user sets their own (so the admin never knows the password the user works
    with, and a sign-in with the one-time password is forced to change it, in the audit
    trail). Every session of the user ends."""
    one_time = generate_password()
    with transaction(session):
        require(session, actor, Action.manage_users)
        user = find_user(session, _tenant_of(session, actor), username)
        if user.is_service:
            raise BadInput("a service account has no password")
        user.password_hash = hash_password(one_time)
        user.must_change_password = True
        sessions.end_all(session, user)
        audit.record(session, actor, "reset_password", user)
    return one_time


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
    """An admin adds a person to their own tenant. The admin's password opens only the page
    where the user sets their own; admin and records-officer roles wait for a second holder's
    confirmation (``grant_role``)."""
    return _add_account(
        session, actor, username, password, roles, display_name, org_unit_code, UserKind.person
    )


@audited_refusals
def add_service_account(
    session: Session,
    actor: User,
    username: str,
    roles: set[Role],
    *,
    display_name: str = "",
    org_unit_code: str | None = None,
) -> User:
    """An admin adds a service account (a portal, a script): no password, no sign-in; it acts
    only through the API tokens an admin makes for it."""
    return _add_account(
        session, actor, username, None, roles, display_name, org_unit_code, UserKind.service
    )


def _add_account(
    session: Session,
    actor: User,
    username: str,
    password: str | None,
    roles: set[Role],
    display_name: str,
    org_unit_code: str | None,
    kind: UserKind,
) -> User:
    with transaction(session):
        require(session, actor, Action.manage_users)
        org_unit_id = _unit_id(session, actor.tenant_id, org_unit_code)
        user = _new_user(
            session,
            actor.tenant_id,
            username,
            password,
            display_name,
            org_unit_id,
            must_change=kind == UserKind.person,
            kind=kind,
        )
        audit.record(
            session,
            actor,
            "create",
            user,
            kind=kind.value,
            roles=sorted(r.value for r in roles),
            org_unit=org_unit_code,
        )
        for role in sorted(roles):
            grant(session, actor, user, role)
    return user


@audited_refusals
def grant_role(session: Session, actor: User, username: str, role: Role) -> RoleGrant | None:
    """An admin grants a role; admin and records officer wait for a second holder's
    confirmation (the pending grant is returned), other roles apply at once (None). Only the
    operator's path (``create_user``: ``eakte init``, ``eakte user add --operator``) makes
    holders of those roles without one: else one admin could make the first officer alone."""
    with transaction(session):
        require(session, actor, Action.manage_users)
        user = find_user(session, _tenant_of(session, actor), username)
        if user.has_role(role):
            raise Conflict(f"user {username!r} already has the role {role.value}")
        return grant(session, actor, user, role)


@audited_refusals
def set_user_active(session: Session, actor: User, username: str, active: bool) -> User:
    with transaction(session):
        require(session, actor, Action.manage_users)
        user = find_user(session, _tenant_of(session, actor), username)
        if user.active != active:
            user.active = active
            if not active:
                sessions.end_all(session, user)
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
