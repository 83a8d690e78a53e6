"""What every command needs: validated settings and logging."""

from __future__ import annotations

import click
from sqlalchemy.orm import Session

from eakte import logs
from eakte.config import Settings
from eakte.errors import PermissionDenied
from eakte.models import User
from eakte.services.accounts import DEFAULT_TENANT, find_user, get_tenant


def load_settings() -> Settings:
    settings = Settings.from_env()
    logs.configure(settings)
    return settings


def acting_user(session: Session, tenant_slug: str, username: str) -> User:
    """The user a command acts as; their permissions apply as in the web UI."""
    tenant = get_tenant(session, tenant_slug)
    user = find_user(session, tenant, username)
    if not user.active:
        raise PermissionDenied(f"user {username!r} is disabled")
    return user


tenant_option = click.option(
    "--tenant", default=DEFAULT_TENANT, show_default=True, help="Municipality (tenant) slug."
)


def user_option(default: str | None = "admin", who: str | None = None):
    """`--user`; without a default it must be given (who says which roles may act)."""
    help_text = "Act as this user; their permissions apply and the audit trail names them."
    if who:
        help_text += f" Must be {who}."
    if default is None:  # no default at all: click 8.3+ takes default=None as a given value
        return click.option("--user", "username", required=True, help=help_text)
    return click.option("--user", "username", default=default, show_default=True, help=help_text)
