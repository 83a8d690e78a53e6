"""``eakte fileplan import|export|move`` (R5, R12)."""

from __future__ import annotations

import click

from eakte.commands.common import acting_user, load_settings, tenant_option, user_option
from eakte.errors import ChangesNeedConfirmation
from eakte.runtime import open_runtime
from eakte.services import fileplan


@click.group("fileplan")
def fileplan_group() -> None:
    """The file plan (Aktenplan)."""


@fileplan_group.command("import")
@click.argument("csv_file", type=click.File("rb"))
@click.option(
    "--confirm-changes",
    "token",
    default="",
    metavar="TOKEN",
    help="Apply the listed changes to existing nodes; TOKEN is the one a run without it printed.",
)
@tenant_option
@user_option()
def import_(csv_file, token: str, tenant: str, username: str):
    """Import or update the file plan from CSV_FILE ('-' for stdin).

    Columns: code, title, parent, schedule (schedule name), optional org_unit; separated by ';'
    or ','; UTF-8 or Windows-1252. A file with any problem is reported line by line and
    nothing of it is imported. A file that would move or rename existing nodes (or change
    their schedule or org unit) lists these changes and imports nothing; run it again with
    --confirm-changes and the printed token to apply exactly these changes.
    """
    data = csv_file.read()
    with open_runtime(load_settings()) as rt, rt.session() as session:
        actor = acting_user(session, tenant, username)
        try:
            result = fileplan.import_csv(
                session, actor, data, source_name=csv_file.name, confirm=token
            )
        except ChangesNeedConfirmation as exc:
            click.echo(
                f"to apply these changes, run again with --confirm-changes {exc.token}", err=True
            )
            raise
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


@fileplan_group.command("move")
@click.argument("code")
@click.argument("new_parent")
@tenant_option
@user_option()
def move(code: str, new_parent: str, tenant: str, username: str):
    """Move node CODE with everything beneath it under NEW_PARENT ('-' for the top level).

    Refused while a legal hold covers the node or its new place (exit code 10)."""
    with open_runtime(load_settings()) as rt, rt.session() as session:
        actor = acting_user(session, tenant, username)
        node = fileplan.move_node(session, actor, code, None if new_parent == "-" else new_parent)
        click.echo(f"{node.code} now under {node.parent.code if node.parent else '(top level)'}")


COMMANDS = [fileplan_group]
