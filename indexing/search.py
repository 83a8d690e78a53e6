"""Searching the Whoosh index: one call in (``SearchRequest``), plain values out
(``SearchResult``); the request, the result and the typo policy are the search core's
(``indexing.core``), shared with the PostgreSQL backend.

Everything happens inside the user's ``Access`` filter (a Whoosh filter query): the hits,
their number, the facet counts, the snippets and the "did you mean" suggestion are all computed
from documents the user may open, before anything is paginated (R22).

When a simple search finds few or no documents, words that do not occur (in what the user may
see) are replaced by the most frequent visible term within a small edit distance; the results
then include those and a suggestion shows the corrected words as they are spelt in a document
the user may open.
"""

from __future__ import annotations

import logging
import threading
import time

from whoosh import query as Q
from whoosh.index import EmptyIndexError

from indexing import core
from indexing.analysis import GermanAnalyzer
from indexing.core import FACETS, FEW_HITS, FacetCount, Hit, SearchRequest, SearchResult
from indexing.engine import View
from indexing.errors import SearchQueryInvalid
from indexing.highlight import Marker
from indexing.query import ParsedQuery, access_query
from indexing.schema import IndexEntry, entry_from_stored
from indexing.segments import SegmentData, TooManyTerms
from indexing.store import IndexStore

log = logging.getLogger(__name__)


class Searcher:
    """Searches one index; keeps its caches between searches (held by the index's backend
    object, ``indexing.backend.WhooshIndex``, which the application's runtime keeps).

    Thread-safe: Whoosh's readers are not, so searches in one process take turns.
    """

    def __init__(self, store: IndexStore):
        self.store = store
        self.analyzer = GermanAnalyzer()
        self._lock = threading.Lock()
        self._view: View | None = None
        self._segments: dict[str, SegmentData] = {}

    def close(self) -> None:
        """Let go of the open searcher (its files) and the caches."""
        with self._lock:
            if self._view is not None:
                self._view.searcher.close()
            self._view = None
            self._segments = {}

    def _current(self) -> View | None:
        view = self._view
        if view is not None and view.searcher.up_to_date():
            return view
        view = None
        for attempt in range(3):
            try:
                ix = self.store.open()
                if ix is None:
                    return None
                view = View(ix.searcher(), self._segments)
                break
            except (OSError, EmptyIndexError):  # a commit removed what was just read: again
                if attempt == 2:
                    raise
                time.sleep(0.05)
        assert view is not None  # the third failed attempt raised
        # Forget the caches of segments that are gone (merged away).
        current = {reader.segment().segment_id() for _sub, reader, *_ in view.leaves}
        self._segments = {k: v for k, v in self._segments.items() if k in current}
        if self._view is not None:
            self._view.searcher.close()
        self._view = view
        return view

    def search(self, request: SearchRequest) -> SearchResult:
        parsed = core.parse(request)
        page, per_page = core.paging(request)
        with self._lock:
            view = self._current()
            if view is None:
                return SearchResult(total=0, page=page, per_page=per_page)
            scope = self._scope(view, request)
            hits = self._matches(view, parsed.query) & scope
            result = SearchResult(total=hits.bit_count(), page=page, per_page=per_page)
            if result.total < FEW_HITS and parsed.words and not request.advanced:
                corrected = self._tolerate_typos(view, parsed, scope, result, request.text)
                if corrected is not None:
                    hits = corrected
                    result.total = hits.bit_count()
            if request.facets:
                result.facets = self._facets(view, hits)
            wanted = page * per_page
            ranked: list[tuple[int, float | None]]
            if request.sort == "relevance" and not parsed.match_all:
                ranked = list(view.ranked(parsed.query, hits, wanted)[(page - 1) * per_page :])
            else:
                newest = view.newest(hits, wanted, oldest=request.sort == "oldest")
                ranked = [(docnum, None) for docnum in newest[(page - 1) * per_page :]]
            marker = Marker(self.analyzer, parsed.highlight, parsed.prefixes)
            result.hits = [
                self._hit(view, docnum, score, marker, request.snippets) for docnum, score in ranked
            ]
        return result

    # --- the parts of a search ---------------------------------------------------------------

    def _matches(self, view: View, q: Q.Query) -> int:
        """The documents the user's query matches. A query the index cannot run (e.g. a
        wildcard over most of the vocabulary) is the user's to change: reported as such."""
        try:
            return view.bitmap(q)
        except TooManyTerms as exc:
            raise SearchQueryInvalid(str(exc)) from None
        except (ValueError, IndexError, TypeError, KeyError) as exc:
            log.warning("query %s could not be run", q, exc_info=True)
            raise SearchQueryInvalid(f"{type(exc).__name__}: {exc}") from None

    def _scope(self, view: View, request: SearchRequest) -> int:
        """What the user may see, narrowed by the selected facet values."""
        allowed = access_query(request.access)
        scope = view.cached(("access", allowed), lambda: view.bitmap(allowed))
        for name, value in request.filters:
            fieldname = core.filter_field(name)
            if fieldname == "year":
                scope &= view.facet("year").get(str(value).strip(), 0)
            else:
                text = str(value).strip()
                scope &= view.term(fieldname, text.lower() if fieldname == "doctype" else text)
        return scope

    def _facets(self, view: View, hits: int) -> dict[str, list[FacetCount]]:
        return {
            name: core.sorted_facet(
                name,
                [
                    FacetCount(value, (hits & bits).bit_count())
                    for value, bits in view.facet(name).items()
                ],
            )
            for name in FACETS
        }

    def _hit(
        self, view: View, docnum: int, score: float | None, marker: Marker, snippets: bool
    ) -> Hit:
        entry: IndexEntry = entry_from_stored(view.searcher.stored_fields(docnum))
        return core.hit_for(entry, score, marker, snippets)

    # --- typo tolerance ------------------------------------------------------------------------

    def _tolerate_typos(
        self, view: View, parsed: ParsedQuery, scope: int, result: SearchResult, text: str
    ) -> int | None:
        """Replace words that (almost) do not occur by close spellings that do, in what the
        user may see (``core.corrections``); note the suggestion as spelt in a visible
        document."""

        def counts(words: list[str]) -> dict[str, int]:
            return {w: (view.term("text", w) & scope).bit_count() for w in words}

        def similar(word: str, maxdist: int) -> list[str]:
            # Typos rarely hit the first letter; requiring it keeps this fast.
            return view.similar_terms("text", word, maxdist, prefix=1)

        replacements = core.corrections(parsed.words, counts, similar)
        if not replacements:
            return None
        core.apply_corrections(parsed, replacements, result)
        corrected = self._matches(view, parsed.query) & scope
        sources = []
        for docnum in view.newest(corrected, core.SUGGESTION_SOURCES):
            entry = entry_from_stored(view.searcher.stored_fields(docnum))
            sources.append(f"{entry.title} {entry.content}")
        result.suggestion = core.suggestion(text, replacements, sources, self.analyzer.term)
        return corrected
