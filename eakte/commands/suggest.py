"""``eakte suggest``: what recognition suggests for a document, its metadata and where to file
it, and one-step filing (issue 18)."""

from __future__ import annotations

import json

import click

from eakte.commands.common import acting_user, load_settings, tenant_option, user_option
from eakte.runtime import open_runtime
from eakte.services import suggestions


@click.command("suggest")
@click.argument("document", required=False)
@click.option("--file", "file_into", type=click.IntRange(1, 3), help="File into suggestion N.")
@click.option(
    "--accept",
    "accept",
    multiple=True,
    metavar="FIELD[=VALUE]",
    help="Accept a suggested field (title, letter_date, sender, doc_type), or give its value.",
)
@click.option("--train", is_flag=True, help="Retrain the tenant's filing model now.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@tenant_option
@user_option()
def suggest(document, file_into, accept, train, as_json, tenant, username):
    """Suggested title, letter date, sender and type of DOCUMENT (id or UUID), and the top
    three cases and file-plan nodes to file it in; --file N files it there."""
    with open_runtime(load_settings()) as rt, rt.session() as session:
        actor = acting_user(session, tenant, username)
        if train:
            row = suggestions.train(session, actor.tenant_id, force=True)
            click.echo(f"filing model: {row.note if row else 'too few filed documents'}")
        if document is None:
            if not train:
                raise click.UsageError("give a DOCUMENT (or --train)")
            return
        fields = suggestions.metadata_of(session, actor, document)
        if accept:
            suggested = {f.field: f.suggested for f in fields}
            values = {}
            for item in accept:
                name, _, value = item.partition("=")
                values[name] = value if "=" in item else suggested.get(name, "")
            suggestions.accept_metadata(session, actor, document, values)
            fields = suggestions.metadata_of(session, actor, document)
        found = suggestions.filing_for(session, actor, document)
        if file_into:
            if file_into > len(found.cases):
                raise click.BadParameter(f"there are {len(found.cases)} suggestions", "--file")
            chosen = found.cases[file_into - 1]
            suggestions.file_suggested(session, actor, document, chosen.case_uuid)
        if as_json:
            out = {"metadata": [f.as_dict() for f in fields], "filing": found.as_dict()}
            click.echo(json.dumps(out, ensure_ascii=False, indent=2))
        else:
            for f in fields:
                decided = "" if f.accepted is None else f"  (accepted: {f.accepted})"
                click.echo(f"{f.field:12} {f.suggested or '-'}{decided}")
            click.echo(f"cases (model trained on {found.model_documents} documents):")
            for n, c in enumerate(found.cases, 1):
                click.echo(f"  {n}. {c.file_reference}  {c.title}  [{c.node_code}] ({c.reason})")
            click.echo(
                "file-plan nodes: " + (", ".join(f"{n.code} {n.title}" for n in found.nodes) or "-")
            )
        if file_into:
            chosen = found.cases[file_into - 1]
            click.echo(f"filed into {chosen.file_reference}")


COMMANDS: list[click.Command] = [suggest]
