"""``eakte xdomea ...`` (issue 27): the archive's xdomea version, disposal messages of either
version, Abgabe to another authority, taking in containers from other systems, the file plan
as xdomea and its appraisal ahead of time. Adapters only: each command resolves the acting
user and calls a ``retention`` service."""

from __future__ import annotations

import json
from pathlib import Path

import click
from sqlalchemy import select

from eakte.commands.common import acting_user, load_settings, tenant_option, user_option
from eakte.errors import XdomeaRejected
from eakte.runtime import open_runtime
from retention import transfer as transfer31
from retention.execution import execute_request
from retention.models import DisposalRequest
from retention.xdomea4 import NAMESPACE, appraisal, exchange, takein, transfer
from retention.xdomea4.models import XdomeaImport, XdomeaMessage

OUT = click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    show_default=True,
    help="Directory for the containers and replies.",
)


@click.group("xdomea")
def xdomea_group() -> None:
    """xdomea exchange: disposal in 3.1.0 or 4.0.0 (per archive), Abgabe, taking in containers
    from other systems, the file plan (0301) and its appraisal (0511-0515)."""


@xdomea_group.command("archive")
@click.argument("name")
@click.option("--version", "version", type=click.Choice(transfer.VERSIONS), required=True)
@click.option("--max-mb", type=int, help="Split a 0503 above this many MB of documents.")
@tenant_option
@user_option()
def archive_command(name, version, max_mb, tenant, username):
    """Set up the receiving archive NAME: the xdomea version it reads."""
    with open_runtime(load_settings()) as rt, rt.session() as session:
        actor = acting_user(session, tenant, username)
        row = transfer.set_archive(
            session,
            actor,
            name,
            version=version,
            max_message_bytes=max_mb * 1024 * 1024 if max_mb else None,
        )
        click.echo(
            f"{row.name}: xdomea {row.xdomea_version}, split above {row.max_message_bytes} bytes"
        )


@xdomea_group.command("archives")
@tenant_option
@user_option()
def archives_command(tenant, username):
    """List the receiving archives and their xdomea version."""
    with open_runtime(load_settings()) as rt, rt.session() as session:
        actor = acting_user(session, tenant, username)
        for row in transfer.list_archives(session, actor):
            click.echo(f"{row.name}\t{row.xdomea_version}\t{row.max_message_bytes}")


@xdomea_group.command("export")
@click.argument("request")
@click.option("--message", type=click.Choice(["0501", "0503"]), required=True)
@click.option("--archive", required=True, help="The receiving archive (its version decides).")
@OUT
@tenant_option
@user_option()
def export_command(request, message, archive, out_dir, tenant, username):
    """Write the offer (0501) or the transfer (0503) of REQUEST in the archive's version."""
    out_dir.mkdir(parents=True, exist_ok=True)
    with open_runtime(load_settings()) as rt, rt.session() as session:
        actor = acting_user(session, tenant, username)
        version = transfer.version_for(session, actor.tenant_id, archive)
        if version == "3.1.0":
            if message == "0501":
                old = transfer31.export_offer(session, actor, request, out_dir, archive=archive)
            else:
                old = transfer31.export_transfer(
                    session, actor, rt.store, request, out_dir, archive=archive
                )
            paths, held = [old.path], old.held
        elif message == "0501":
            new = transfer.export_offer(session, actor, request, out_dir, archive=archive)
            paths, held = new.paths, new.held
        else:
            new = transfer.export_transfer(
                session, actor, rt.store, request, out_dir, archive=archive
            )
            paths, held = new.paths, new.held
    click.echo(f"xdomea {version}:")
    for path in paths:
        click.echo(f"  {path}")
    for reference in held:
        click.echo(f"not included, under legal hold: {reference}", err=True)


