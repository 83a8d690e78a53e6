"""``eakte retention ...`` and ``eakte hold ...`` (issue 6): schedules, the disposal list,
four-eyes disposal, xdomea transfer to the archive, legal holds.

Adapters only: each command resolves the acting user and calls a ``retention`` service; typed
errors propagate to the edge (``eakte.cli``). Records officers act with ``--user NAME``.
"""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import click

from eakte.audit_anchors import AnchorPolicy
from eakte.commands.common import (
    acting_user,
    load_settings,
    password_option,
    tenant_option,
    user_option,
)
from eakte.runtime import open_runtime


def _date(ctx, param, value):
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date (YYYY-MM-DD)") from None


@click.group("retention")
def retention_group() -> None:
    """Retention schedules and disposal (Aussonderung).

    A case is due from 1 January after its closure year plus its schedule's period. Due cases
    are listed (`due`), proposed by one records officer (`propose`), approved by another
    (`approve`), then destroyed with a certificate (`execute`) or offered and transferred to
    the archive with xdomea (`export-xdomea`, `receive`). Legal holds (`eakte hold`) stop all
    of it.
    """


# ------------------------------------------------------------------ schedules


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
    from retention import schedules

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
    from retention import schedules

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
    from retention import schedules

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
    from retention import schedules

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
    from retention import schedules

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
    from eakte.services import cases
    from retention import schedules

    with open_runtime(load_settings()) as rt, rt.session() as session:
        actor = acting_user(session, tenant, username)
        found = schedules.find_schedule(session, actor, name)
        changed = cases.override_schedule(session, actor, case, found.id, reason)
        end = changed.retention_end.isoformat() if changed.retention_end else "-"
    click.echo(f"{changed.file_reference}: schedule {name!r}, retention end {end}")


@retention_group.command("event-date")
@click.argument("case")
@click.argument("day", callback=_date, required=False)
@tenant_option
@user_option()
def event_date(case, day, tenant, username):
    """Enter the date of the event that starts CASE's clock (e.g. a permit's expiry)."""
    from retention import schedules

    with open_runtime(load_settings()) as rt, rt.session() as session:
        actor = acting_user(session, tenant, username)
        changed = schedules.set_event_date(session, actor, case, day)
        end = changed.retention_end.isoformat() if changed.retention_end else "-"
    click.echo(f"{changed.file_reference}: event {day or '-'}, retention end {end}")


# ----------------------------------------------------------- the disposal list


def _filter_options(fn):
    for option in reversed(
        [
            click.option("--node", help="File-plan code; the nodes beneath count too."),
            click.option("--org-unit", help="Org unit code; the units beneath count too."),
            click.option("--closed-in", type=int, help="Closure year."),
            click.option("--on", "on", callback=_date, help="Due on this day (default today)."),
        ]
    ):
        fn = option(fn)
    return fn


@retention_group.command("due")
@_filter_options
@click.option("--csv", "csv_file", type=click.File("w", encoding="utf-8"), help="Write CSV.")
@click.option("--limit", type=click.IntRange(1), default=100, show_default=True)
@click.option("--offset", type=click.IntRange(0), default=0)
@tenant_option
@user_option()
def due(node, org_unit, closed_in, on, csv_file, limit, offset, tenant, username):
    """The disposal list (R8): closed cases past their retention end, oldest end first.

    Nothing is deleted by expiry; propose cases with `eakte retention propose`."""
    from retention.due import DueFilter, export_csv, list_due

    flt = DueFilter(node=node, org_unit=org_unit, closure_year=closed_in, on=on)
    with open_runtime(load_settings()) as rt, rt.session() as session:
        actor = acting_user(session, tenant, username)
        if csv_file is not None:
            count = export_csv(session, actor, csv_file, flt)
            click.echo(f"{count} due case(s) written to {csv_file.name}", err=True)
            return
        page = list_due(session, actor, flt, limit=limit, offset=offset)
        for row in page.rows:
            flags = " ".join(f for f in ("HELD" if row.held else "", row.request[:8]) if f)
            click.echo(
                f"{row.retention_end}  {row.file_reference:24} {row.action} {row.node:10} "
                f"{row.title[:50]} {flags}".rstrip()
            )
        click.echo(f"{page.total} case(s) due; showing {len(page.rows)} from {offset + 1}")


@retention_group.command("past-due")
@click.option("--grace-days", type=click.IntRange(0), default=0, show_default=True)
@tenant_option
@user_option()
def past_due(grace_days, tenant, username):
    """Cases past their retention end, neither disposed of nor held (R14).

    Retention is also a maximum: what is listed here should be disposed of."""
    from retention.due import past_due as report

    with open_runtime(load_settings()) as rt, rt.session() as session:
        actor = acting_user(session, tenant, username)
        rows = report(session, actor, grace_days=grace_days)
        for item in rows:
            row = item.row
            state = f"in request {row.request[:8]}" if row.request else "not proposed"
            click.echo(
                f"{item.days_overdue:6} days  {row.file_reference:24} {row.org_unit:6} {state}"
            )
        click.echo(f"{len(rows)} case(s) past due")


