"""``eakte retention export-xdomea|receive|sync-locks|extend-floors``: the xdomea exchange with
the archive (R13) and the S3 locks (R12, R25) on demand."""

from __future__ import annotations

from pathlib import Path

import click
from sqlalchemy import select

from eakte.audit_anchors import AnchorPolicy
from eakte.commands.common import acting_user, load_settings, tenant_option, user_option
from eakte.runtime import open_runtime
from retention import transfer
from retention.commands.common import retention_group
from retention.execution import execute_request
from retention.floor import extend_floors
from retention.holds import sync_holds
from retention.locks import sync_object_locks
from retention.models import DisposalRequest


@retention_group.command("export-xdomea")
@click.argument("request")
@click.option(
    "--message",
    type=click.Choice(["0501", "0503"]),
    required=True,
    help="0501: offer list (metadata); 0503: transfer package with the files.",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    show_default=True,
    help="Directory for the ZIP.",
)
@click.option("--archive", default="Archiv", show_default=True, help="The receiving archive.")
@tenant_option
@user_option()
def export_xdomea(request, message, out_dir, archive, tenant, username):
    """Write the xdomea 3.1.0 offer list (0501) or transfer package (0503) of REQUEST (R13)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    with open_runtime(load_settings()) as rt, rt.session() as session:
        actor = acting_user(session, tenant, username)
        if message == "0501":
            result = transfer.export_offer(session, actor, request, out_dir, archive=archive)
        else:
            result = transfer.export_transfer(
                session, actor, rt.store, request, out_dir, archive=archive
            )
    click.echo(f"{result.path}  {len(result.cases)} case(s), {result.files} file(s)")
    click.echo(f"sha256 {result.sha256}")
    for reference in result.held:
        click.echo(f"not included, under legal hold: {reference}", err=True)


@retention_group.command("receive")
@click.argument("message_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--no-execute", is_flag=True, help="Do not destroy the confirmed cases yet.")
@tenant_option
@user_option()
def receive(message_file, no_execute, tenant, username):
    """Read the archive's appraisal (0502) or import confirmation (0506), as XML or ZIP.

    Cases the archive confirmed as taken over are marked transferred with its identifier and
    then destroyed here with a certificate; cases appraised V are destroyed. A malformed or
    foreign message is refused and changes nothing."""
    settings = load_settings()
    with open_runtime(settings) as rt, rt.session() as session:
        actor = acting_user(session, tenant, username)
        result = transfer.receive(session, actor, message_file.read_bytes(), name=message_file.name)
        click.echo(
            f"{result.message_type} for process {result.process_id}: "
            f"{len(result.archived)} to/at the archive, {len(result.destroy)} to destroy, "
            f"{len(result.failed)} not taken over"
        )
        if not no_execute and (result.destroy or result.message_type == "0506"):
            request = _request_of(session, actor, result.process_id)
            report = execute_request(
                session,
                actor,
                rt.store,
                request,
                data_dir=settings.data_dir,
                anchors=AnchorPolicy.from_settings(settings),
            )
            click.echo(f"{len(report.destroyed)} case(s) destroyed locally with a certificate")


def _request_of(session, actor, process_id: str) -> int:

    return session.scalar(
        select(DisposalRequest.id).where(
            DisposalRequest.tenant_id == actor.tenant_id,
            DisposalRequest.xdomea_process_id == process_id,
        )
    )


@retention_group.command("sync-locks")
def sync_locks():
    """Apply pending S3 retain-until dates and legal holds now (the workers do it every five
    minutes; idempotent)."""
    with open_runtime(load_settings()) as rt, rt.session() as session:
        locked = sync_object_locks(session, rt.store)
        while locked.cases and not locked.failed:  # a batch at a time until none is pending
            more = sync_object_locks(session, rt.store)
            if not more.cases:
                break
            locked.cases += more.cases
            locked.versions_locked += more.versions_locked
            locked.failed += more.failed
        held = sync_holds(session, rt.store)
    click.echo(
        f"{locked.cases} case(s) locked ({locked.versions_locked} versions), "
        f"{held.holds} hold(s) synced ({held.versions_changed} versions)"
    )
    for problem in [*locked.failed, *held.failed]:
        click.echo(f"failed: {problem}", err=True)


@retention_group.command("extend-floors")
def extend_floors_command():
    """Extend the COMPLIANCE floor of every live record's version that comes within a quarter
    of EAKTE_MIN_RETENTION_DAYS (the workers do it nightly; idempotent)."""
    with open_runtime(load_settings()) as rt, rt.session() as session:
        report = extend_floors(session, rt.store)
    click.echo(f"{report.extended} version(s) locked for another floor period")
    for problem in report.failed:
        click.echo(f"failed: {problem}", err=True)
