"""``eakte fileplan import|export`` (R5)."""

from __future__ import annotations

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


COMMANDS = [fileplan_group]