# ----------------------------------------------------------- disposal requests


@retention_group.command("propose")
@click.argument("cases", nargs=-1)
@click.option("--all-due", is_flag=True, help="Every due case not held (with the filters).")
@_filter_options
@click.option("--note", default="", help="A note for the approver.")
@tenant_option
@user_option()
def propose(cases, all_due, node, org_unit, closed_in, on, note, tenant, username):
    """Propose CASES (file references or UUIDs) for disposal (R9); another records officer
    approves. With --all-due: every due case that is not held and in no other request."""
    from retention import disposal
    from retention.due import DueFilter, iter_due

    with open_runtime(load_settings()) as rt, rt.session() as session:
        actor = acting_user(session, tenant, username)
        chosen = list(cases)
        if all_due:
            flt = DueFilter(node=node, org_unit=org_unit, closure_year=closed_in, on=on)
            chosen += [
                r.file_reference for r in iter_due(session, actor, flt, held=False) if not r.request
            ]
        if not chosen:
            raise click.UsageError("name the cases, or use --all-due")
        request = disposal.propose(session, actor, chosen, note=note)
        click.echo(f"disposal request {request.uuid} proposed with {len(request.items)} case(s)")


@retention_group.command("approve")
@click.argument("request")
@click.option("--note", default="", help="Logged with the approval.")
@tenant_option
@user_option()
@password_option
def approve(request, note, tenant, username, password_stdin):
    """Approve disposal REQUEST (UUID or its first 8 characters); not by its proposer."""
    from retention import disposal

    with open_runtime(load_settings()) as rt, rt.session() as session:
        actor = acting_user(session, tenant, username, password_stdin)
        approved = disposal.approve(session, actor, request, note=note)
    click.echo(f"disposal request {approved.uuid} approved")


@retention_group.command("reject")
@click.argument("request")
@click.option("--reason", required=True, help="Why (logged).")
@tenant_option
@user_option()
def reject(request, reason, tenant, username):
    """Reject disposal REQUEST; not by its proposer."""
    from retention import disposal

    with open_runtime(load_settings()) as rt, rt.session() as session:
        actor = acting_user(session, tenant, username)
        rejected = disposal.reject(session, actor, request, reason=reason)
    click.echo(f"disposal request {rejected.uuid} rejected")


@retention_group.command("requests")
@click.argument("request", required=False)
@tenant_option
@user_option()
def requests(request, tenant, username):
    """List disposal requests, or show REQUEST with its cases."""
    from retention import disposal

    with open_runtime(load_settings()) as rt, rt.session() as session:
        actor = acting_user(session, tenant, username)
        if request is None:
            for item in disposal.list_requests(session, actor):
                click.echo(
                    f"{item.uuid}  {item.status:9} {len(item.items):5} case(s)  "
                    f"{item.proposed_at:%Y-%m-%d}  {item.note}"
                )
            return
        found = disposal.get_request(session, actor, request)
        click.echo(f"{found.uuid}  {found.status}  xdomea process {found.xdomea_process_id}")
        for item in found.items:
            extra = f" archive {item.archive_id}" if item.archive_id else ""
            click.echo(
                f"  {item.case.file_reference:24} {item.action:8} {item.state:12}{extra} "
                f"{item.note}".rstrip()
            )


@retention_group.command("execute")
@click.argument("request")
@click.option("--queue", is_flag=True, help="Hand it to the workers instead of running now.")
@tenant_option
@user_option()
@password_option
def execute(request, queue, tenant, username, password_stdin):
    """Execute approved disposal REQUEST: destroy its due cases with a certificate each
    (R10, R11). Safe to run again: it resumes where an interrupted run stopped; cases under a
    legal hold are skipped until the hold is released."""
    from retention import disposal
    from retention.execution import execute_request

    settings = load_settings()
    with open_runtime(settings) as rt, rt.session() as session:
        actor = acting_user(session, tenant, username, password_stdin)
        if queue:
            found = disposal.get_request(session, actor, request)
            rt.jobs.request_disposal(found.id, actor.id)
            click.echo(f"disposal request {found.uuid} queued")
            return
        report = execute_request(
            session,
            actor,
            rt.store,
            request,
            data_dir=settings.data_dir,
            anchors=AnchorPolicy.from_settings(settings),
        )
    click.echo(
        f"{len(report.destroyed)} destroyed, {len(report.held)} held, "
        f"{len(report.waiting)} waiting for the archive; {report.certificates} certificate(s)"
        + ("; request completed" if report.completed else "")
    )
    for reference in report.held:
        click.echo(f"held: {reference}", err=True)


