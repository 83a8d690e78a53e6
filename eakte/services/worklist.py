"""The clerk's work surface: where a document sits in the inbox (previous / next letter) and
which cases a document may be filed into (type-ahead over file references and case titles).

Both are filtered in SQL by what the user may reach (``permissions.visibility``) and checked
with ``permissions.can`` for filing, so the type-ahead never names a case outside the clerk's
scope."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, func, or_, select
from sqlalchemy import case as when
from sqlalchemy.orm import Session, selectinload

from eakte.models import Case, Document, User
from eakte.permissions import ROLE_ACTIONS, Action, can, visibility
from eakte.services.listing import case_filter, inbox_filter

SUGGEST_LIMIT = 10
MAX_SUGGEST_TEXT = 120
GONE = ("destroyed", "discarded")


@dataclass(frozen=True)
class Neighbours:
    previous: str | None  # UUID of the newer letter (the inbox is newest first)
    next: str | None  # UUID of the older letter
    position: int | None  # 1-based place of the document in the inbox, None when not in it
    total: int
    first: str | None = None  # the newest letter: where to go on after the oldest


def _inbox_where(session: Session, actor: User):
    return and_(inbox_filter(visibility(session, actor)), Document.status.not_in(GONE))


def inbox_neighbours(session: Session, actor: User, document: Document) -> Neighbours:
    """Previous and next letter around ``document`` in the inbox order (newest first, then
    id). Works by the document's own sort key, so a letter just filed (and gone from the inbox)
    still leads on to the one after it."""
    where = _inbox_where(session, actor)
    key_newer = or_(
        Document.created_at > document.created_at,
        and_(Document.created_at == document.created_at, Document.id > document.id),
    )
    key_older = or_(
        Document.created_at < document.created_at,
        and_(Document.created_at == document.created_at, Document.id < document.id),
    )
    previous = session.scalar(
        select(Document.uuid)
        .where(where, key_newer)
        .order_by(Document.created_at.asc(), Document.id.asc())
        .limit(1)
    )
    following = session.scalar(
        select(Document.uuid)
        .where(where, key_older)
        .order_by(Document.created_at.desc(), Document.id.desc())
        .limit(1)
    )
    # the count and the place in one pass over the inbox
    total, newer = session.execute(
        select(
            func.count(Document.id),
            func.coalesce(func.sum(when((key_newer, 1), else_=0)), 0),
        ).where(where)
    ).one()
    in_inbox = document.process_id is None and document.status not in GONE
    position = newer + 1 if in_inbox else None
    first = None
    if following is None and total:
        first = session.scalar(
            select(Document.uuid)
            .where(where)
            .order_by(Document.created_at.desc(), Document.id.desc())
            .limit(1)
        )
    return Neighbours(
        str(previous) if previous else None,
        str(following) if following else None,
        position,
        total,
        str(first) if first else None,
    )


@dataclass(frozen=True)
class ProcessChoice:
    uuid: str
    number: int
    title: str


@dataclass(frozen=True)
class CaseChoice:
    uuid: str
    file_reference: str
    title: str
    processes: list[ProcessChoice]

    def as_json(self) -> dict:
        return {
            "uuid": self.uuid,
            "file_reference": self.file_reference,
            "title": self.title,
            "processes": [
                {"uuid": p.uuid, "number": p.number, "title": p.title} for p in self.processes
            ],
        }


def _like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def find_cases(
    session: Session, actor: User, text: str, *, limit: int = SUGGEST_LIMIT, for_filing: bool
) -> list[CaseChoice]:
    """Cases whose file reference contains ``text`` or whose title contains it (any word
    order: every word must occur). ``for_filing``: open cases only, with the open processes the
    user may file into; otherwise every case the user sees (the header search)."""
    words = text.strip()[:MAX_SUGGEST_TEXT].split()
    if not words:
        return []
    vis = visibility(session, actor)
    whole = _like(" ".join(words))
    title_words = [Case.title.ilike(f"%{_like(w)}%", escape="\\") for w in words]
    stmt = select(Case).where(
        case_filter(vis),
        # anywhere in the reference: clerks know "0123/2019" better than the plan code
        or_(Case.file_reference.like(f"%{whole}%", escape="\\"), and_(*title_words)),
    )
    if for_filing:
        stmt = stmt.where(Case.status == "open").options(selectinload(Case.processes))
    cases = session.scalars(stmt.order_by(Case.file_reference).limit(limit)).all()
    found = []
    for case in cases:
        processes: list[ProcessChoice] = []
        if for_filing:
            processes = [
                ProcessChoice(str(p.uuid), p.number, p.title)
                for p in case.processes
                if not p.is_closed and can(session, actor, Action.file, p)
            ]
        found.append(CaseChoice(str(case.uuid), case.file_reference, case.title, processes))
    return found


def assignable_people(session: Session, actor: User, limit: int = 500) -> list[User]:
    """Active persons of the tenant who may edit documents: whom the clerk can assign to.
    Whether a person may work on a particular document is checked when assigning."""
    users = session.scalars(
        select(User)
        .where(User.tenant_id == actor.tenant_id, User.active.is_(True))
        .order_by(User.display_name, User.username)
        .limit(limit)
    ).all()
    return [
        u
        for u in users
        if not u.is_service and any(Action.edit in ROLE_ACTIONS[r] for r in u.roles)
    ]
