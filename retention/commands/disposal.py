"""``eakte retention due|past-due|propose|approve|reject|requests|execute|certificates``: the
disposal list (R8, R14), four-eyes requests (R9), destruction with certificates (R10, R11)."""

from __future__ import annotations

from pathlib import Path

import click

from eakte.audit_anchors import AnchorPolicy
from eakte.commands.common import (
    acting_user,
    code_option,
    confirm_second_factor,
    load_settings,
    password_option,
    tenant_option,
    user_option,
)
from eakte.runtime import open_runtime
from retention import certificates, disposal
from retention.commands.common import filter_options, retention_group
from retention.due import DueFilter, export_csv, iter_due, list_due
from retention.due import past_due as past_due_report
from retention.execution import execute_request


@retention_group.command("due")
@filter_options
@click.option("--csv", "csv_file", type=click.File("w", encoding="utf-8"), help="Write CSV.")
@click.option("--limit", type=click.IntRange(1), default=100, show_default=True)
@click.option("--offset", type=click.IntRange(0), default=0)
@tenant_option
@user_option()
def due(node, org_unit, closed_in, on, csv_file, limit, offset, tenant, username):
    """The disposal list (R8): closed cases past their retention end, oldest end first.

    Nothing is deleted by expiry; propose cases with `eakte retention propose`."""
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
    with open_runtime(load_settings()) as rt, rt.session() as session:
        actor = acting_user(session, tenant, username)
        rows = past_due_report(session, actor, grace_days=grace_days)
        for item in rows:
            row = item.row
            state = f"in request {row.request[:8]}" if row.request else "not proposed"
            click.echo(
                f"{item.days_overdue:6} days  {row.file_reference:24} {row.org_unit:6} {state}"
            )
        click.echo(f"{len(rows)} case(s) past due")


@retention_group.command("propose")
@click.argument("cases", nargs=-1)
@click.option("--all-due", is_flag=True, help="Every due case not held (with the filters).")
@filter_options
@click.option("--note", default="", help="A note for the approver.")
@tenant_option
@user_option()
def propose(cases, all_due, node, org_unit, closed_in, on, note, tenant, username):
    """Propose CASES (file references or UUIDs) for disposal (R9); another records officer
    approves. With --all-due: every due case that is not held and in no other request."""
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
@code_option
def approve(request, note, tenant, username, password_stdin, code):
    """Approve disposal REQUEST (UUID or its first 8 characters); not by its proposer."""
    settings = load_settings()
    with open_runtime(settings) as rt, rt.session() as session:
        actor = acting_user(session, tenant, username, password_stdin)
        # issue 19: the second factor again, as in the web
        confirm_second_factor(session, settings, actor, code, password_stdin, "disposal_approval")
        approved = disposal.approve(session, actor, request, note=note)
    click.echo(f"disposal request {approved.uuid} approved")


@retention_group.command("reject")
@click.argument("request")
@click.option("--reason", required=True, help="Why (logged).")
@tenant_option
@user_option()
def reject(request, reason, tenant, username):
    """Reject disposal REQUEST; not by its proposer."""
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
        for case_item in found.items:
            extra = f" archive {case_item.archive_id}" if case_item.archive_id else ""
            click.echo(
                f"  {case_item.case.file_reference:24} {case_item.action:8} "
                f"{case_item.state:12}{extra} {case_item.note}".rstrip()
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
