"""The list a document page was opened from — the inbox or a search result — and the
previous and next letter in it. The list travels in the address (``liste``, ``suche``,
``nr``), so reading works without script and every step is a plain link."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlencode

from flask import request, url_for

from eakte.models import Document, User
from eakte.services import listing, worklist
from eakte.services.search import SORTS, search
from indexing.errors import SearchQueryInvalid
from web.db import runtime

INBOX, SEARCH = "posteingang", "suche"
SEARCH_FILTERS = ("node", "doctype", "year", "status", "kind")
MAX_SEARCH_CONTEXT = 2000  # characters of the query string carried along


@dataclass(frozen=True)
class Context:
    kind: str  # INBOX, SEARCH or ""
    previous: str | None  # URL of the previous letter
    next: str | None
    position: int | None
    total: int | None
    back: str  # URL of the list
    args: dict[str, str]  # what links to documents of the same list carry


def _doc_url(uuid: str, args: dict[str, Any]) -> str:
    return url_for("documents.show", document_id=uuid, **args)


def context_of(session, user: User, document: Document, default: str = "") -> Context:
    """``default``: the list assumed when the address names none (filing from the inbox)."""
    kind = request.values.get("liste", "") or default
    if kind == SEARCH:
        found = _search_context(session, user)
        if found is not None:
            return found
    if kind == INBOX or (kind == "" and document.process_id is None):
        around = worklist.inbox_neighbours(session, user, document)
        args = {"liste": INBOX}
        following = around.next or around.first
        if following == str(document.uuid):
            following = None
        return Context(
            INBOX,
            _doc_url(around.previous, args) if around.previous else None,
            _doc_url(following, args) if following else None,
            around.position,
            around.total,
            url_for("inbox.index"),
            args,
        )
    return Context("", None, None, None, None, "", {})


def search_args(query: dict[str, str], number: int) -> dict[str, str]:
    """What a search hit's link carries: the query and the hit's place (1-based)."""
    return {"liste": SEARCH, "suche": urlencode(query)[:MAX_SEARCH_CONTEXT], "nr": str(number)}


def _search_context(session, user: User) -> Context | None:
    raw = request.values.get("suche", "")[:MAX_SEARCH_CONTEXT]
    number = request.values.get("nr", "")
    if not (number.isascii() and number.isdigit()) or not 1 <= int(number) <= 10_000:
        return None
    query = {k: v[0] for k, v in parse_qs(raw).items() if v}
    text = query.get("q", "").strip()
    if not text:
        return None
    sort = query.get("sortierung", "relevance")
    options = dict(
        advanced=query.get("erweitert") == "1",
        sort=sort if sort in SORTS else "relevance",
        filters={k: query[k] for k in SEARCH_FILTERS if query.get(k)},
        facets=False,
    )
    nr, per_page = int(number), 20
    page = (nr - 1) // per_page + 1
    hits: dict[int, tuple[str, int]] = {}  # place → (kind, id)
    total = 0
    try:
        for p in {max(1, page - 1), page, page + 1}:
            result = search(session, user, runtime().search, text, page=p, **options)
            total = result.total
            start = (p - 1) * result.per_page + 1
            hits.update({start + i: (h.kind, h.id) for i, h in enumerate(result.hits)})
    except SearchQueryInvalid:
        return None
    uuids = listing.uuids_for_hits(session, user, [_Hit(k, i) for k, i in hits.values()])

    def step(direction: int) -> str | None:
        place = nr + direction
        while place in hits:
            kind, ident = hits[place]
            if kind == "document" and (kind, ident) in uuids:
                return _doc_url(uuids[(kind, ident)], search_args(query, place))
            place += direction
        return None

    values: dict[str, Any] = query
    back = url_for("search.results", **values)
    return Context(SEARCH, step(-1), step(1), nr, total, back, search_args(query, nr))


@dataclass(frozen=True)
class _Hit:
    kind: str
    id: int
