"""Search (issue 5): what the user typed, run inside what the user may open (R22).

The filter comes from ``permissions.visibility`` — the same rules as ``permissions.can`` — and
is applied by the index itself (Whoosh or PostgreSQL, as configured), before anything is
counted, grouped into facets, cut into snippets or suggested. Bad input never escapes as an
exception: it becomes a typed error whose message says what to change.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from eakte import errors, metrics
from eakte.config import Settings
from eakte.models import User
from eakte.permissions import Action, Visibility, require, visibility
from eakte.services.guard import audited_refusals
from eakte.services.indexer import index_store
from indexing import errors as index_errors
from indexing.query import Access, Reach
from indexing.search import SORTS, SearchRequest, SearchResult

__all__ = ["SORTS", "SearchResult", "access_for", "search"]

# One typed error per way a query can be wrong; the index's message id is the same text.
_ERRORS: dict[type[index_errors.QueryError], type[errors.SearchQueryInvalid]] = {
    index_errors.QueryTooLong: errors.SearchQueryTooLong,
    index_errors.EmptyQuery: errors.SearchQueryEmpty,
    index_errors.UnknownField: errors.SearchUnknownField,
    index_errors.InvalidDate: errors.SearchInvalidDate,
    index_errors.ReversedRange: errors.SearchReversedRange,
    index_errors.QuerySyntaxError: errors.SearchQueryInvalid,
}


def access_for(vis: Visibility) -> Access:
    """The index's form of what a user may open."""
    if vis.nothing:
        return Access(vis.tenant_id, (), restricted=False)
    return Access(vis.tenant_id, (Reach(vis.unit_ids, vis.inbox_only),), restricted=vis.restricted)


@audited_refusals
def search(
    session: Session,
    actor: User,
    settings: Settings,
    text: str,
    *,
    advanced: bool = False,
    page: int = 1,
    per_page: int = 20,
    sort: str = "relevance",
    filters: dict[str, str] | None = None,
    facets: bool = True,
) -> SearchResult:
    """Search documents and cases. ``advanced``: the query language (AND/OR/NOT, phrases,
    ``feld:wert``, wildcards, ``eingang:2022``); else every word must occur. ``filters``
    narrows to selected facet values: ``node`` (a file-plan code: everything beneath),
    ``doctype``, ``year``, ``status``, ``kind`` (``document`` or ``case``)."""
    require(session, actor, Action.view)
    request = SearchRequest(
        text=text,
        access=access_for(visibility(session, actor)),
        advanced=advanced,
        page=page,
        per_page=per_page,
        sort=sort,
        filters=tuple(sorted((filters or {}).items())),
        facets=facets,
    )
    try:
        with metrics.counters().search_seconds.time():
            return index_store(settings, session.get_bind()).search(request)
    except index_errors.QueryError as exc:
        raise _ERRORS.get(type(exc), errors.SearchQueryInvalid)(str(exc)) from None
