"""Saved searches: a user keeps a search of the search page under a name, for themselves or
shared with their org unit; the start page lists them with the number of hits each has now.
The count is a search as that user, so it never counts what the user may not see."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qs

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from eakte.db import transaction
from eakte.errors import N_, BadInput, PermissionDenied
from eakte.models import User
from eakte.models.saved_search import SavedSearch
from eakte.permissions import Action, require
from eakte.services.guard import load
from eakte.services.search import SORTS, search
from indexing.errors import SearchIndexError

MAX_PER_USER = 50
MAX_QUERY = 2000
FILTERS = ("node", "doctype", "year", "status", "kind")


class TooManySavedSearches(BadInput):
    user_message = N_("You have saved the most searches possible; delete one first.")


class SavedSearchInvalid(BadInput):
    user_message = N_("The search cannot be saved: it needs a name and a search term.")


def save(session: Session, actor: User, name: str, query: str, *, shared: bool) -> SavedSearch:
    require(session, actor, Action.view)
    name, query = name.strip(), query.strip().lstrip("?")
    if not name or len(name) > 200 or len(query) > MAX_QUERY or not _text(query):
        raise SavedSearchInvalid(f"saved search {name[:40]!r} without a name or a term")
    if shared and actor.org_unit_id is None:
        raise BadInput("only a member of an org unit can share a search with it")
    with transaction(session):
        count = session.scalar(
            select(func.count(SavedSearch.id)).where(SavedSearch.user_id == actor.id)
        )
        if (count or 0) >= MAX_PER_USER:
            raise TooManySavedSearches(f"{actor.username} has {count} saved searches")
        saved = SavedSearch(
            tenant_id=actor.tenant_id,
            user_id=actor.id,
            org_unit_id=actor.org_unit_id if shared else None,
            name=name,
            query=query,
        )
        session.add(saved)
    return saved


def visible(session: Session, actor: User) -> list[SavedSearch]:
    """The user's own searches and those shared with the user's org unit."""
    mine = SavedSearch.user_id == actor.id
    shared = SavedSearch.org_unit_id == actor.org_unit_id if actor.org_unit_id is not None else mine
    return list(
        session.scalars(
            select(SavedSearch)
            .where(SavedSearch.tenant_id == actor.tenant_id, or_(mine, shared))
            .order_by(SavedSearch.name, SavedSearch.id)
            .limit(2 * MAX_PER_USER)
        )
    )


def delete(session: Session, actor: User, ident: str) -> None:
    """Only the one who saved a search deletes it (shared ones too)."""
    with transaction(session):
        saved = load(session, actor, SavedSearch, ident)
        if saved.user_id != actor.id:
            raise PermissionDenied(f"{actor.username} did not save search {saved.uuid}")
        session.delete(saved)


def _text(query: str) -> str:
    return parse_qs(query).get("q", [""])[0].strip()


@dataclass(frozen=True)
class Counted:
    search: SavedSearch
    count: int | None  # None: the query cannot be run (any more)


def with_counts(
    session: Session, actor: User, backend, searches: list[SavedSearch]
) -> list[Counted]:
    """Each search run now as ``actor`` for its number of hits (one page of one hit)."""
    counted = []
    for saved in searches:
        args = {k: v[0] for k, v in parse_qs(saved.query).items() if v}
        sort = args.get("sortierung", "relevance")
        try:
            result = search(
                session,
                actor,
                backend,
                _text(saved.query),
                advanced=args.get("erweitert") == "1",
                per_page=1,
                sort=sort if sort in SORTS else "relevance",
                filters={k: args[k] for k in FILTERS if args.get(k)},
                facets=False,
            )
        except SearchIndexError:
            # a query no longer valid, or the index busy: the start page still opens
            counted.append(Counted(saved, None))
        else:
            counted.append(Counted(saved, result.total))
    return counted
