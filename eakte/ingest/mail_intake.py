"""A mail message at intake: the message one document, each attachment one of its own.

Every channel (upload, API, import, hot folder, and the IMAP intake of issue 17 through
``intake_message``) goes through ``run_intake``; for a message it calls
``take_in_attachments`` once the message is committed. Each attachment then runs through
``run_intake`` itself, with every check and bound a file has (an attachment that fails them
goes to quarantine, linked to the message), a nested message recursively up to
``MailLimits.max_nested_messages``.

The message comes first, its attachments after, each in its own transaction; an attachment's
source key is the message's identity plus its place in the message, and ``mail_message.complete``
is set when all are in. A crash in between is finished by the next run with the same source
(an import re-run, the mail fetched again): the message is found ``existing``, its original
read back, and each attachment taken in or found: no loss, no duplicate.
"""

from __future__ import annotations

import base64
import io
import logging
import tempfile
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from eakte.db import transaction
from eakte.ingest import mail, names
from eakte.ingest.reasons import Reason, Rejected
from eakte.models import Document, DocumentStatus, FileVersion, Tenant, User, VersionKind
from eakte.models.base import utcnow
from eakte.models.ingest import TransferNote
from eakte.models.mail import MailAttachment, MailMessage
from eakte.permissions import Action, can
from storage.blobstore import BlobStore

if TYPE_CHECKING:
    from eakte.config import Settings
    from eakte.ingest.intake_context import IntakeContext, IntakeResult

log = logging.getLogger(__name__)


def intake_message(session: Session, store: BlobStore, raw: bytes, ctx: IntakeContext):
    """One message (its raw RFC 822 bytes) through the intake: what the IMAP intake calls."""
    from eakte.ingest.intake import run_intake

    ctx.data = io.BytesIO(raw)
    return run_intake(session, store, ctx)


def every_result(result: IntakeResult):
    """The result and those of its attachments (and theirs): each document to process."""
    yield result
    for attachment in result.attachments:
        yield from every_result(attachment)


# ----------------------------------------------------------------------- the intake step


def check_message(session: Session, store: BlobStore, ctx: IntakeContext) -> None:
    """A step after ``check_content``: a message nested deeper than allowed is rejected; one
    whose Message-ID came in before with other bytes is noted (for those who may see it)."""
    inspection = ctx.inspection
    if ctx.rejection is not None or inspection is None or inspection.message is None:
        return
    limits = ctx.limits.mail_limits
    if ctx.mail_depth > limits.max_nested_messages:
        ctx.rejection = Rejected(
            Reason.mail_too_complex,
            f"messages are attached inside each other more than "
            f"{limits.max_nested_messages} levels deep",
        )
        return
    message_id = inspection.message.message_id
    if not message_id:
        return
    earlier = session.scalar(
        select(Document)
        .join(MailMessage, MailMessage.document_id == Document.id)
        .where(
            MailMessage.tenant_id == ctx.tenant.id,
            MailMessage.message_id == message_id,
            Document.sha256 != ctx.sha256,  # same bytes: the ordinary duplicate check
            Document.status != DocumentStatus.destroyed.value,
        )
        .order_by(Document.id)
        .limit(1)
    )
    if (
        earlier is not None
        and ctx.user is not None
        and can(session, ctx.user, Action.view, earlier)
    ):
        inspection.anomalies.append(
            f"the same Message-ID as document {earlier.uuid} (received with other headers)"
        )


# ------------------------------------------------------------------- after registration


def take_in_attachments(session: Session, store: BlobStore, ctx: IntakeContext) -> None:
    """If the intake's document is a message whose attachments are not all in: take them in."""
    result = ctx.result
    if result is None or result.document is None:
        return
    document = result.document
    if ctx.inspection is not None:  # read in this intake: a message, or no message at all
        message = ctx.inspection.message
    else:  # found taken in before (a re-run): perhaps a message whose attachments are not
        message = _unfinished(session, store, ctx, document)
    if message is None:
        return
    _record_message(session, ctx, document, message)
    for attachment in message.documents:
        child = _attachment_context(ctx, document, attachment)
        outcome = _run(session, store, child)
        _link(session, document, attachment, outcome)
        result.attachments.append(outcome)
    with transaction(session):
        row = session.get_one(MailMessage, document.id)  # recorded by _record_message above
        row.complete = True