@xdomea_group.command("receive")
@click.argument("message_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--no-execute", is_flag=True, help="Do not destroy confirmed or V cases yet.")
@OUT
@tenant_option
@user_option()
def receive_command(message_file, no_execute, out_dir, tenant, username):
    """Read an answer: a 3.1.0 0502/0506, a 4.0.0 0502/0504/0505/0506/0507 (disposal),
    0402/0403 (Abgabe) or 0512/0513 (appraisal). Replies (0505, 0514, 0515) go to --out."""
    data = message_file.read_bytes()
    settings = load_settings()
    with open_runtime(settings) as rt, rt.session() as session:
        actor = acting_user(session, tenant, username)
        xml = data
        if data[:4] == b"PK\x03\x04":
            from retention.xdomea.reader import unpack

            xml = unpack(data, message_file.name)
        if NAMESPACE.encode() not in xml[:4096]:
            old = transfer31.receive(session, actor, data, name=message_file.name)
            process_id, kind = old.process_id, old.message_type
            click.echo(
                f"3.1.0 {kind}: {len(old.archived)} archived, {len(old.destroy)} to destroy, "
                f"{len(old.failed)} failed"
            )
            execute = old.destroy or kind == "0506"
        else:
            kind = _kind(xml)
            execute = False
            process_id = ""
            if kind in ("0402", "0403"):
                got = exchange.receive_answer(session, actor, xml, name=message_file.name)
                click.echo(f"{kind}: {len(got.taken)} taken in, {len(got.refused)} refused")
                for object_id, errors in got.refused.items():
                    click.echo(f"  refused {object_id}: {'; '.join(errors)}")
            elif kind in ("0512", "0513"):
                cat = appraisal.receive(session, actor, xml, name=message_file.name)
                click.echo(
                    f"{kind}: {len(cat.applied)} unit(s) appraised, {len(cat.unknown)} unknown"
                )
                for reply_kind, reply in cat.replies:
                    _reply(out_dir, f"{message_file.stem}_{reply_kind}.xml", reply)
            else:
                new = transfer.receive(session, actor, xml, name=message_file.name)
                process_id = new.process_id
                click.echo(
                    f"{kind}: {len(new.archived)} archived, {len(new.destroy)} to destroy, "
                    f"{len(new.failed)} failed (offered again)"
                )
                if new.reply:
                    _reply(out_dir, new.reply_name, new.reply)
                execute = bool(new.destroy) or kind == "0506"
        if execute and not no_execute and process_id:
            request_id = session.scalar(
                select(DisposalRequest.id).where(
                    DisposalRequest.tenant_id == actor.tenant_id,
                    DisposalRequest.xdomea_process_id == process_id,
                )
            )
            report = execute_request(
                session, actor, rt.store, request_id, data_dir=settings.data_dir
            )
            click.echo(f"{len(report.destroyed)} case(s) destroyed locally with a certificate")


def _kind(xml: bytes) -> str:
    from lxml import etree

    from retention.xdomea4.schema import message_type_of, parser

    try:
        return message_type_of(etree.fromstring(xml, parser()))
    except etree.XMLSyntaxError as exc:
        raise XdomeaRejected(f"not well-formed XML: {exc}") from None


def _reply(out_dir: Path, name: str, data: bytes) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / name).write_bytes(data)
    click.echo(f"reply written: {out_dir / name}")


@xdomea_group.command("messages")
@click.option("--process", "process_id", help="Only this ProzessID.")
@tenant_option
@user_option()
def messages_command(process_id, tenant, username):
    """The xdomea 4.0.0 messages sent and received, with their receipts."""
    with open_runtime(load_settings()) as rt, rt.session() as session:
        actor = acting_user(session, tenant, username)
        query = select(XdomeaMessage).where(XdomeaMessage.tenant_id == actor.tenant_id)
        if process_id:
            query = query.where(XdomeaMessage.process_id == process_id)
        for m in session.scalars(query.order_by(XdomeaMessage.id)):
            receipt = f" receipt {m.receipt_uuid}" if m.receipt_uuid else ""
            click.echo(
                f"{m.created_at:%Y-%m-%d %H:%M} {m.direction:3} {m.message_type} "
                f"{m.number}/{m.total} {m.process_id} {m.file_name}{receipt}"
            )


@xdomea_group.command("handover")
@click.argument("cases", nargs=-1, required=True)
@click.option("--to", "recipient", required=True, help="The receiving authority or system.")
@OUT
@tenant_option
@user_option()
def handover_command(cases, recipient, out_dir, tenant, username):
    """Write CASES (references or UUIDs) as an Abgabe 0401 container."""
    out_dir.mkdir(parents=True, exist_ok=True)
    with open_runtime(load_settings()) as rt, rt.session() as session:
        actor = acting_user(session, tenant, username)
        result = exchange.export_handover(
            session, actor, rt.store, list(cases), out_dir, recipient=recipient
        )
    click.echo(f"{result.path}  {len(result.cases)} case(s), {result.files} file(s)")


