"""Bulk actions over documents picked in the inbox or the search results: file into a
process, set type or sender, assign to a person. Each document goes through
the one-document service, so each gets its own transaction, permission check and audit entry;
a refused document is reported with its reason and the others are done."""

from __future__ import annotations

import uuid as uuidlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from eakte.errors import N_, BadInput, EakteError
from eakte.models import Document, User
from eakte.permissions import Action, can
from eakte.services import assignment, documents
from eakte.services.guard import load

# Checked before any work: a request naming more documents is refused as a whole.
MAX_BULK = 200

ALREADY_FILED = N_("The document is already filed.")
DISCARDED = N_("The document was discarded.")
NOT_VISIBLE = N_("The document was not found or is not visible to you.")
NOT_ALLOWED = N_("You are not allowed to change this document.")


@dataclass(frozen=True)
class Refusal:
    document: str  # the identifier as given (a UUID from the page)
    title: str  # "" when the user may not see the document
    reason: str  # an English message id, shown in German by the web edge


@dataclass
class BulkOutcome:
    done: list[str] = field(default_factory=list)
    refused: list[Refusal] = field(default_factory=list)


class TooManyDocuments(BadInput):
    user_message = N_("At most 200 documents can be changed at once.")


def _each(
    session: Session,
    actor: User,
    idents: Sequence[str],
    precheck: Callable[[Document], str | None],
    act: Callable[[str], object],
) -> BulkOutcome:
    idents = list(dict.fromkeys(idents))  # the same document twice is done once
    if len(idents) > MAX_BULK:
        raise TooManyDocuments(f"{len(idents)} documents in one bulk action (max {MAX_BULK})")
    outcome = BulkOutcome()
    for ident in idents:
        title = ""
        try:
            document = load(session, actor, Document, ident)
            if not can(session, actor, Action.view, document):
                outcome.refused.append(Refusal(ident, "", NOT_VISIBLE))
                continue
            title = document.title
            reason = precheck(document)
            if reason:
                outcome.refused.append(Refusal(ident, title, reason))
                continue
            act(ident)
        except EakteError as exc:
            if session.in_transaction():
                session.rollback()
            outcome.refused.append(Refusal(ident, title, exc.user_message))
        else:
            outcome.done.append(ident)
        finally:
            # Each document is its own unit of work: nothing read for one leaks into the next.
            session.expire_all()
    return outcome


def file_documents(
    session: Session, actor: User, idents: Sequence[str], process_ident: str
) -> BulkOutcome:
    """Each inbox document into the process (``documents.file_document`` per document)."""

    def precheck(document: Document) -> str | None:
        if document.process_id is not None:
            return ALREADY_FILED
        if document.status == "discarded":
            return DISCARDED
        if not can(session, actor, Action.file, document):
            return NOT_ALLOWED
        return None

    return _each(
        session,
        actor,
        idents,
        precheck,
        lambda ident: documents.file_document(session, actor, ident, process_ident),
    )


def set_fields(
    session: Session,
    actor: User,
    idents: Sequence[str],
    *,
    doc_type: str | None = None,
    correspondent: str | None = None,
) -> BulkOutcome:
    """Set the document type and/or the sender of each document (``None``: leave as is)."""
    values: dict[str, str] = {}
    if doc_type is not None:
        values["doc_type"] = doc_type.strip()[:100]
    if correspondent is not None:
        values["correspondent"] = correspondent.strip()[:300]
    if not values:
        raise BadInput("a bulk change needs a document type or a sender")

    def precheck(document: Document) -> str | None:
        if not can(session, actor, Action.edit, document):
            return NOT_ALLOWED
        return None

    return _each(
        session,
        actor,
        idents,
        precheck,
        lambda ident: documents.update_document(session, actor, ident, **values),
    )


NOT_ASSIGNABLE = N_("The chosen person may not work on this document.")


def assign_documents(
    session: Session, actor: User, idents: Sequence[str], assignee_ident: str | None
) -> BulkOutcome:
    """Assign each document to a person (``assignment.assign_document`` per document), or take
    the assignments back (``None``)."""
    assignee = None
    if assignee_ident is not None:
        assignee = session.scalar(
            select(User).where(
                User.tenant_id == actor.tenant_id, User.uuid == _uuid(assignee_ident)
            )
        )
        if assignee is None or not assignee.active or assignee.is_service:
            raise BadInput(f"no active person {assignee_ident!r} to assign to")

    def precheck(document: Document) -> str | None:
        if not can(session, actor, Action.edit, document):
            return NOT_ALLOWED
        if document.status == "discarded":
            return DISCARDED
        if assignee is not None and not can(session, assignee, Action.edit, document):
            return NOT_ASSIGNABLE
        return None

    target = None if assignee is None else assignee.id
    return _each(
        session,
        actor,
        idents,
        precheck,
        lambda ident: assignment.assign_document(session, actor, ident, target),
    )


def _uuid(ident: str) -> uuidlib.UUID | None:
    try:
        return uuidlib.UUID(str(ident))
    except ValueError:
        return None