def _unfinished(
    session: Session, store: BlobStore, ctx: IntakeContext, document: Document
) -> mail.Message | None:
    """A message taken in before (a re-run) whose attachments did not all follow: read back."""
    row = session.execute(
        select(FileVersion.mime, FileVersion.s3_key, FileVersion.s3_version_id, FileVersion.sha256)
        .where(
            FileVersion.document_id == document.id,
            FileVersion.kind == VersionKind.original.value,
        )
        .order_by(FileVersion.id)
        .limit(1)
    ).one_or_none()
    if row is None or row.mime not in mail.KINDS:
        return None
    done = session.scalar(
        select(MailMessage.complete).where(MailMessage.document_id == document.id)
    )
    session.rollback()  # end the read before talking to storage
    if done:
        return None
    with tempfile.TemporaryDirectory(dir=ctx.spool_dir) as work:
        local = Path(work) / "message"
        store.get_to_file(row.s3_key, local, row.s3_version_id, row.sha256)
        try:
            return mail.parse(local.read_bytes(), mail.KINDS[row.mime], ctx.limits.mail_limits)
        except Rejected as exc:  # accepted before, beyond a limit now: keep what is there
            log.warning("message %s cannot be read again: %s", document.uuid, exc.detail)
    with transaction(session):  # nothing more can be taken from it: not tried again
        recorded = session.get(MailMessage, document.id)
        if recorded is not None:
            recorded.complete = True
    return None


def record_message(session: Session, ctx: IntakeContext, document: Document) -> None:
    """In the transaction that registers a message: its mail data, ``complete`` not yet
    (so a crash before its attachments are in is found by ``finish_messages``)."""
    message = ctx.inspection.message if ctx.inspection is not None else None
    if message is not None:
        session.add(_row(ctx, document, message))


def _row(ctx: IntakeContext, document: Document, message: mail.Message) -> MailMessage:
    return MailMessage(
        document_id=document.id,
        tenant_id=ctx.tenant.id,
        message_id=message.message_id[:500],
        subject=message.subject[:500],
        sender=message.sender[:500],
        sent_at=message.date,
        attachment_count=len(message.documents),
        complete=False,
    )


def _record_message(
    session: Session, ctx: IntakeContext, document: Document, message: mail.Message
) -> None:
    """The mail data of a message registered without it (a parallel run's race)."""
    if session.get(MailMessage, document.id) is not None:
        session.rollback()
        return
    try:
        with transaction(session):
            session.add(_row(ctx, document, message))
    except IntegrityError:
        session.rollback()  # recorded a moment ago by a parallel run


def _attachment_context(
    ctx: IntakeContext, document: Document, attachment: mail.Attachment
) -> IntakeContext:
    metadata = replace(ctx.metadata, title="", doc_type="")
    return replace(
        ctx,
        data=io.BytesIO(attachment.data),
        filename_raw=names.name_bytes(attachment.filename or f"attachment-{attachment.index}"),
        metadata=metadata,
        source=f"{ctx.source} › {ctx.filename} › {attachment.filename}"[:300],
        # derived from the message's identity (its source key, when it has one): a re-run
        # finds each attachment where the crashed run left it
        source_key=f"mail:{document.uuid}/{attachment.index}",
        mail_depth=ctx.mail_depth + 1,
        rejection=None,
        # what the steps learn about a file: an attachment starts without any of it
        filename="",
        uuid=None,
        path=None,
        spooled=False,
        size=0,
        sha256="",
        mime="",
        inspection=None,
        duplicate_of=None,
        duplicate_seen=False,
        stored=None,
        text_pages=None,
        result=None,
    )


