"""``eakte signatures check``: validate signed PDFs again (issue 25)."""

from __future__ import annotations

import click

from eakte.commands.common import load_settings, mark_command_line
from eakte.errors import BadInput
from eakte.ingest.confine import JobLimits
from eakte.ingest.signature_check import recheck, signed_documents
from eakte.models import Document
from eakte.runtime import open_runtime


@click.group()
def signatures() -> None:
    """Signatures of signed PDFs."""


@signatures.command("check")
@click.argument("document", required=False)
def check(document: str | None) -> None:
    """Validate the signatures of DOCUMENT (its UUID) again, or of every signed document.

    Uses the trust folder EAKTE_SIGNATURE_TRUST_DIR as it is now; without it nothing is
    trusted. Revocation is not checked online.
    """
    settings = load_settings()
    limits = JobLimits.from_settings(settings)
    with open_runtime(settings) as rt, rt.session() as session:
        mark_command_line(session)
        if document:
            found = session.query(Document).filter(Document.uuid == _uuid(document)).one_or_none()
            if found is None:
                raise BadInput(f"no document {document}")
            ids = [found.id]
        else:
            ids = list(signed_documents(session))
        for document_id in ids:
            uuid = session.get_one(Document, document_id).uuid
            results = recheck(
                session,
                rt.store,
                document_id,
                settings.signature_trust_dir,
                limits,
                settings.spool_dir(),
            )
            if not results:
                click.echo(f"{uuid}: no signatures")
            for result in results:
                changed = ", changed after signing" if result.modified_after_signing else ""
                qualified = ", qualified" if result.qualified else ""
                who = result.signer or "unknown signer"
                click.echo(
                    f"{uuid} {result.field_name}: {result.status.value} ({who}{changed}{qualified})"
                )
        click.echo(f"checked {len(ids)} document(s)")


def _uuid(text: str):
    import uuid

    try:
        return uuid.UUID(text)
    except ValueError:
        raise BadInput(f"not a document UUID: {text}") from None


COMMANDS: list[click.Command] = [signatures]
