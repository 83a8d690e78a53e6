"""``eakte ozg``: where OZG application packages go, by their service key (issue 17)."""

from __future__ import annotations

import click

from eakte.commands.common import acting_user, load_settings, tenant_option, user_option
from eakte.runtime import open_runtime
from eakte.services import ozg


@click.group("ozg")
def ozg_group() -> None:
    """OZG application packages delivered through the API (POST /api/v1/ozg)."""


@ozg_group.command("map")
@click.argument("service_key")
@click.option("--inbox", "org_unit", required=True, help="Org unit code (inbox, or case owner).")
@click.option(
    "--mode",
    type=click.Choice(["inbox", "case"]),
    default="inbox",
    show_default=True,
    help="case: a case is created under --file-plan for each package.",
)
@click.option("--file-plan", default="", help="File-plan node code (mode case).")
@click.option("--name", "service_name", default="", help="The service's name (case titles).")
@tenant_option
@user_option(who="a records officer or an administrator")
def ozg_map(service_key, org_unit, mode, file_plan, service_name, tenant, username):
    """Send packages of SERVICE_KEY (LeiKa) to an inbox, or create a case for each."""
    with open_runtime(load_settings()) as rt, rt.session() as session:
        actor = acting_user(session, tenant, username)
        ozg.set_mapping(
            session,
            actor,
            service_key,
            org_unit=org_unit,
            mode=mode,
            file_plan=file_plan,
            service_name=service_name,
        )
        where = f"cases under {file_plan}" if mode == "case" else f"the inbox of {org_unit}"
        click.echo(f"service {service_key}: packages go to {where}")


COMMANDS: list[click.Command] = [ozg_group]