@retention_group.command("certificates")
@click.option("--case", help="Only the certificate of this case.")
@click.option("--pdf", type=click.Path(dir_okay=False, path_type=Path), help="Save its PDF.")
@tenant_option
@user_option()
def certificates_cmd(case, pdf, tenant, username):
    """List destruction certificates (R11); with --case and --pdf save the PDF."""
    from retention import certificates

    with open_runtime(load_settings()) as rt, rt.session() as session:
        actor = acting_user(session, tenant, username)
        found = certificates.list_certificates(session, actor, case=case)
        for item in found:
            click.echo(
                f"{item.uuid}  {item.destroyed_at:%Y-%m-%d %H:%M}  {item.file_reference:24} "
                f"{item.proposer}/{item.approver}  {item.title[:40]}"
            )
        if pdf is not None:
            if len(found) != 1:
                raise click.UsageError("--pdf needs --case naming one destroyed case")
            rt.store.get_to_file(
                found[0].pdf_key, pdf, found[0].pdf_version_id, found[0].pdf_sha256
            )
            click.echo(f"saved {pdf}")


# ---------------------------------------------------------------- the archive


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
    from retention import transfer

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
    from retention import transfer
    from retention.execution import execute_request

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
    from sqlalchemy import select

    from eakte.models.retention import DisposalRequest

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
    from retention.holds import sync_holds
    from retention.locks import sync_object_locks

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
    from retention.floor import extend_floors

    with open_runtime(load_settings()) as rt, rt.session() as session:
        report = extend_floors(session, rt.store)
    click.echo(f"{report.extended} version(s) locked for another floor period")
    for problem in report.failed:
        click.echo(f"failed: {problem}", err=True)


# ---------------------------------------------------------------- legal holds


@click.group("hold")
def hold_group() -> None:
    """Legal holds (R12): freeze a case, process or file-plan node and all beneath it.

    While a hold stands nothing beneath it can be changed, destroyed or transferred, by any
    role; several holds may apply at once; each release is logged."""


@hold_group.command("add")
@click.option("--case", "case_ref", help="File reference or UUID of the case.")
@click.option("--process", "process_ref", help="UUID (or id) of the process.")
@click.option("--node", help="File-plan code; covers every node and case beneath.")
@click.option("--reason", required=True, help="Why, e.g. the proceedings.")
@click.option("--authority", required=True, help="Who ordered it, e.g. the court and docket.")
@tenant_option
@user_option()
def hold_add(case_ref, process_ref, node, reason, authority, tenant, username):
    """Place a legal hold on exactly one of --case, --process or --node."""
    from retention import holds

    targets = [
        (t, v) for t, v in (("case", case_ref), ("process", process_ref), ("node", node)) if v
    ]
    if len(targets) != 1:
        raise click.UsageError("give exactly one of --case, --process or --node")
    ((target_type, target),) = targets
    with open_runtime(load_settings()) as rt, rt.session() as session:
        actor = acting_user(session, tenant, username)
        hold = holds.place_hold(
            session, actor, target_type, target, reason=reason, authority=authority, store=rt.store
        )
        pending = " (S3 legal holds pending: retried by the workers)" if hold.s3_pending else ""
    click.echo(f"hold {hold.uuid} placed on {target_type} {target}{pending}")


@hold_group.command("release")
@click.argument("hold")
@click.option("--reason", required=True, help="Why the hold ends (logged).")
@tenant_option
@user_option()
@password_option
def hold_release(hold, reason, tenant, username, password_stdin):
    """Release HOLD (UUID); other holds over the same objects stay in force."""
    from retention import holds

    with open_runtime(load_settings()) as rt, rt.session() as session:
        actor = acting_user(session, tenant, username, password_stdin)
        released = holds.release_hold(session, actor, hold, reason=reason, store=rt.store)
    click.echo(f"hold {released.uuid} released")


@hold_group.command("list")
@click.option("--all", "include_released", is_flag=True, help="Include released holds.")
@tenant_option
@user_option()
def hold_list(include_released, tenant, username):
    """List the active legal holds."""
    from retention import holds

    with open_runtime(load_settings()) as rt, rt.session() as session:
        actor = acting_user(session, tenant, username)
        for item in holds.list_holds(session, actor, include_released=include_released):
            state = f"released {item.released_at:%Y-%m-%d}" if item.released_at else "active"
            click.echo(
                f"{item.uuid}  {state:19} {holds.describe_target(session, item):30} "
                f"{item.authority}: {item.reason}"
            )


COMMANDS: list[click.Command] = [retention_group, hold_group]
