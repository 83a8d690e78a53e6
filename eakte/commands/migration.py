"""``eakte migration``: paper archive migrations (Altaktenübernahme, issue 21) — prepared and
run by scanning staff, approved by a records officer."""

from __future__ import annotations

from pathlib import Path

import click

from eakte.commands.common import (
    acting_user,
    jobs_option,
    load_settings,
    password_option,
    tenant_option,
    user_option,
)
from eakte.commands.ingest import Importer, print_summary
from eakte.errors import ExitCode
from eakte.ingest.walk import Entry, walk
from eakte.runtime import open_runtime
from eakte.services import migration, migration_run
from eakte.services.intake import Target


@click.group("migration")
def migration_group() -> None:
    """Paper archive migrations: old files with their references, dates and closure."""


@migration_group.command("prepare")
@click.argument("name")
@click.argument("manifest", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--folder",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="The folder of the scans: every file the manifest names must be there.",
)
@click.option(
    "--plan-map",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="CSV (old;new) mapping the old file plan's codes to today's.",
)
@click.option("--org-unit", help="Org unit (code) scanned for (default: your own).")
@click.option("--device", default="", help="Scanner model or name (unless the manifest says).")
@click.option("--dpi", type=click.IntRange(50, 2400), help="Scan resolution.")
@click.option("--colour-mode", type=click.Choice(["bw", "gray", "color"]), help="Scan colour mode.")
@tenant_option
@user_option(default=None, who="scanning staff")
def prepare(name, manifest, folder, plan_map, org_unit, device, dpi, colour_mode, tenant, username):
    """Check MANIFEST whole and keep it as migration NAME, for a records officer to approve."""
    settings = load_settings()
    files = None
    if folder is not None:
        scans = walk(folder.absolute(), protected=[settings.data_dir])
        files = {e.relative for e in scans if e.problem is None}
    with open_runtime(settings) as rt, rt.session() as session:
        actor = acting_user(session, tenant, username)
        run = migration.prepare(
            session,
            actor,
            name,
            manifest.read_bytes(),
            plan_map.read_bytes() if plan_map else b"",
            org_unit=org_unit,
            files=files,
            device=device,
            dpi=dpi,
            colour_mode=colour_mode or "",
        )
        click.echo(
            f"migration {run.name}: {run.case_count} case(s), {run.document_count} document(s); "
            "waiting for a records officer's approval"
        )


@migration_group.command("approve")
@click.argument("name")
@click.option("--note", default="", help="What was checked.")
@password_option
@tenant_option
@user_option(default=None, who="a records officer other than the preparer")
def approve(name, note, password_stdin, tenant, username):
    """Approve migration NAME: its cases may be brought in with their dates and closure.
    A decision: asks for the approver's password."""
    with open_runtime(load_settings()) as rt, rt.session() as session:
        actor = acting_user(session, tenant, username, password_stdin)
        run = migration.decide(session, actor, name, True, note)
        click.echo(f"migration {run.name}: approved")


@migration_group.command("reject")
@click.argument("name")
@click.option("--note", required=True, help="Why (logged; the preparer sees it).")
@tenant_option
@user_option(default=None, who="a records officer other than the preparer")
def reject(name, note, tenant, username):
    """Reject migration NAME."""
    with open_runtime(load_settings()) as rt, rt.session() as session:
        actor = acting_user(session, tenant, username)
        run = migration.decide(session, actor, name, False, note)
        click.echo(f"migration {run.name}: rejected")


@migration_group.command("list")
@tenant_option
@user_option(default=None, who="scanning staff or a records officer")
def list_runs(tenant, username):
    """Every migration with its state."""
    with open_runtime(load_settings()) as rt, rt.session() as session:
        actor = acting_user(session, tenant, username)
        for run in migration.list_runs(session, actor):
            click.echo(
                f"{run.name:40} {run.status:9} {run.case_count:>7} cases "
                f"{run.document_count:>8} documents"
            )


@migration_group.command("run")
@click.argument("name")
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@jobs_option
@tenant_option
@user_option(default=None, who="scanning staff")
def run_command(name, folder, jobs, tenant, username):
    """Run the approved migration NAME with the scans in FOLDER: each box becomes a scan
    batch, each case is brought in with its old reference, dates and closure. Running it
    again continues where it stopped."""
    from retention.locks import sync_object_locks

    settings = load_settings()
    folder = folder.absolute()
    entries = {e.relative: e for e in walk(folder, protected=[settings.data_dir])}
    with open_runtime(settings) as rt:
        rt.store.check_bucket()
        with rt.session() as session:
            actor = acting_user(session, tenant, username)
            found = {r for r, e in entries.items() if e.problem is None}
            run, plan = migration.start(session, actor, name, files=found)
            batches = migration.open_box_batches(session, actor, run, plan)
        importer = _MigrationImporter(rt, settings, actor, run, rt.jobs.enqueue)
        importer.documents = {d.file: (d, batches[d.box]) for d in plan.documents}
        wanted = [entries[d.file] for d in plan.documents]
        summary = importer.run(wanted, jobs)
        print_summary(summary, "", len(wanted))
        with rt.session() as session:
            report = migration_run.run_cases(session, actor, run, plan)
            # R25 now; the worker's periodic run retries whatever S3 refuses here.
            for start_at in range(0, len(report.case_ids), 1000):
                chunk = report.case_ids[start_at : start_at + 1000]
                sync_object_locks(session, rt.store, case_ids=chunk, limit=len(chunk))
    click.echo(f"cases:        {report.cases} brought in, {report.already_in} already in")
    for reference, why in report.failed[:50]:
        click.echo(f"  {reference}: {why}")
    if not report.done:
        click.echo(
            f"eakte: {len(report.failed)} case(s) not brought in; run the migration again",
            err=True,
        )
        raise SystemExit(ExitCode.failure)
    click.echo(f"migration {run.name}: done (text and OCR follow in `eakte worker`)")


class _MigrationImporter(Importer):
    """The bulk import's threads and progress; each file into the run's inbox, in its box's
    batch, under the run's source key (so the run finds the document it became)."""

    def __init__(self, rt, settings, actor, run, enqueue):
        super().__init__(rt, settings, actor, None, Target(org_unit=run.org_unit_id), {}, enqueue)
        self.migration = run
        self.documents: dict = {}

    def take(self, entry: Entry) -> None:
        spec, batch_id = self.documents[entry.relative]
        result = migration.intake_file(
            self._session(),
            self.actor,
            self.rt.store,
            self.migration,
            spec,
            entry.path,
            batch_id=batch_id,
            settings=self.settings,
            enqueue=self.enqueue,
            problem=entry.problem,
        )
        self.summary.add(entry.relative, result)


COMMANDS: list[click.Command] = [migration_group]
