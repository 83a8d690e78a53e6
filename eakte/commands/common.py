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
from eakte.directory import signin
from eakte.errors import PermissionDenied
from eakte.models import User
from eakte.services import totp
from eakte.services.accounts import DEFAULT_TENANT, find_user, get_tenant


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
        settings = Settings.from_env()
        # a directory user proves it against the directory (issue 19)
        signin.confirm_identity(
            session, signin.Context(settings.ldap, settings.resolved_secret_key()), user, password
        )
    return user


def confirm_second_factor(
    session: Session,
    settings: Settings,
    user: User,
    code: str | None,
    from_stdin: bool | None,
    purpose: str,
) -> None:
    """The second factor again before a decision (issue 19), when the user has or needs one:
    ``code``, else the next line of stdin (after the password), else asked for."""
    if not totp.needed(session, user, settings.second_factor):
        return
    if not code:
        if from_stdin:
            code = sys.stdin.readline().strip()
        else:
            code = click.prompt(f"Second-factor code of {user.username}", err=True)
    totp.verify(
        session, user, code, settings.resolved_secret_key(), purpose=purpose, client_address="cli"
    )


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


code_option = click.option(
    "--code",
    help="Second-factor code (TOTP or recovery code) when the user has one; else read from "
    "stdin after the password, or asked for.",
)

password_option = click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the acting user's password from stdin instead of asking for it.",
)
