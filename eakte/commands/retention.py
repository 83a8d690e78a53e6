"""``eakte retention ...`` and ``eakte hold ...`` (issue 6)."""

from __future__ import annotations

import sys

import click

from eakte.commands.common import acting_user, load_settings, tenant_option, user_option
from eakte.runtime import open_runtime
from eakte.services import fileplan


@click.group("retention")
def retention_group() -> None:
    """Retention schedules and disposal."""


@retention_group.group("schedule")
def schedule() -> None:
    """Retention schedules (R6)."""


@schedule.command("add")
@click.argument("name")
@click.option("--years", type=click.IntRange(0, 500), help="Retention period in years.")
@click.option("--permanent", is_flag=True, help="Keep permanently (instead of --years).")
@click.option(
    "--action",
    type=click.Choice(["A", "V", "B"]),
    required=True,
    help="A: offer to the archive, V: destroy, B: the archive appraises.",
)
@click.option("--legal-basis", default="", help="The law or rule, e.g. 'GewO § 14'.")
@click.option(
    "--event",
    "trigger_event",
    default="",
    help="Start the clock at this named event instead of at closure.",
)
@tenant_option
@user_option()
def schedule_add(name, years, permanent, action, legal_basis, trigger_event, tenant, username):
    """Add a retention schedule NAME."""
    if permanent == (years is not None):
        raise click.UsageError("give either --years N or --permanent")
    with open_runtime(load_settings()) as rt, rt.session() as session:
        actor = acting_user(session, tenant, username)
        fileplan.create_schedule(
            session,
            actor,
            name,
            period_years=None if permanent else years,
            action=action,
            legal_basis=legal_basis,
            trigger="event" if trigger_event else "closure",
            trigger_event=trigger_event,
        )
    click.echo(f"schedule {name!r} added")


@schedule.command("list")
@tenant_option
@user_option()
def schedule_list(tenant, username):
    """List the retention schedules."""
    with open_runtime(load_settings()) as rt, rt.session() as session:
        actor = acting_user(session, tenant, username)
        for item in fileplan.list_schedules(session, actor):
            period = "permanent" if item.permanent else f"{item.period_years} years"
            sys.stdout.write(f"{item.name}\t{period}\t{item.action}\t{item.legal_basis}\n")


COMMANDS: list[click.Command] = [retention_group]