@xdomea_group.command("take-in")
@click.argument("container", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--node", required=True, help="File-plan node the cases go under.")
@OUT
@tenant_option
@user_option()
def take_in_command(container, node, out_dir, tenant, username):
    """Take in a 0401 or 0503 container from another system (checked completely first;
    run again after an interruption to continue). The 0402 goes to --out."""
    settings = load_settings()
    with open_runtime(settings) as rt, rt.session() as session:
        actor = acting_user(session, tenant, username)
        result = takein.take_in(
            session,
            actor,
            rt.store,
            container,
            node=node,
            settings=settings,
            enqueue=rt.jobs.enqueue,
        )
        if result.problems:
            for problem in result.problems:
                click.echo(f"problem: {problem}", err=True)
            raise XdomeaRejected(
                f"{container.name} refused with {len(result.problems)} problem(s); "
                "nothing was taken in"
            )
        for reference in result.cases:
            click.echo(f"taken in: {reference}")
        _reply(out_dir, result.reply_name, result.reply)


@xdomea_group.command("imports")
@tenant_option
@user_option()
def imports_command(tenant, username):
    """The containers taken in or refused, with their reports."""
    with open_runtime(load_settings()) as rt, rt.session() as session:
        actor = acting_user(session, tenant, username)
        for row in session.scalars(
            select(XdomeaImport)
            .where(XdomeaImport.tenant_id == actor.tenant_id)
            .order_by(XdomeaImport.id)
        ):
            click.echo(f"{row.created_at:%Y-%m-%d %H:%M} {row.state:9} {row.file_name}")
            for line in json.loads(row.report or "[]"):
                click.echo(f"  {line}")


@xdomea_group.command("plan-export")
@OUT
@tenant_option
@user_option()
def plan_export_command(out_dir, tenant, username):
    """The file plan as an xdomea 0301 container."""
    out_dir.mkdir(parents=True, exist_ok=True)
    with open_runtime(load_settings()) as rt, rt.session() as session:
        actor = acting_user(session, tenant, username)
        click.echo(appraisal.export_plan(session, actor, out_dir))


@xdomea_group.command("plan-import")
@click.argument("message_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--confirm", default="", help="The token a refusal named, to change existing nodes.")
@OUT
@tenant_option
@user_option()
def plan_import_command(message_file, confirm, out_dir, tenant, username):
    """Import an xdomea 0301 file plan (all or nothing, like the CSV import)."""
    with open_runtime(load_settings()) as rt, rt.session() as session:
        actor = acting_user(session, tenant, username)
        result = appraisal.import_plan(
            session, actor, message_file.read_bytes(), message_file.name, confirm=confirm
        )
        click.echo(f"{result.created} node(s) created, {result.updated} updated")
        if result.reply:
            _reply(out_dir, f"{message_file.stem}_0302.xml", result.reply)


@xdomea_group.command("plan-appraisal")
@click.option("--archive", required=True)
@OUT
@tenant_option
@user_option()
def plan_appraisal_command(archive, out_dir, tenant, username):
    """Send the file plan to the archive for appraisal (0511)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    with open_runtime(load_settings()) as rt, rt.session() as session:
        actor = acting_user(session, tenant, username)
        click.echo(appraisal.send_for_appraisal(session, actor, out_dir, archive=archive))


@xdomea_group.command("propose-appraisal")
@click.argument("request")
@click.option("--case", "case_reference", help="Set this case's proposal (with --decision).")
@click.option("--decision", type=click.Choice(appraisal.DECISIONS))
@tenant_option
@user_option()
def propose_appraisal_command(request, case_reference, decision, tenant, username):
    """Apply the archive's catalogue to REQUEST's items, or set one case's proposal."""
    with open_runtime(load_settings()) as rt, rt.session() as session:
        actor = acting_user(session, tenant, username)
        if case_reference:
            if not decision:
                raise click.UsageError("--case needs --decision")
            appraisal.set_item_appraisal(session, actor, request, case_reference, decision)
            click.echo(f"{case_reference}: {decision}")
            return
        for reference, proposal in appraisal.apply_to_request(session, actor, request).items():
            click.echo(f"{reference}: {proposal}")


COMMANDS: list[click.Command] = [xdomea_group]
