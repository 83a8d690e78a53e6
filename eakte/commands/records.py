"""``eakte case ...``: create, show, close, reopen and move case records and processes."""

from __future__ import annotations

import click

from eakte.commands.common import acting_user, load_settings, tenant_option, user_option
from eakte.runtime import open_runtime
from eakte.services import cases


@click.group()
def case() -> None:
    """Case records (Akten)."""


@case.command("create")
@click.argument("node")
@click.argument("title")
@click.option("--description", default="", help="Free text.")
@click.option("--org-unit", "org_unit_id", type=int, help="Responsible org unit id.")
@tenant_option
@user_option()
def create(node: str, title: str, description: str, org_unit_id, tenant: str, username: str):
    """Create a case under file-plan NODE (code such as 32.10.05) and print its file reference."""
    settings = load_settings()
    with open_runtime(settings) as rt, rt.session() as session:
        actor = acting_user(session, tenant, username)
        created = cases.create_case(
            session,
            actor,
            node,
            title,
            description=description,
            org_unit_id=org_unit_id,
            pattern=settings.file_reference_pattern,
        )
        click.echo(created.file_reference)


@case.command("show")
@click.argument("reference")
@tenant_option
@user_option()
def show(reference: str, tenant: str, username: str):
    """Show a case by file reference or UUID (the view is logged)."""
    with open_runtime(load_settings()) as rt, rt.session() as session:
        actor = acting_user(session, tenant, username)
        found = cases.get_case(session, actor, reference)
        rows = [
            ("file reference", found.file_reference),
            ("title", found.title),
            ("uuid", str(found.uuid)),
            ("status", found.status),
            ("closed", found.closed_at.isoformat() if found.closed_at else "-"),
            ("restricted", "yes" if found.restricted else "no"),
        ]
        for label, value in rows:
            click.echo(f"{label:15} {value}")
        for process in found.processes:
            click.echo(f"process {process.number:>5}  {process.status:7} {process.title}")


@case.command("add-process")
@click.argument("reference")
@click.argument("title")
@tenant_option
@user_option()
def add_process(reference: str, title: str, tenant: str, username: str):
    """Add a process (Vorgang) TITLE to the open case REFERENCE; prints its number."""
    with open_runtime(load_settings()) as rt, rt.session() as session:
        actor = acting_user(session, tenant, username)
        process = cases.add_process(session, actor, reference, title)
        click.echo(f"process {process.number} of {reference}: {process.title}")


@case.command("close")
@click.argument("reference")
@tenant_option
@user_option()
def close(reference: str, tenant: str, username: str):
    """Close a case (zdA): it accepts no new documents or changes until reopened."""
    with open_runtime(load_settings()) as rt, rt.session() as session:
        actor = acting_user(session, tenant, username)
        closed = cases.close_case(session, actor, reference)
        # R25 now; the worker's periodic run retries whatever S3 refuses here.
        from retention.locks import sync_object_locks

        sync_object_locks(session, rt.store, case_ids=[closed.id])
        click.echo(f"{closed.file_reference} closed on {closed.closed_at}")  # a date: ISO


@case.command("reopen")
@click.argument("reference")
@click.option("--reason", required=True, help="Why the case is reopened (logged).")
@tenant_option
@user_option()
def reopen(reference: str, reason: str, tenant: str, username: str):
    """Reopen a closed case (records officers); restarts the retention clock."""
    with open_runtime(load_settings()) as rt, rt.session() as session:
        actor = acting_user(session, tenant, username)
        reopened = cases.reopen_case(session, actor, reference, reason)
        click.echo(f"{reopened.file_reference} reopened")


@case.command("move")
@click.argument("reference")
@click.argument("node")
@tenant_option
@user_option()
def move(reference: str, node: str, tenant: str, username: str):
    """Move case REFERENCE to file-plan NODE (records officers); its file reference stays.

    Refused while a legal hold covers the case or NODE (exit code 10)."""
    with open_runtime(load_settings()) as rt, rt.session() as session:
        actor = acting_user(session, tenant, username)
        moved = cases.move_case(session, actor, reference, node)
        click.echo(f"{moved.file_reference} now under {moved.node.code}")


@case.command("move-process")
@click.argument("reference")
@click.argument("number", type=int)
@click.argument("target")
@tenant_option
@user_option()
def move_process(reference: str, number: int, target: str, tenant: str, username: str):
    """Move process NUMBER of case REFERENCE into the open case TARGET (a file reference).

    Refused while a legal hold covers the process or TARGET (exit code 10)."""
    with open_runtime(load_settings()) as rt, rt.session() as session:
        actor = acting_user(session, tenant, username)
        process = cases.find_process(session, actor, reference, number)
        moved = cases.move_process(session, actor, process.id, target)
        click.echo(f"now process {moved.number} of {moved.case.file_reference}")


@case.command("coversheet")
@click.argument("reference")
@click.argument("number", type=int, default=1)
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False, writable=True), required=True,
    help="The PDF to write.",
)  # fmt: skip
@tenant_option
@user_option()
def coversheet_command(reference: str, number: int, output: str, tenant: str, username: str):
    """Write the cover sheet (Deckblatt) of process NUMBER (default 1) of case REFERENCE: a
    scanned stack behind it is filed into that process (issue 17)."""
    from eakte.services import coversheet

    with open_runtime(load_settings()) as rt, rt.session() as session:
        actor = acting_user(session, tenant, username)
        pdf = coversheet.for_process(session, actor, reference, number)
    with open(output, "wb") as fh:
        fh.write(pdf)
    click.echo(f"cover sheet of {reference} process {number}: {output}")


COMMANDS: list[click.Command] = [case]