def _run(session: Session, store: BlobStore, child: IntakeContext) -> IntakeResult:
    from eakte.ingest.intake import run_intake

    return run_intake(session, store, child)


def _link(
    session: Session, message: Document, attachment: mail.Attachment, outcome: IntakeResult
) -> None:
    """The attachment's row: which document it became, or which quarantine entry."""
    exists = session.scalar(
        select(MailAttachment.id).where(
            MailAttachment.message_document_id == message.id,
            MailAttachment.part_index == attachment.index,
        )
    )
    if exists is not None:
        session.rollback()
        return
    try:
        with transaction(session):
            session.add(
                MailAttachment(
                    message_document_id=message.id,
                    part_index=attachment.index,
                    filename=names.sanitise(names.name_bytes(attachment.filename))[:300],
                    document_id=outcome.document.id if outcome.document else None,
                    quarantined_file_id=outcome.quarantined.id if outcome.quarantined else None,
                )
            )
    except IntegrityError:
        session.rollback()  # linked a moment ago by a parallel run


# ---------------------------------------------------------------------------- recovery


def finish_messages(
    session: Session,
    store: BlobStore,
    settings: Settings,
    *,
    enqueue=None,
    older_than: timedelta = timedelta(minutes=10),
    limit: int = 50,
) -> int:
    """Messages whose attachments a crash left not all taken in, and that no re-run will
    finish (an upload has no source key to be found by): their attachments taken in now, as
    the message's intake would have (its submitter, inbox or process, method). Only messages
    older than ``older_than``, so an intake still at work is left alone. Returns how many."""
    from eakte.ingest.intake_context import DocumentMetadata, IntakeContext, IntakeResult, Outcome
    from eakte.ingest.validate import Limits

    rows = session.execute(
        select(Document, TransferNote)
        .join(MailMessage, MailMessage.document_id == Document.id)
        .join(TransferNote, TransferNote.document_id == Document.id)
        .where(
            MailMessage.complete.is_(False),
            Document.created_at < utcnow() - older_than,
            Document.status != DocumentStatus.destroyed.value,
        )
        .order_by(Document.id, TransferNote.id)
        .limit(limit)
    ).all()
    finished = 0
    for document, note in rows:
        raw_name = base64.b64decode(note.filename_raw) if note.filename_raw else b"message"
        ctx = IntakeContext(
            tenant=session.get_one(Tenant, document.tenant_id),
            user=session.get(User, note.received_by_id) if note.received_by_id else None,
            submitted_by=note.received_by,
            data=None,
            filename_raw=raw_name,
            metadata=DocumentMetadata(
                correspondent=document.correspondent, received_date=document.received_date
            ),
            inbox_org_unit_id=document.inbox_org_unit_id,
            process_id=document.process_id,
            method=note.method,
            source=note.source[:300],
            source_key=document.source_key,
            scan_batch_id=document.scan_batch_id,
            limits=Limits.from_settings(settings),
            spool_dir=settings.spool_dir(),
            mail_depth=_depth(session, document.id),
            filename=names.sanitise(raw_name),
        )
        ctx.result = IntakeResult(Outcome.existing, document=document)
        try:
            take_in_attachments(session, store, ctx)
        except Exception:  # the next round tries again; the others go on
            session.rollback()
            log.warning("message %s: attachments not finished", document.uuid, exc_info=True)
            continue
        finished += 1
        log.info("message %s: attachments finished after an interruption", document.uuid)
        for each in every_result(ctx.result):
            if enqueue is not None and each.outcome in (Outcome.accepted, Outcome.duplicate):
                enqueue(each.document.id, ready=each.document.status == DocumentStatus.ready)
    return finished


def _depth(session: Session, document_id: int) -> int:
    """How many messages this document is attached inside."""
    depth, current = 0, document_id
    while depth < 10:
        parent = session.scalar(
            select(MailAttachment.message_document_id).where(MailAttachment.document_id == current)
        )
        if parent is None:
            break
        depth, current = depth + 1, parent
    return depth
