"""What every command needs: validated settings and logging, the acting user and where the
audit trail says the command's changes came from."""

from __future__ import annotations

import os
import pwd
import sys

import click
from sqlalchemy.orm import Session

from eakte import audit, logs
from eakte.config import Settings
from eakte.errors import PermissionDenied
from eakte.models import User
from eakte.services.accounts import DEFAULT_TENANT, confirm_identity, find_user, get_tenant


def load_settings() -> Settings:
    settings = Settings.from_env()
    logs.configure(settings)
    return settings


def mark_command_line(session: Session) -> None:
    """Every audit entry written through ``session`` says: the command line, and which OS user
    ran it (the one logged in, and the one behind sudo)."""
    uid = os.getuid()
    try:
        os_user = pwd.getpwuid(uid).pw_name
    except KeyError:  # a uid without a passwd entry (containers)
        os_user = str(uid)
    origin = {"via": "cli", "os_user": os_user}
    if os.environ.get("SUDO_USER"):
        origin["sudo_user"] = os.environ["SUDO_USER"]
    session.info[audit.ORIGIN] = origin


def acting_user(
    session: Session, tenant_slug: str, username: str, password_stdin: bool | None = None
) -> User:
    """The user a command acts as; their permissions apply as in the web UI.

    ``password_stdin`` None: the user's name is enough (reading, everyday changes). True or
    False: the command decides for its user (an approval, a disposal, a hold release, a role
    confirmation), so the user's password is read from stdin or asked for.
    """
    mark_command_line(session)
    tenant = get_tenant(session, tenant_slug)
    user = find_user(session, tenant, username)
    if not user.active:
        raise PermissionDenied(f"user {username!r} is disabled")
    if password_stdin is not None:
        if password_stdin:
            password = sys.stdin.readline().rstrip("\n")
        else:
            password = click.prompt(f"Password of {username}", hide_input=True, err=True)
        confirm_identity(session, user, password)
    return user


tenant_option = click.option(
    "--tenant", default=DEFAULT_TENANT, show_default=True, help="Municipality (tenant) slug."
)


# How many files `eakte import` and `eakte migration run` take in at the same time.
jobs_option = click.option(
    "-j",
    "--jobs",
    type=click.IntRange(1, 32),
    default=4,
    show_default=True,
    help="Files taken in at the same time.",
)


def user_option(default: str | None = "admin", who: str | None = None):
    """`--user`; without a default it must be given (who says which roles may act)."""
    help_text = "Act as this user; their permissions apply and the audit trail names them."
    if who:
        help_text += f" Must be {who}."
    if default is None:  # no default at all: click 8.3+ takes default=None as a given value
        return click.option("--user", "username", required=True, help=help_text)
    return click.option("--user", "username", default=default, show_default=True, help=help_text)


password_option = click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the acting user's password from stdin instead of asking for it.",
)
