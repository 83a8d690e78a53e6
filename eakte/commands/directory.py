"""``eakte ldap``: a tenant's directory (LDAP / Active Directory), its group mapping, the check
of the connection and the sync (issue 19). Operator commands: whoever runs them has the
server's shell; mapping a group to admin or records officer is only possible here."""

from __future__ import annotations

import sys

import click

from eakte.commands.common import load_settings, mark_command_line, tenant_option
from eakte.directory import config, mapping, sync
from eakte.directory.ldap_client import DirectoryClient
from eakte.directory.settings import AD_USER_FILTER, DEFAULT_GROUP_FILTER, LdapSettings
from eakte.directory.signin import Context
from eakte.errors import ConfigError
from eakte.models import Role
from eakte.runtime import open_runtime
from eakte.services.accounts import get_tenant


@click.group("ldap")
def ldap_group() -> None:
    """Sign-in through the municipality's directory (LDAP / Active Directory).

    The environment (EAKTE_LDAP_*) configures one tenant's directory; `configure` gives a
    tenant its own. Directory groups map to roles and org units (`map`); `sync` (nightly in
    the worker) disables people who left.
    """


@ldap_group.command("test")
@tenant_option
@click.option("--lookup", "username", required=True, help="A user name to look up.")
def test(tenant, username):
    """Connect to the tenant's directory (TLS verified) and look up one user."""
    settings = load_settings()
    with open_runtime(settings) as rt, rt.session() as session:
        found = config.for_tenant(
            session, settings.ldap, settings.resolved_secret_key(), get_tenant(session, tenant)
        )
        if found is None:
            raise ConfigError(f"tenant {tenant!r} has no directory configured")
        entry = DirectoryClient(found).lookup(username)
        click.echo(f"connected to {found.url} ({'StartTLS' if found.starttls else 'LDAPS'})")
        if entry is None:
            click.echo(f"{username}: not found (or disabled) under {found.base_dn}")
            sys.exit(9)
        mapped = mapping.resolve(session, get_tenant(session, tenant).id, entry.groups)
        click.echo(f"{username}: {entry.dn} ({entry.display_name})")
        for group in entry.groups:
            click.echo(f"  group {group}")
        roles = ", ".join(sorted(r.value for r in mapped.roles)) or "none (no mapped group)"
        click.echo(f"  roles in eAkte: {roles}")


@ldap_group.command("sync")
def sync_command():
    """Look every directory user up again now (the worker does it nightly)."""
    settings = load_settings()
    with open_runtime(settings) as rt, rt.session() as session:
        mark_command_line(session)
        ctx = Context(settings.ldap, settings.resolved_secret_key())
        for report in sync.sync_all(session, ctx):
            click.echo(
                f"{report.tenant}: {report.checked} checked, disabled: "
                f"{', '.join(report.disabled) or '-'}, roles changed: "
                f"{', '.join(report.changed) or '-'}"
            )


@ldap_group.command("map")
@tenant_option
@click.option("--group", "group_dn", required=True, help="The group's DN.")
@click.option("--role", type=click.Choice([r.value for r in Role]), help="eAkte role.")
@click.option("--org-unit", help="Code of the org unit its members belong to.")
def map_command(tenant, group_dn, role, org_unit):
    """Map a directory group to a role and/or an org unit (several rows per group allowed)."""
    settings = load_settings()
    with open_runtime(settings) as rt, rt.session() as session:
        mark_command_line(session)
        row = mapping.add(
            session,
            None,
            get_tenant(session, tenant),
            group_dn,
            Role(role) if role else None,
            org_unit,
        )
        click.echo(f"mapping {row.id}: {row.group_dn} -> {role or '-'} / {org_unit or '-'}")


@ldap_group.command("unmap")
@tenant_option
@click.argument("mapping_id", type=int)
def unmap(tenant, mapping_id):
    """Remove mapping MAPPING_ID (see `eakte ldap mappings`)."""
    settings = load_settings()
    with open_runtime(settings) as rt, rt.session() as session:
        mark_command_line(session)
        mapping.remove(session, None, get_tenant(session, tenant), mapping_id)
        click.echo(f"mapping {mapping_id} removed")


@ldap_group.command("mappings")
@tenant_option
def mappings(tenant):
    """List the tenant's group mappings."""
    settings = load_settings()
    with open_runtime(settings) as rt, rt.session() as session:
        for row, unit in mapping.listing(session, get_tenant(session, tenant)):
            click.echo(f"{row.id}\t{row.group_dn}\t{row.role or '-'}\t{unit or '-'}")


@ldap_group.command("configure")
@tenant_option
@click.option("--url", required=True, help="ldaps://host:636, or ldap://host:389 with --starttls.")
@click.option("--starttls", is_flag=True, help="StartTLS on an ldap:// URL.")
@click.option("--ca-file", default="", help="CA certificate(s) the server's is checked against.")
@click.option("--base-dn", required=True, help="Where people are searched.")
@click.option("--user-filter", default=AD_USER_FILTER, show_default=True)
@click.option("--group-base-dn", default="", help="Where groups are searched (default: base DN).")
@click.option("--group-filter", default=DEFAULT_GROUP_FILTER, show_default=True)
@click.option("--bind-dn", default="", help="Service account for lookups (empty: anonymous).")
@click.option(
    "--bind-password-stdin", is_flag=True, help="Read the service account's password from stdin."
)
@click.option(
    "--local-users", default="admin", show_default=True, help="Local break-glass accounts."
)
@click.option("--disable", is_flag=True, help="Switch the tenant's directory off.")
def configure(tenant, url, starttls, ca_file, base_dn, user_filter, group_base_dn, group_filter,
              bind_dn, bind_password_stdin, local_users, disable):  # fmt: skip
    """Give TENANT its own directory (stored; the bind password encrypted, never shown)."""
    settings = load_settings()
    password = sys.stdin.readline().rstrip("\n") if bind_password_stdin else ""
    values = LdapSettings(
        url=url,
        starttls=starttls,
        ca_file=ca_file,
        base_dn=base_dn,
        user_filter=user_filter,
        group_base_dn=group_base_dn,
        group_filter=group_filter,
        bind_dn=bind_dn,
        bind_password=password,
        local_users=tuple(u.strip() for u in local_users.split(",") if u.strip()),
        tenant=tenant,
    )
    with open_runtime(settings) as rt, rt.session() as session:
        mark_command_line(session)
        config.save(
            session,
            None,
            get_tenant(session, tenant),
            values,
            settings.resolved_secret_key(),
            enabled=not disable,
        )
    click.echo(f"directory of {tenant}: {'off' if disable else url}")


COMMANDS: list[click.Command] = [ldap_group]
