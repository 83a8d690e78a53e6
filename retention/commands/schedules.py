"""``eakte retention schedule ...`` and ``event-date``: schedules (R6), where they apply (R3), the
clock's start for event triggers."""

from __future__ import annotations

import sys

import click

from eakte.commands.common import acting_user, load_settings, tenant_option, user_option
from eakte.runtime import open_runtime
from eakte.services import cases
from retention import schedules
from retention.commands.common import parse_date, retention_group


@retention_group.group("schedule")
def schedule() -> None:
    """Retention schedules (R6) and where they apply (R3)."""


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
        schedules.create_schedule(
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
        for item in schedules.list_schedules(session, actor):
            period = "permanent" if item.permanent else f"{item.period_years} years"
            trigger = f"event: {item.trigger_event}" if item.trigger == "event" else "closure"
            sys.stdout.write(
                f"{item.name}\t{period}\t{item.action}\t{trigger}\t{item.legal_basis}\n"
            )


@schedule.command("set")
@click.argument("name")
@click.option("--rename", help="New name.")
@click.option("--years", type=click.IntRange(0, 500), help="New period in years.")
@click.option("--permanent", is_flag=True, help="Make it permanent.")
@click.option("--action", type=click.Choice(["A", "V", "B"]), help="New action.")
@click.option("--legal-basis", help="New legal basis.")
@tenant_option
@user_option()
def schedule_set(name, rename, years, permanent, action, legal_basis, tenant, username):
    """Change schedule NAME (logged old → new); closed cases under it get their new end."""
    if permanent and years is not None:
        raise click.UsageError("give --years N or --permanent, not both")
    values = {}
    if rename:
        values["name"] = rename
    if years is not None or permanent:
        values["period_years"] = None if permanent else years
    if action:
        values["action"] = action
    if legal_basis is not None:
        values["legal_basis"] = legal_basis
    if not values:
        raise click.UsageError("nothing to change")
    with open_runtime(load_settings()) as rt, rt.session() as session:
        actor = acting_user(session, tenant, username)
        schedules.update_schedule(session, actor, name, **values)
    click.echo(f"schedule {name!r} changed")


@schedule.command("remove")
@click.argument("name")
@tenant_option
@user_option()
def schedule_remove(name, tenant, username):
    """Remove schedule NAME (only if no node and no case uses it)."""
    with open_runtime(load_settings()) as rt, rt.session() as session:
        actor = acting_user(session, tenant, username)
        schedules.delete_schedule(session, actor, name)
    click.echo(f"schedule {name!r} removed")


@schedule.command("assign")
@click.argument("node")
@click.argument("name", required=False)
@tenant_option
@user_option()
def schedule_assign(node, name, tenant, username):
    """Attach schedule NAME to file-plan NODE (no NAME: inherit from the parent again).

    Nodes beneath without a schedule of their own inherit it; existing cases keep theirs."""
    with open_runtime(load_settings()) as rt, rt.session() as session:
        actor = acting_user(session, tenant, username)
        schedules.assign_schedule(session, actor, node, name)
    click.echo(f"node {node}: schedule {name or '(inherited)'}")


@schedule.command("override")
@click.argument("case")
@click.argument("name")
@click.option("--reason", required=True, help="Why this case gets another schedule (logged).")
@tenant_option
@user_option()
def schedule_override(case, name, reason, tenant, username):
    """Give CASE the schedule NAME instead of its node's (R3)."""
    with open_runtime(load_settings()) as rt, rt.session() as session:
        actor = acting_user(session, tenant, username)
        found = schedules.find_schedule(session, actor, name)
        changed = cases.override_schedule(session, actor, case, found.id, reason)
        end = changed.retention_end.isoformat() if changed.retention_end else "-"
    click.echo(f"{changed.file_reference}: schedule {name!r}, retention end {end}")


@retention_group.command("event-date")
@click.argument("case")
@click.argument("day", callback=parse_date, required=False)
@tenant_option
@user_option()
def event_date(case, day, tenant, username):
    """Enter the date of the event that starts CASE's clock (e.g. a permit's expiry)."""
    with open_runtime(load_settings()) as rt, rt.session() as session:
        actor = acting_user(session, tenant, username)
        changed = schedules.set_event_date(session, actor, case, day)
        end = changed.retention_end.isoformat() if changed.retention_end else "-"
    click.echo(f"{changed.file_reference}: event {day or '-'}, retention end {end}")
