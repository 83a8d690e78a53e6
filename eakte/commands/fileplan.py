"""``eakte fileplan import|export`` (R5) and ``eakte retention schedule add|list``."""

from __future__ import annotations

import sys

import click

from eakte.commands.common import acting_user, load_settings, tenant_option, user_option
from eakte.runtime import open_runtime
from eakte.services import fileplan


@click.group("fileplan")
def fileplan_group() -> None:
    """The file plan (Aktenplan)."""


@fileplan_group.command("import")
@click.argument("csv_file", type=click.File("rb"))
@tenant_option
@user_option()
def import_(csv_file, tenant: str, username: str):
    """Import or update the file plan from CSV_FILE ('-' for stdin).

    Columns: code, title, parent, schedule (schedule name), optional org_unit; separated by ';'
    or ','; UTF-8 or Windows-1252. A file with any problem is reported line by line and
    nothing of it is imported.
    """
    data = csv_file.read()
    with open_runtime(load_settings()) as rt, rt.session() as session:
        actor = acting_user(session, tenant, username)
        result = fileplan.import_csv(session, actor, data, source_name=csv_file.name)
    click.echo(f"file plan imported: {result.created} created, {result.updated} updated")


@fileplan_group.command("export")
@click.option("-o", "--output", type=click.File("wb"), default="-", help="File (default stdout).")
@tenant_option
@user_option()
def export(output, tenant: str, username: str):
    """Export the file plan as CSV (UTF-8, ';'), importable again."""
    with open_runtime(load_settings()) as rt, rt.session() as session:
        actor = acting_user(session, tenant, username)
        output.write(fileplan.export_csv(session, actor))


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
