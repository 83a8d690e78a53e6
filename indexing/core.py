"""The search core every backend shares: the request, the result, and the policy of a search
that does not depend on where the index lives.

A backend (``indexing.backend.SearchBackend``: Whoosh, PostgreSQL) finds documents, counts
and ranks them; this module decides the rest, once:

- what a request means (``parse``, ``paging``; facet filters by ``FILTER_FIELDS``),
- what a hit shows (``hit_for``: title and snippet marked, everything else escaped),
- typo tolerance: which words are corrected and to what (``corrections``), how the query
  then reads (``apply_corrections``) and the "did you mean" text (``suggestion``),
- the edit distance (``edit_distance``) that the last two and the backends' candidate checks
  use.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import TypedDict

from whoosh import query as Q

from indexing import query as parsing
from indexing.analysis import WORD, GermanAnalyzer
from indexing.errors import SearchQueryInvalid
from indexing.highlight import Marker, highlight_all, snippet
from indexing.query import Access, ParsedQuery
from indexing.schema import IndexEntry

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
# A simple search with fewer hits than this tries close spellings of its words.
FEW_HITS = 3
MAX_PER_PAGE = 100
MAX_FACET_VALUES = 50
# Words shorter than this are never corrected (too many close spellings).
MIN_TYPO_WORD = 3
# Documents whose words the suggestion takes its spellings from (the newest hits).
SUGGESTION_SOURCES = 5


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


class Health(TypedDict):
    """What a health check shows of the index: ``status`` "ok" or "empty" (none built yet,
    not a failure), and how many entries it holds."""

    status: str
    documents: int


# --- the request --------------------------------------------------------------------------------


def parse(request: SearchRequest, analyzer: GermanAnalyzer | None = None) -> ParsedQuery:
    """The request's text as a query tree (the simple box or the query language); raises a
    ``SearchQueryInvalid`` for text (or a sort order) that cannot be run."""
    parser = parsing.advanced if request.advanced else parsing.simple
    parsed = parser(request.text) if analyzer is None else parser(request.text, analyzer)
    if request.sort not in SORTS:
        raise SearchQueryInvalid(f"unknown sort order {request.sort!r}")
    return parsed


def paging(request: SearchRequest) -> tuple[int, int]:
    """(page, per_page) of the request, within bounds."""
    return max(1, request.page), max(1, min(request.per_page, MAX_PER_PAGE))


def filter_field(name: str) -> str:
    """The index field a selected facet value filters on."""
    fieldname = FILTER_FIELDS.get(name)
    if fieldname is None:
        raise SearchQueryInvalid(f"unknown filter {name!r}")
    return fieldname


def sorted_facet(name: str, counts: list[FacetCount]) -> list[FacetCount]:
    """A facet's values as shown: years newest first, the rest most frequent first."""
    counts = [c for c in counts if c.count]
    if name == "year":
        counts.sort(key=lambda c: c.value, reverse=True)
    else:
        counts.sort(key=lambda c: (-c.count, c.value))
    return counts[:MAX_FACET_VALUES]


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


# --- typo tolerance ------------------------------------------------------------------------------


def edit_distance(a: str, b: str, limit: int | None = None) -> int:
    """Levenshtein distance (short words only); with ``limit``, gives up (returning
    ``limit + 1``) as soon as the distance is sure to exceed it."""
    if limit is not None and abs(len(a) - len(b)) > limit:
        return limit + 1
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        if limit is not None and min(current) > limit:
            return limit + 1
        previous = current
    return previous[-1]


def max_edits(word: str) -> int:
    """How many edits away a correction of ``word`` may be."""
    return 1 if len(word) <= 5 else 2


def corrections(
    words: Iterable[str],
    counts: Callable[[list[str]], Mapping[str, int]],
    similar: Callable[[str, int], list[str]],
) -> dict[str, str]:
    """Which words of a search to replace, and by what: a word found in fewer than
    ``FEW_HITS`` visible documents is replaced by the close spelling (``similar(word,
    max_edits)``: candidates sharing the first letter, the word itself left out) found in most
    visible documents (``counts``) — any that is found, for a word found nowhere; for a word
    found rarely, only one found clearly more often."""
    chosen: dict[str, str] = {}
    typed = [w for w in dict.fromkeys(words) if len(w) >= MIN_TYPO_WORD]
    own = counts(typed)
    for word in typed:
        found = own.get(word, 0)
        if found >= FEW_HITS:
            continue
        candidates = [c for c in similar(word, max_edits(word)) if c != word]
        if not candidates:
            continue
        found_counts = counts(candidates)
        best, best_count = None, max(FEW_HITS - 1, 2 * found) if found else 0
        for candidate in candidates:
            count = found_counts.get(candidate, 0)
            if count > best_count:
                best, best_count = candidate, count
        if best is not None:
            chosen[word] = best
    return chosen


def apply_corrections(
    parsed: ParsedQuery, replacements: dict[str, str], result: SearchResult
) -> None:
    """The query with each replaced word allowed in its corrected spelling too; the corrected
    words are marked in the hits and the result says it includes close spellings."""
    parsed.query = replace_terms(parsed.query, replacements)
    parsed.highlight.update(replacements.values())
    result.fuzzy = True


def replace_terms(q: Q.Query, replacements: dict[str, str]) -> Q.Query:
    """``q`` with each replaced word allowed in its corrected spelling too."""
    if isinstance(q, Q.Term) and q.fieldname in ("text", "title") and q.text in replacements:
        return Q.Or([q, Q.Term(q.fieldname, replacements[q.text], boost=q.boost)])
    if isinstance(q, Q.AndMaybe):
        return Q.AndMaybe(replace_terms(q.a, replacements), replace_terms(q.b, replacements))
    if isinstance(q, Q.And | Q.Or):
        return q.__class__([replace_terms(sub, replacements) for sub in q.subqueries])
    return q


def suggestion(
    text: str,
    replacements: dict[str, str],
    sources: Iterable[str],
    term: Callable[[str], str | None],
    may_match: Callable[[str], bool] = lambda word: True,
) -> str | None:
    """The typed ``text`` with each replaced word as a visible document spells it: of the
    spellings in ``sources`` (texts of the newest corrected hits) whose ``term`` is the
    correction, the one closest to what was typed. ``may_match`` is a cheap pre-check of a
    source word (it must not reject a word whose term is a correction). None: nothing would
    change."""
    typed: dict[str, str] = {}  # corrected term -> the word as typed
    for word in WORD.findall(text):
        found = term(word)
        if found in replacements:
            typed[replacements[found]] = word
    spellings: dict[str, set[str]] = {}
    for source in sources:
        for word in WORD.findall(source):
            if not may_match(word):
                continue
            found = term(word)
            if found in typed:
                spellings.setdefault(found, set()).add(word)
    best = {
        found: min(words, key=lambda w: (edit_distance(w.lower(), typed[found].lower()), w))
        for found, words in spellings.items()
    }
    words = WORD.findall(text)
    suggested = " ".join(best.get(replacements.get(term(w) or "", ""), w) for w in words)
    return suggested if suggested != " ".join(words) else None
