"""Zuweisung: the person who is to handle a document.

A document sits in its org unit's inbox (or in a process); assigning it names one person who may
work on it, so it shows on their desk. Only someone who may edit the document assigns it, and only
to an active person who may edit it too — an assignment nobody can act on would be lost work.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from eakte import audit
from eakte.db import transaction
from eakte.errors import BadInput, Conflict, NotFound
from eakte.models import Document, DocumentStatus, User
from eakte.models.base import utcnow
from eakte.permissions import Action, can, require
from eakte.services.cases import ensure_open
from eakte.services.guard import audited_refusals, load, row_id


def _person(session: Session, actor: User, ident: int | str) -> User:
    """A user of the actor's tenant by id, UUID or user name."""
    if isinstance(ident, str) and row_id(ident) is None:
        user = session.scalar(
            select(User).where(User.tenant_id == actor.tenant_id, User.username == ident)
        )
        if user is not None:
            return user
    try:
        return load(session, actor, User, ident)
    except NotFound:
        raise BadInput(f"no user {ident!r}") from None


@audited_refusals
def assign_document(
    session: Session, actor: User, document_ident: int | str, assignee_ident: int | str | None
) -> Document:
    """Assign the document to a person, or take the assignment back (``None``)."""
    with transaction(session):
        document = load(session, actor, Document, document_ident)
        require(session, actor, Action.edit, document)
        if document.status == DocumentStatus.discarded.value:
            raise Conflict("a discarded document cannot be assigned")
        if document.process is not None:
            ensure_open(document.process)
        assignee = None if assignee_ident is None else _person(session, actor, assignee_ident)
        if assignee is not None:
            if not assignee.active or assignee.is_service:
                raise Conflict(f"{assignee.username} is not an active person")
            if not can(session, assignee, Action.edit, document):
                raise Conflict(f"{assignee.username} may not work on this document")
        previous = session.get(User, document.assignee_id) if document.assignee_id else None
        if previous is not assignee:
            document.assignee_id = assignee.id if assignee else None
            document.assigned_at = utcnow() if assignee else None
            document.updated_at = utcnow()
            audit.record(
                session,
                actor,
                "assign" if assignee else "unassign",
                document,
                assignee=assignee.username if assignee else None,
                previous=previous.username if previous else None,
            )
    return document
