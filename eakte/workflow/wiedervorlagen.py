"""Wiedervorlagen (R30): an object comes back to a person on a date."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from eakte import audit
from eakte.db import transaction
from eakte.errors import BadInput, Conflict, NotFound
from eakte.models import Case, Document, Process, User
from eakte.models.workflow import Wiedervorlage
from eakte.permissions import Action, acting_for, require
from eakte.services.cases import ensure_open
from eakte.services.guard import audited_refusals, load
from eakte.workflow import clock

MAX_NOTE = 4000


def wv_object(session: Session, wv: Wiedervorlage) -> Case | Process | Document:
    if wv.document_id is not None:
        return session.get(Document, wv.document_id)  # type: ignore[return-value]
    if wv.process_id is not None:
        return session.get(Process, wv.process_id)  # type: ignore[return-value]
    return session.get(Case, wv.case_id)  # type: ignore[return-value]


@audited_refusals
def add(
    session: Session,
    actor: User,
    *,
    due: date,
    note: str = "",
    user: str | int | None = None,
    case: int | str | None = None,
    process: int | str | None = None,
    document: int | str | None = None,
) -> Wiedervorlage:
    """A Wiedervorlage on a case, process or document for ``user`` (default: the actor)."""
    if sum(x is not None for x in (case, process, document)) != 1:
        raise BadInput("a Wiedervorlage is on one case, process or document")
    if len(note) > MAX_NOTE:
        raise BadInput(f"a note has at most {MAX_NOTE} characters")
    with transaction(session):
        if due < clock.today(session):
            raise BadInput("a Wiedervorlage needs a date from today on")
        obj: Case | Process | Document
        if document is not None:
            obj = load(session, actor, Document, document)
            proc = obj.process
            case_id = proc.case_id if proc is not None else None
        elif process is not None:
            obj = proc = load(session, actor, Process, process)
            case_id = proc.case_id
        else:
            from eakte.services.cases import find_case

            obj = find_case(session, actor, case)  # type: ignore[arg-type]
            proc, case_id = None, obj.id
        require(session, actor, Action.view, obj)
        if isinstance(obj, Case):
            ensure_open(obj)
        elif proc is not None:
            ensure_open(proc)
        person = actor if user is None else _person(session, actor, user)
        wv = Wiedervorlage(
            tenant_id=actor.tenant_id,
            case_id=case_id,
            process_id=proc.id if proc is not None else None,
            document_id=obj.id if isinstance(obj, Document) else None,
            user_id=person.id,
            due=due,
            note=note,
            created_by_id=actor.id,
        )
        session.add(wv)
        session.flush()
        audit.record(
            session,
            actor,
            "wv_add",
            obj,
            wiedervorlage=str(wv.uuid),
            due=due.isoformat(),
            user=person.username,
        )
    return wv


def _person(session: Session, actor: User, ident: str | int) -> User:
    if isinstance(ident, str) and not ident.isdigit():
        person = session.scalar(
            select(User).where(User.tenant_id == actor.tenant_id, User.username == ident)
        )
        if person is None:
            raise NotFound(f"user {ident!r} not found")
        return person
    return load(session, actor, User, ident)


@audited_refusals
def done(session: Session, actor: User, ident: int | str, note: str = "") -> Wiedervorlage:
    """Marked done by its person, who set it, or a deputy of its person (i. V.)."""
    with transaction(session):
        wv = load(session, actor, Wiedervorlage, ident)
        obj = wv_object(session, wv)
        principal = None
        if actor.id not in (wv.user_id, wv.created_by_id):
            principal = acting_for(session, actor, wv.user_id, None, obj)
        if wv.done_at is not None:
            raise Conflict(f"Wiedervorlage {wv.uuid} is already done")
        wv.done_at = clock.now(session)
        wv.done_by_id = actor.id
        wv.on_behalf_of_id = principal.id if principal else None
        audit.record(
            session,
            actor,
            "wv_done",
            obj,
            wiedervorlage=str(wv.uuid),
            note=note,
            i_v=principal.username if principal else "",
        )
    return wv


def list_for(
    session: Session,
    user: User,
    *,
    due_by: date | None = None,
    include_done: bool = False,
    limit: int = 500,
) -> list[Wiedervorlage]:
    """``user``'s Wiedervorlagen by date (``due_by``: due on or before that day)."""
    query = select(Wiedervorlage).where(
        Wiedervorlage.tenant_id == user.tenant_id, Wiedervorlage.user_id == user.id
    )
    if not include_done:
        query = query.where(Wiedervorlage.done_at.is_(None))
    if due_by is not None:
        query = query.where(Wiedervorlage.due <= due_by)
    return list(session.scalars(query.order_by(Wiedervorlage.due, Wiedervorlage.id).limit(limit)))
