"""A message document and its attachments, as the document page and the API show them; and
filing a message files its attachments along."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from eakte.models import Document, Process, User
from eakte.models.ingest import QuarantinedFile
from eakte.models.mail import MailAttachment, MailMessage
from eakte.permissions import Action, can


@dataclass(frozen=True)
class LinkedAttachment:
    index: int
    filename: str
    document: Document | None  # None: quarantined, or not visible to the reader
    quarantined: QuarantinedFile | None = None
    reason_code: str = ""


@dataclass
class MailLinks:
    message: MailMessage | None = None  # this document is a message: its mail data
    attachments: list[LinkedAttachment] = field(default_factory=list)
    parent: Document | None = None  # this document is an attachment of that message
    parent_index: int | None = None

    def __bool__(self) -> bool:
        return self.message is not None or self.parent is not None


def links(session: Session, actor: User, document: Document) -> MailLinks:
    """What ``actor`` may see of the document's mail relations: attachments they may not view
    are named by file name only (the message says they exist), not linked."""
    found = MailLinks(message=session.get(MailMessage, document.id))
    if found.message is not None:
        rows = session.execute(
            select(MailAttachment, Document, QuarantinedFile)
            .outerjoin(Document, Document.id == MailAttachment.document_id)
            .outerjoin(QuarantinedFile, QuarantinedFile.id == MailAttachment.quarantined_file_id)
            .where(MailAttachment.message_document_id == document.id)
            .order_by(MailAttachment.part_index)
        ).all()
        for link, attached, entry in rows:
            visible = attached is not None and can(session, actor, Action.view, attached)
            found.attachments.append(
                LinkedAttachment(
                    link.part_index,
                    link.filename,
                    attached if visible else None,
                    entry,
                    entry.reason_code if entry is not None else "",
                )
            )
    row = session.execute(
        select(MailAttachment.part_index, Document)
        .join(Document, Document.id == MailAttachment.message_document_id)
        .where(MailAttachment.document_id == document.id)
        .order_by(MailAttachment.id)
        .limit(1)
    ).first()
    if row is not None and can(session, actor, Action.view, row[1]):
        found.parent_index, found.parent = row
    return found


def file_attachments_along(
    session: Session,
    actor: User,
    message: Document,
    process: Process,
    file_into: Callable[..., None],
) -> list[Document]:
    """Within the filing's transaction: the message's attachments that are still in the inbox
    and that ``actor`` may file go into the same process, each by ``file_into`` (the
    documents service's one way of filing), nested messages' attachments too."""
    attached = session.scalars(
        select(Document)
        .join(MailAttachment, MailAttachment.document_id == Document.id)
        .where(MailAttachment.message_document_id == message.id, Document.process_id.is_(None))
        .order_by(MailAttachment.part_index)
    ).all()
    filed = []
    for document in attached:
        if not can(session, actor, Action.file, document):
            continue
        file_into(session, actor, document, process, with_message=str(message.uuid))
        filed.append(document)
        filed.extend(file_attachments_along(session, actor, document, process, file_into))
    return filed


def links_json(found: MailLinks) -> dict:
    """For the API's document: ``message`` (its mail data, if it is one) and ``attachments``;
    ``attached_to`` names the message of an attachment."""
    message = found.message
    return {
        "message": {
            "message_id": message.message_id,
            "subject": message.subject,
            "sender": message.sender,
            "sent_at": message.sent_at.isoformat() if message.sent_at else None,
            "complete": message.complete,
        }
        if message is not None
        else None,
        "attachments": [
            {
                "index": a.index,
                "filename": a.filename,
                "document": str(a.document.uuid) if a.document is not None else None,
                "quarantined": a.quarantined is not None,
                "reason": a.reason_code or None,
            }
            for a in found.attachments
        ],
        "attached_to": str(found.parent.uuid) if found.parent is not None else None,
    }
