"""Searching the index: one call in (``SearchRequest``), plain values out (``SearchResult``).

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
from dataclasses import dataclass, field
from datetime import date

from whoosh import query as Q
from whoosh.index import EmptyIndexError

from indexing import query as parsing
from indexing.analysis import WORD, GermanAnalyzer
from indexing.engine import TooManyTerms, View
from indexing.errors import QuerySyntaxError
from indexing.highlight import Marker, highlight_all, snippet
from indexing.query import Access, ParsedQuery, access_query
from indexing.schema import IndexEntry, entry_from_stored
from indexing.store import IndexStore

log = logging.getLogger(__name__)

FACETS = ("node", "doctype", "year", "status")
SORTS = ("relevance", "newest", "oldest")
# Which index field a selected facet value filters on (a file-plan node: everything beneath).
FILTER_FIELDS = {
    "node": "plan",
    "plan": "plan",
    "doctype": "doctype",
    "year": "year",
    "status": "status",
    "kind": "kind",
}
FEW_HITS = 3
MAX_PER_PAGE = 100
MAX_FACET_VALUES = 50


@dataclass(frozen=True)
class SearchRequest:
    text: str
    access: Access
    advanced: bool = False  # the Whoosh query language instead of the simple box
    page: int = 1
    per_page: int = 20
    sort: str = "relevance"
    filters: tuple[tuple[str, str], ...] = ()  # selected facet values, e.g. ("node", "32.10")
    facets: bool = True
    snippets: bool = True


@dataclass(frozen=True)
class Hit:
    key: str
    kind: str
    id: int
    title: str
    title_html: str
    snippet_html: str
    file_reference: str
    doc_type: str
    status: str
    date: date | None
    case_id: int | None
    process_id: int | None
    score: float | None


@dataclass(frozen=True)
class FacetCount:
    value: str
    count: int


@dataclass
class SearchResult:
    total: int
    page: int
    per_page: int
    hits: list[Hit] = field(default_factory=list)
    facets: dict[str, list[FacetCount]] = field(default_factory=dict)
    suggestion: str | None = None  # "did you mean", in words of a visible document
    fuzzy: bool = False  # results include close spellings of the words typed

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


class Searcher:
    """Searches one index; keeps its caches between searches (one per process and index).

    Thread-safe: Whoosh's readers are not, so searches in one process take turns.
    """

    def __init__(self, store: IndexStore):
        self.store = store
        self.analyzer = GermanAnalyzer()
        self._lock = threading.Lock()
        self._view: View | None = None
        self._segments: dict = {}

    def _current(self) -> View | None:
        view = self._view
        if view is not None and view.searcher.up_to_date():
            return view
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
        # Forget the caches of segments that are gone (merged away).
        current = {reader.segment().segment_id() for _sub, reader, *_ in view.leaves}
        self._segments = {k: v for k, v in self._segments.items() if k in current}
        if self._view is not None:
            self._view.searcher.close()
        self._view = view
        return view

    def search(self, request: SearchRequest) -> SearchResult:
        parse = parsing.advanced if request.advanced else parsing.simple
        parsed = parse(request.text)
        if request.sort not in SORTS:
            raise QuerySyntaxError(f"unknown sort order {request.sort!r}")
        per_page = max(1, min(request.per_page, MAX_PER_PAGE))
        page = max(1, request.page)
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
            if request.sort == "relevance" and not parsed.match_all:
                ranked = view.ranked(parsed.query, hits, wanted)[(page - 1) * per_page :]
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
            raise QuerySyntaxError(str(exc)) from None
        except (ValueError, IndexError, TypeError, KeyError) as exc:
            log.warning("query %s could not be run", q, exc_info=True)
            raise QuerySyntaxError(f"{type(exc).__name__}: {exc}") from None

    def _scope(self, view: View, request: SearchRequest) -> int:
        """What the user may see, narrowed by the selected facet values."""
        allowed = access_query(request.access)
        scope = view.cached(("access", allowed), lambda: view.bitmap(allowed))
        for name, value in request.filters:
            fieldname = FILTER_FIELDS.get(name)
            if fieldname is None:
                raise QuerySyntaxError(f"unknown filter {name!r}")
            if fieldname == "year":
                scope &= view.facet("year").get(str(value).strip(), 0)
            else:
                text = str(value).strip()
                scope &= view.term(fieldname, text.lower() if fieldname == "doctype" else text)
        return scope

    def _facets(self, view: View, hits: int) -> dict[str, list[FacetCount]]:
        facets = {}
        for name in FACETS:
            counts = [
                FacetCount(value, (hits & bits).bit_count())
                for value, bits in view.facet(name).items()
            ]
            counts = [c for c in counts if c.count]
            if name == "year":
                counts.sort(key=lambda c: c.value, reverse=True)
            else:
                counts.sort(key=lambda c: (-c.count, c.value))
            facets[name] = counts[:MAX_FACET_VALUES]
        return facets

    def _hit(self, view: View, docnum: int, score, marker: Marker, snippets: bool) -> Hit:
        entry: IndexEntry = entry_from_stored(view.searcher.stored_fields(docnum))
        return hit_for(entry, score, marker, snippets)

    # --- typo tolerance ------------------------------------------------------------------------

    def _tolerate_typos(
        self, view: View, parsed: ParsedQuery, scope: int, result: SearchResult, text: str
    ) -> int | None:
        """Replace words that (almost) do not occur by close spellings that do, in what the
        user may see; note the suggestion as spelt in a visible document."""
        replacements: dict[str, str] = {}
        for word in dict.fromkeys(parsed.words):
            own = (view.term("text", word) & scope).bit_count()
            if own >= FEW_HITS or len(word) < 3:
                continue
            # Typos rarely hit the first letter; requiring it keeps this fast.
            maxdist = 1 if len(word) <= 5 else 2
            # A word not found at all takes any close spelling that is; one found rarely only
            # a spelling found clearly more often.
            best, best_count = None, max(FEW_HITS - 1, 2 * own) if own else 0
            for candidate in view.similar_terms("text", word, maxdist, prefix=1):
                count = (view.term("text", candidate) & scope).bit_count()
                if count > best_count:
                    best, best_count = candidate, count
            if best is not None:
                replacements[word] = best
        if not replacements:
            return None
        parsed.query = _replace_terms(parsed.query, replacements)
        parsed.highlight.update(replacements.values())
        result.fuzzy = True
        corrected = self._matches(view, parsed.query) & scope
        result.suggestion = self._suggestion(view, corrected, replacements, text)
        return corrected

    def _suggestion(self, view: View, bits: int, replacements: dict[str, str], text: str):
        """The typed text with each replaced word as a visible document spells it (of the
        spellings found, the one closest to what was typed)."""
        term = self.analyzer.term
        typed = {}  # corrected term -> the word as typed
        for word in WORD.findall(text):
            if term(word) in replacements:
                typed[replacements[term(word)]] = word
        spellings: dict[str, set[str]] = {}
        for docnum in view.newest(bits, 5):
            entry = entry_from_stored(view.searcher.stored_fields(docnum))
            for word in WORD.findall(f"{entry.title} {entry.content}"):
                found = term(word)
                if found in typed:
                    spellings.setdefault(found, set()).add(word)
        best = {
            found: min(words, key=lambda w: (_distance(w.lower(), typed[found].lower()), w))
            for found, words in spellings.items()
        }
        words = WORD.findall(text)
        suggestion = " ".join(best.get(replacements.get(term(w) or "", ""), w) for w in words)
        return suggestion if suggestion != " ".join(words) else None


def hit_for(entry: IndexEntry, score: float | None, marker: Marker, snippets: bool) -> Hit:
    """What a result list shows of an entry (every backend): title and snippet with the hits
    marked and everything else escaped."""
    return Hit(
        key=entry.key,
        kind=entry.kind,
        id=int(entry.key[1:]),
        title=entry.title,
        title_html=highlight_all(entry.title, marker),
        snippet_html=snippet(entry.content, marker) if snippets else "",
        file_reference=entry.file_reference,
        doc_type=entry.doc_type,
        status=entry.status,
        date=entry.sort_date,
        case_id=entry.case_id,
        process_id=entry.process_id,
        score=score,
    )


def _distance(a: str, b: str) -> int:
    """Levenshtein distance (short words only)."""
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def _replace_terms(q: Q.Query, replacements: dict[str, str]) -> Q.Query:
    """``q`` with each replaced word allowed in its corrected spelling too."""
    if isinstance(q, Q.Term) and q.fieldname in ("text", "title") and q.text in replacements:
        return Q.Or([q, Q.Term(q.fieldname, replacements[q.text], boost=q.boost)])
    if isinstance(q, Q.AndMaybe):
        return Q.AndMaybe(_replace_terms(q.a, replacements), _replace_terms(q.b, replacements))
    if isinstance(q, Q.And | Q.Or):
        return q.__class__([_replace_terms(sub, replacements) for sub in q.subqueries])
    return q


_searchers: dict[str, Searcher] = {}
_searchers_lock = threading.Lock()


def searcher_for(store: IndexStore) -> Searcher:
    """The process's searcher of an index directory (its caches are shared by all callers)."""
    key = str(store.path.resolve())
    with _searchers_lock:
        found = _searchers.get(key)
        if found is None:
            found = _searchers[key] = Searcher(store)
        return found
