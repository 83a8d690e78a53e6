"""``eakte user``, ``eakte orgunit`` and ``eakte tenant``."""

from __future__ import annotations

import sys

import click

from eakte.commands.common import (
    acting_user,
    load_settings,
    mark_command_line,
    password_option,
    tenant_option,
    user_option,
)
from eakte.models import Role
from eakte.passwords import generate_password
from eakte.runtime import open_runtime
from eakte.services import accounts, role_grants

ROLE_CHOICE = click.Choice([r.value for r in Role])


def _password(from_stdin: bool) -> tuple[str, bool]:
    """(password, generated?)"""
    if from_stdin:
        return sys.stdin.readline().rstrip("\n"), False
    return generate_password(), True


@click.group()
def user() -> None:
    """Users and their roles."""


@user.command("add")
@click.argument("name")
@click.option(
    "--role",
    "roles",
    type=ROLE_CHOICE,
    multiple=True,
    required=True,
    help="Role; repeat for several.",
)
@click.option("--org-unit", help="Code of the user's org unit.")
@click.option("--display-name", default="", help="Full name shown in the UI.")
@click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the initial password from stdin; otherwise one is generated and printed once.",
)
@click.option(
    "--service", is_flag=True, help="A service account: API tokens only, no password, no sign-in."
)
@click.option(
    "--operator",
    is_flag=True,
    help="As the operator on the server's shell, not as --user: the roles apply at once (the "
    "first records officers of a tenant); the user sets their own password at first sign-in.",
)
@tenant_option
@user_option()
def user_add(
    name, roles, org_unit, display_name, password_stdin, service, operator, tenant, username
):
    """Add user NAME. A person's initial password only lets them set their own at the first
    sign-in; admin and records_officer wait for a second holder's confirmation."""
    if service and operator:
        raise click.UsageError("--service and --operator exclude each other")
    password, generated = (None, False) if service else _password(password_stdin)
    role_set = {Role(r) for r in roles}
    options = {"display_name": display_name, "org_unit_code": org_unit}
    waiting = []
    with open_runtime(load_settings()) as rt, rt.session() as session:
        if operator:
            mark_command_line(session)
            found = accounts.get_tenant(session, tenant)
            accounts.create_user(
                session, found, name, password, role_set, must_change=True, **options
            )
        else:
            actor = acting_user(session, tenant, username)
            if service:
                accounts.add_service_account(session, actor, name, role_set, **options)
            else:
                accounts.add_user(session, actor, name, password, role_set, **options)
            pending = role_grants.pending_grants(session, actor)
            waiting = [g.role for g in pending if g.user.username == name]
    shown = f", initial password {password}  (shown only once)" if generated else ""
    click.echo(f"user {name!r} added{shown}")
    for role in waiting:
        click.echo(f"role {role} waits for confirmation by another {role}")


@user.command("grant")
@click.argument("name")
@click.option("--role", type=ROLE_CHOICE, required=True, help="The role to grant.")
@tenant_option
@user_option()
def user_grant(name, role, tenant, username):
    """Grant user NAME a role (admin and records_officer wait for a second holder)."""
    with open_runtime(load_settings()) as rt, rt.session() as session:
        actor = acting_user(session, tenant, username)
        pending = accounts.grant_role(session, actor, name, Role(role))
    if pending is not None:
        click.echo(f"grant {pending.uuid}: role {role} for {name!r} waits for confirmation")
    else:
        click.echo(f"role {role} granted to {name!r}")


@user.command("grants")
@tenant_option
@user_option()
def user_grants(tenant, username):
    """List role grants waiting for confirmation."""
    with open_runtime(load_settings()) as rt, rt.session() as session:
        actor = acting_user(session, tenant, username)
        for grant in role_grants.pending_grants(session, actor):
            click.echo(
                f"{grant.uuid}\t{grant.user.username}\t{grant.role}\t"
                f"requested by {grant.requested_by.username} {grant.created_at:%Y-%m-%d %H:%M}"
            )


@user.command("confirm")
@click.argument("grant")
@click.option("--reject", is_flag=True, help="Reject the grant instead.")
@tenant_option
@user_option(default=None, who="another holder of the role")
@password_option
def user_confirm(grant, reject, tenant, username, password_stdin):
    """Confirm (or --reject) role GRANT; needs your password."""
    with open_runtime(load_settings()) as rt, rt.session() as session:
        actor = acting_user(session, tenant, username, password_stdin)
        decided = role_grants.decide_grant(session, actor, grant, not reject)
        name = decided.user.username
    click.echo(f"role {decided.role} for {name!r} {decided.status}")


@user.command("reset-password")
@click.argument("name")
@tenant_option
@user_option()
def user_reset_password(name, tenant, username):
    """Give user NAME a one-time password (printed once) that only lets them set their own;
    their sessions end."""
    with open_runtime(load_settings()) as rt, rt.session() as session:
        actor = acting_user(session, tenant, username)
        one_time = accounts.reset_password(session, actor, name)
    click.echo(f"one-time password for {name!r}: {one_time}  (shown only once)")


@user.command("list")
@tenant_option
@user_option()
def user_list(tenant, username):
    """List the users of a tenant."""
    with open_runtime(load_settings()) as rt, rt.session() as session:
        actor = acting_user(session, tenant, username)
        for item in accounts.list_users(session, actor):
            state = "active" if item.active else "disabled"
            roles = ",".join(sorted(r.value for r in item.roles))
            click.echo(f"{item.username}\t{state}\t{roles}\t{item.display_name}")


@user.command("disable")
@click.argument("name")
@tenant_option
@user_option()
def user_disable(name, tenant, username):
    """Disable user NAME: they can no longer sign in; their history stays."""
    with open_runtime(load_settings()) as rt, rt.session() as session:
        actor = acting_user(session, tenant, username)
        accounts.set_user_active(session, actor, name, False)
    click.echo(f"user {name!r} disabled")


@click.group()
def orgunit() -> None:
    """Org units (Ämter, Sachgebiete)."""


@orgunit.command("add")
@click.argument("code")
@click.argument("name")
@click.option("--parent", help="Code of the parent unit.")
@tenant_option
@user_option()
def orgunit_add(code, name, parent, tenant, username):
    """Add org unit CODE with NAME."""
    with open_runtime(load_settings()) as rt, rt.session() as session:
        actor = acting_user(session, tenant, username)
        accounts.add_org_unit(session, actor, code, name, parent)
    click.echo(f"org unit {code!r} added")


@click.group()
def tenant() -> None:
    """Municipalities (tenants) served by this installation."""


@tenant.command("add")
@click.argument("slug")
@click.argument("name")
@click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the tenant admin's password from stdin; otherwise it is generated.",
)
def tenant_add(slug, name, password_stdin):
    """Add tenant SLUG (e.g. usingen) named NAME, with its own admin user 'admin'."""
    password, generated = _password(password_stdin)
    with open_runtime(load_settings()) as rt, rt.session() as session:
        mark_command_line(session)
        accounts.add_tenant(session, slug, name, password)
    shown = f", password {password}  (shown only once)" if generated else ""
    click.echo(f"tenant {slug!r} added with user 'admin'{shown}")


@tenant.command("list")
def tenant_list():
    """List the tenants."""
    with open_runtime(load_settings()) as rt, rt.session() as session:
        for item in accounts.list_tenants(session):
            click.echo(f"{item.slug}\t{item.name}")


COMMANDS: list[click.Command] = [user, orgunit, tenant]
