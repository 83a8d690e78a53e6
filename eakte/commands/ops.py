"""Operations: ``eakte backup`` and ``eakte restore`` (issue 8)."""

from __future__ import annotations

from pathlib import Path

import click

from eakte import backup as backups
from eakte import restore as restores
from eakte.commands.common import load_settings
from eakte.errors import VerifyFailed
from eakte.locks import DataDirLock
from eakte.runtime import Runtime, open_runtime
from eakte.services import ops_log


@click.command("backup")
@click.argument("dest", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--with-objects",
    is_flag=True,
    help="Also copy every stored file into DEST/objects/ (each verified by its sha256). "
    "Without it the backup relies on the bucket's own copies (S3 versioning, replication).",
)
@click.option(
    "--dated",
    is_flag=True,
    help="Write into a new folder DEST/eakte-YYYYMMDDTHHMMSSZ (for nightly runs).",
)
@click.option(
    "--keep",
    type=click.IntRange(0, 10_000),
    default=0,
    help="With --dated: then remove all but the newest KEEP complete backups in DEST "
    "(0: keep all).",
)
def backup_command(dest: Path, with_objects: bool, dated: bool, keep: int) -> None:
    """Write a backup of this installation into DEST (a new or empty directory).

    DEST receives a consistent snapshot of the database (SQLite's online backup, or pg_dump's
    custom format on PostgreSQL: install postgresql-client), manifest.jsonl listing every
    stored object with key, version id, sha256 and size, and backup.json, written last, which
    marks the backup complete. eAkte keeps running meanwhile. Not included: the search index
    (rebuilt on restore), the job queue and the secret key.
    """
    settings = load_settings()
    parent = dest
    if dated:
        dest = ops_log.dated_dest(parent)
    try:
        with open_runtime(settings) as rt:
            result = backups.backup(rt, dest, with_objects=with_objects)
    except Exception as exc:
        # eakte doctor reports a failed last backup (issue 26)
        ops_log.record_backup(settings.data_dir, dest, ok=False, detail=str(exc)[:500])
        raise
    ops_log.record_backup(settings.data_dir, dest, ok=True)
    click.echo(f"backup:   {result.dest}")
    click.echo(f"database: {result.database}, schema {result.schema_revision}")
    click.echo(f"manifest: {result.objects} object(s), {result.object_bytes} bytes")
    if result.with_objects:
        click.echo(f"objects:  {result.files_copied} distinct file(s) copied and verified")
    if dated and keep:
        for old in ops_log.prune_dated(parent, keep):
            click.echo(f"removed:  {old} (older than the newest {keep})")


@click.command("restore")
@click.argument("src", type=click.Path(exists=True, file_okay=False, path_type=Path))
def restore_command(src: Path) -> None:
    """Rebuild a fresh installation from the backup in SRC.

    The installation is the one the EAKTE_* settings name (data dir, database, bucket). Its
    database must be empty, and when the backup carries the objects (--with-objects) so must
    its bucket: restore never merges into existing data, and says why it refuses. Objects
    are re-uploaded and checked against their sha256 (their S3 version ids are new; the
    database is updated to them) or, for a backup without objects, must already be in the
    bucket. Then the schema is brought up to this version, retention locks and legal holds
    are applied to the objects again, the search index is rebuilt and 'eakte verify' runs:
    the exit code is 0 only if it is clean. Do not run 'eakte serve' on it meanwhile.
    """
    settings = load_settings()
    settings.ensure_data_dir()
    with (
        DataDirLock(settings.data_dir, "serve"),
        open_runtime(settings, require_schema=False) as rt,
    ):
        result = restores.restore(rt, src, reapply_locks=_reapply_locks)
    click.echo(f"restored: backup of {result.backup_created_at} into {settings.data_dir}")
    click.echo(
        f"database: {result.database}, schema {result.schema_before} -> {result.schema_after}"
    )
    if result.with_objects:
        click.echo(f"objects:  {result.uploaded} uploaded and verified")
    else:
        click.echo(f"objects:  {result.checked_present} found in the bucket as listed")
    for problem in result.lock_problems:
        click.echo(f"locks:    not yet applied (the retention job retries): {problem}")
    click.echo(f"index:    {'rebuilt' if result.reindexed else 'not rebuilt (no indexer)'}")
    report = result.verify
    for finding in report.findings:
        click.echo(f"verify:   {finding.check}: {finding.subject}: {finding.problem}")
    counts = ", ".join(f"{n} {what}" for what, n in report.checked.items())
    click.echo(f"verify:   checked {counts}; {len(report.findings)} problem(s)")
    if not report.clean:
        raise VerifyFailed(f"the restored installation has {len(report.findings)} problem(s)")


def _reapply_locks(rt: Runtime) -> list[str]:
    """R25: retain-until and legal holds onto the re-uploaded versions, now rather than at
    the retention job's next run; what fails stays marked for that job."""
    from retention.holds import sync_holds
    from retention.locks import sync_object_locks

    problems: list[str] = []
    with rt.session() as session:
        while True:
            report = sync_object_locks(session, rt.store)
            problems.extend(report.failed)
            if report.cases == 0 or report.failed:
                break
        problems.extend(sync_holds(session, rt.store).failed)
    return problems


COMMANDS: list[click.Command] = [backup_command, restore_command]
