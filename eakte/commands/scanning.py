"""The scanning desk's commands: ``eakte batch``, ``eakte quarantine``, ``eakte retry``
(issue 4, R15-R17)."""

from __future__ import annotations

from pathlib import Path

import click

from eakte.commands.common import (
    acting_user,
    load_settings,
    tenant_option,
    user_option,
)
from eakte.runtime import open_runtime
from eakte.services import intake as intake_service
from eakte.services import page_quality, scanning


@click.group("batch")
def batch_group() -> None:
    """Scan batches: show, pass or fail the quality check, replace a page (R15-R17)."""


@batch_group.command("show")
@click.argument("name")
@tenant_option
@user_option()
def batch_show(name, tenant, username):
    """Show scan batch NAME: who scanned, profile, pages, documents by status, QC."""
    with open_runtime(load_settings()) as rt, rt.session() as session:
        actor = acting_user(session, tenant, username)
        found = scanning.batch_summary(session, actor, name)
        b = found.batch
        for label, value in [
            ("batch", b.name),
            ("operator", b.operator),
            ("device", b.device or "-"),
            ("profile", f"{b.dpi or '-'} dpi, {b.colour_mode or '-'}"),
            ("scanned", b.scanned_at.isoformat(timespec="minutes") if b.scanned_at else "-"),
            ("pages", b.page_count),
            (
                "documents",
                ", ".join(f"{n} {s}" for s, n in sorted(found.documents.items())) or "none",
            ),
            ("quarantined", found.quarantined),
            ("quality check", f"{b.qc_status}{' ' + b.qc_note if b.qc_note else ''}"),
        ]:
            click.echo(f"{label:14} {value}")
        _show_page_quality(session, b)


def _show_page_quality(session, batch) -> None:
    """Recognition quality per page (issue 18): the pages below the thresholds, worst first."""
    found = page_quality.summary(session, batch)
    click.echo(
        f"{'recognition':14} {found.pages} pages assessed, {found.low} below the thresholds "
        f"open, {found.accepted} accepted, {found.rescanned} re-scanned"
    )
    for row in page_quality.batch_pages(session, batch, only_low=True):
        confidence = "-" if row.confidence is None else f"{row.confidence:.0f}"
        share = "-" if row.dictionary_share is None else f"{row.dictionary_share:.0%}"
        click.echo(
            f"  low: {row.document_uuid} page {row.page}: confidence {confidence}, "
            f"dictionary words {share} ({row.title})"
        )


@batch_group.command("accept-page")
@click.argument("document")
@click.argument("page", type=click.IntRange(1))
@click.option("--note", default="", help="Why the page is good enough as it is (logged).")
@tenant_option
@user_option()
def batch_accept_page(document, page, note, tenant, username):
    """Accept PAGE of DOCUMENT although its recognition is below the thresholds (issue 18)."""
    with open_runtime(load_settings()) as rt, rt.session() as session:
        actor = acting_user(session, tenant, username)
        page_quality.accept_page(session, actor, document, page, note)
    click.echo(f"document {document}: page {page} accepted")


@batch_group.command("pass")
@click.argument("name")
@click.option("--note", default="", help="What was checked.")
@tenant_option
@user_option()
def batch_pass(name, note, tenant, username):
    """Record that you checked batch NAME and its quality is good (R17)."""
    with open_runtime(load_settings()) as rt, rt.session() as session:
        actor = acting_user(session, tenant, username)
        scanning.pass_qc(session, actor, name, note)
    click.echo(f"batch {name!r}: quality check passed")


@batch_group.command("fail")
@click.argument("name")
@click.option("--note", required=True, help="What is wrong (which documents, which pages).")
@tenant_option
@user_option()
def batch_fail(name, note, tenant, username):
    """Record that batch NAME failed the quality check; then replace the bad pages."""
    with open_runtime(load_settings()) as rt, rt.session() as session:
        actor = acting_user(session, tenant, username)
        scanning.fail_qc(session, actor, name, note)
    click.echo(f"batch {name!r}: quality check failed")


@batch_group.command("replace-page")
@click.argument("document")
@click.argument("page", type=click.IntRange(1))
@click.argument("rescan", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--reason", required=True, help="Why the page is replaced (logged).")
@tenant_option
@user_option()
def batch_replace_page(document, page, rescan, reason, tenant, username):
    """Replace PAGE of DOCUMENT (id or UUID) by the re-scan RESCAN (an image or one-page
    PDF); the document is processed again, the old version stays (R17)."""

    settings = load_settings()
    with open_runtime(settings) as rt, rt.session() as session:
        actor = acting_user(session, tenant, username)
        doc = scanning.replace_page(
            session,
            actor,
            rt.store,
            document,
            page,
            rescan,
            reason=reason,
            settings=settings,
            enqueue=rt.jobs.enqueue,
        )
    click.echo(f"document {doc.uuid}: page {page} replaced; processing again")


@click.command("quarantine")
@click.option("--all", "show_all", is_flag=True, help="Also resolved entries.")
@tenant_option
@user_option()
def quarantine_list(show_all, tenant, username):
    """List quarantined files with their reasons."""
    with open_runtime(load_settings()) as rt, rt.session() as session:
        actor = acting_user(session, tenant, username)
        for entry in intake_service.list_quarantine(
            session, actor, state=None if show_all else "open"
        ):
            when = entry.created_at.isoformat(timespec="seconds")
            click.echo(
                f"{entry.uuid}  {when}  {entry.reason_code:18} {entry.filename}: {entry.reason}"
            )


@click.command("retry")
@click.argument("document")
@tenant_option
@user_option()
def retry(document, tenant, username):
    """Process a failed DOCUMENT (id or UUID) again."""

    with open_runtime(load_settings()) as rt, rt.session() as session:
        actor = acting_user(session, tenant, username)
        doc = intake_service.retry_document(session, actor, document, enqueue=rt.jobs.enqueue)
    click.echo(f"document {doc.uuid}: queued again")


COMMANDS: list[click.Command] = [batch_group, quarantine_list, retry]
