"""Search (issue 5): what the user typed, run inside what the user may open (R22).

The filter comes from ``permissions.visibility`` — the same rules as ``permissions.can`` — and
is applied by the index itself (Whoosh or PostgreSQL, as configured), before anything is
counted, grouped into facets, cut into snippets or suggested. Bad input never escapes as an
untyped exception: the index raises a typed error (``indexing.errors.SearchQueryInvalid``)
whose message says what to change, and which the edges (CLI, web) map like every typed error.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from eakte import metrics
from eakte.models import User
from eakte.permissions import Action, Visibility, require, visibility
from eakte.services.guard import audited_refusals
from indexing.backend import SearchBackend
from indexing.core import SORTS, SearchRequest, SearchResult
from indexing.query import Access, Reach

__all__ = ["SORTS", "SearchResult", "access_for", "search"]


def access_for(vis: Visibility) -> Access:
    """The index's form of what a user may open."""
    if vis.nothing:
        return Access(vis.tenant_id, (), restricted=False)
    return Access(vis.tenant_id, (Reach(vis.unit_ids, vis.inbox_only),), restricted=vis.restricted)


@audited_refusals
def search(
    session: Session,
    actor: User,
    index: SearchBackend,
    text: str,
    *,
    advanced: bool = False,
    page: int = 1,
    per_page: int = 20,
    sort: str = "relevance",
    filters: dict[str, str] | None = None,
    facets: bool = True,
) -> SearchResult:
    """Search documents and cases in ``index`` (the runtime's search backend,
    ``Runtime.search``); a query that cannot be run raises ``indexing.errors.SearchQueryInvalid``.
    ``advanced``: the query language (AND/OR/NOT, phrases,
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
    with metrics.counters().search_seconds.time():
        return index.search(request)
