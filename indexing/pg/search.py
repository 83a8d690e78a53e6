"""Searching the PostgreSQL tables: the same ``SearchRequest`` in, the same ``SearchResult``
out as the Whoosh backend (``indexing.search``).

Everything runs inside the user's ``Access`` filter, as SQL in the same statement: the hits,
their number and the facet counts (one grouped query: ``GROUPING SETS``), the words tried for
typo tolerance and the suggestion (R22). Ranking is ``ts_rank`` over the weighted vector
(title A, correspondent B, document type C, content D), normalised by document length; boosted
file-reference and case terms add to it. Snippets are cut from the page's hits only, by the
same code as for Whoosh (``indexing.highlight``: the hits marked, everything else escaped).

Ranking reads each ranked entry's whole vector. Up to ``RANK_ALL`` hits all are ranked; above
that, the ``RANK_WINDOW`` newest hits and the ``RANK_WINDOW`` newest with a word in the title
are — a word common enough to have more hits is no longer a good sign of relevance, and
reading tens of thousands of vectors would take seconds. Counts, facets and
date sorting always take every hit.
"""

from __future__ import annotations

import logging
import time
from datetime import date
from typing import TYPE_CHECKING, Any

from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from indexing import core
from indexing.analysis import GermanAnalyzer
from indexing.core import FACETS, FEW_HITS, FacetCount, Hit, SearchRequest, SearchResult
from indexing.errors import SearchQueryInvalid
from indexing.highlight import Marker
from indexing.pg.analysis import surface
from indexing.pg.query import Compiled, Compiler, access_sql, like_escape, similar_words
from indexing.pg.schema import CONFIG, VERSION, trgm_schema
from indexing.query import ParsedQuery
from indexing.schema import IndexEntry

if TYPE_CHECKING:  # the index builds its searcher: only its type is needed here
    from indexing.pg.store import PgIndex

log = logging.getLogger(__name__)

# GROUPING(plan, doctype, year, status) of each grouping set: a bit for each column left out.
_GROUPS = {15: None, 7: "node", 11: "doctype", 13: "year", 14: "status"}
_FACET_COLUMNS = {"node": "plan", "doctype": "doctype", "year": "year", "status": "status"}
# ts_rank's normalisation 1: divided by 1 + log(length), so long documents do not win by bulk.
_RANK = f"ts_rank(vector, to_tsquery('{CONFIG}', :rank), 1)"
RANK_ALL = 2000
# What the scan of the hits keeps of each: what facets, sorting and boosted terms read, and
# where the row is (the ranking reads the vectors of the chosen rows by their ctid).
_HIT_COLUMNS = (
    "ctid AS row, key, kind, plan, reference, doctype, status, case_id, process_id, sort_date, year"
)
_PLAIN = {"ä": "a", "ö": "o", "ü": "u"}  # "Aerger" is spelt "ärger" once folded
RANK_WINDOW = 1000
# How long a check that the tables are there and current holds (a rebuild swaps them).
STATE_TTL_S = 5.0
# A statement of a search that runs longer is cancelled: a query this broad is the user's to
# narrow, and it must not hold a connection and a core meanwhile.
STATEMENT_TIMEOUT = "10s"
# SQLSTATEs of a tsquery the database cannot run (e.g. a phrase of stop words only), and of a
# statement cancelled by the time limit: both are the user's to change.
_USER_ERRORS = ("42601", "22023", "54000", "57014")


class PgSearcher:
    """Searches the tables of one ``PgIndex``; thread-safe (a connection per search)."""

    def __init__(self, index: PgIndex) -> None:
        self.index = index
        self.engine = index.engine
        self.analyzer = index.analyzer
        self.marking = GermanAnalyzer()
        self._checked = 0.0

    def search(self, request: SearchRequest) -> SearchResult:
        parsed = core.parse(request, self.analyzer)
        page, per_page = core.paging(request)
        with self.engine.connect() as conn:
            if not self._current(conn):
                return SearchResult(total=0, page=page, per_page=per_page)
            try:
                result = self._search(conn, request, parsed, page, per_page)
            except DBAPIError as exc:
                # What the database refuses to run is the user's to change (_USER_ERRORS);
                # anything else (connection lost) is not.
                state = getattr(exc.orig, "sqlstate", "")
                if state in _USER_ERRORS:
                    raise SearchQueryInvalid(str(exc.orig)) from None
                if state == "42P01":  # the tables were dropped since they were last checked
                    self._checked = 0.0
                    return SearchResult(total=0, page=page, per_page=per_page)
                raise
            finally:
                conn.rollback()
        return result

    def _current(self, conn: Connection) -> bool:
        if time.monotonic() - self._checked < STATE_TTL_S:
            return True
        found = conn.scalar(text("SELECT to_regclass('search_state') IS NOT NULL"))
        current = bool(found) and (conn.scalar(text("SELECT version FROM search_state")) == VERSION)
        self._checked = time.monotonic() if current else 0.0
        return current

    def _search(
        self,
        conn: Connection,
        request: SearchRequest,
        parsed: ParsedQuery,
        page: int,
        per_page: int,
    ) -> SearchResult:
        # The planner does not count what reading a vector costs: to it, checking every row's
        # vector (a sequential scan) looks cheaper than the GIN index once a word is common,
        # when it is ten times slower. Just-in-time compilation only pays for long reports;
        # the hits of a common word (tens of thousands) are grouped in memory, not on disk.
        conn.execute(
            text(
                "SELECT set_config('enable_seqscan', 'off', true), "
                "set_config('jit', 'off', true), set_config('work_mem', '64MB', true), "
                "set_config('statement_timeout', :timeout, true)"
            ),
            {"timeout": STATEMENT_TIMEOUT},
        )
        compiler = Compiler(conn)
        scope = self._scope(request, compiler)
        compiled = compiler.compile(parsed.query)
        where = f"({scope}) AND ({compiled.where})"
        params = dict(compiled.params)
        result = SearchResult(total=0, page=page, per_page=per_page)
        run = self._run
        result.total, result.facets, ranked = run(conn, where, params, compiled, parsed, request)
        if result.total < FEW_HITS and parsed.words and not request.advanced:
            corrected = self._tolerate_typos(conn, parsed, scope, compiler, result, request.text)
            if corrected is not None:
                compiled = corrected
                where = f"({scope}) AND ({compiled.where})"
                params = dict(compiled.params)
                result.total, result.facets, ranked = self._run(
                    conn, where, params, compiled, parsed, request
                )
        relevance = request.sort == "relevance" and not parsed.match_all
        rows = self._documents(conn, ranked, relevance, scope, compiler.params)
        marker = Marker(
            self.marking,
            {t for t in map(self.marking.term, parsed.highlight) if t},
            [self.marking.prefix(p) for p in parsed.prefixes],
        )
        result.hits = [self._hit(row, marker, request.snippets) for row in rows]
        return result

    # --- the parts of a search ---------------------------------------------------------------

    def _scope(self, request: SearchRequest, compiler: Compiler) -> str:
        """What the user may see, narrowed by the selected facet values."""
        parts = [access_sql(request.access, compiler)]
        for name, value in request.filters:
            fieldname = core.filter_field(name)
            value = str(value).strip()
            if fieldname == "plan":
                parts.append(
                    f"(plan = {compiler.param(value)} OR plan LIKE "
                    f"{compiler.param(like_escape(value) + '.%')})"
                )
            elif fieldname == "year":
                parts.append(f"year = {compiler.param(int(value))}" if value.isdigit() else "FALSE")
            elif fieldname == "doctype":
                parts.append(f"lower(doctype) = {compiler.param(value.lower())}")
            else:
                parts.append(f"{fieldname} = {compiler.param(value)}")
        return " AND ".join(f"({p})" for p in parts)

    def _run(
        self,
        conn: Connection,
        where: str,
        params: dict[str, Any],
        compiled: Compiled,
        parsed: ParsedQuery,
        request: SearchRequest,
    ) -> tuple[int, dict[str, list[FacetCount]], list[tuple[str, float | None]]]:
        """The number of hits, the facet counts and the page's (key, score) — in one statement
        that reads the hits once (see the module docstring for what is ranked)."""
        page, per_page = core.paging(request)
        params = dict(params, limit=per_page, offset=(page - 1) * per_page)
        params.update(window=RANK_WINDOW, rank_all=RANK_ALL)
        relevance = request.sort == "relevance" and not parsed.match_all
        chosen = ""
        if relevance and compiled.rank:
            params["rank"] = compiled.rank
            score = " + ".join([_RANK, *compiled.extras])
            # Every hit while there are few, else the newest and the newest titled ones.
            chosen = (
                "(SELECT row FROM hits WHERE (SELECT n FROM counted WHERE g = 15) "  # noqa: S608
                "<= :rank_all) "
                "UNION (SELECT row FROM hits ORDER BY sort_date DESC NULLS LAST, key "
                "LIMIT :window) UNION (SELECT row FROM hits WHERE key IN (SELECT key FROM "
                f"search_entry WHERE title_vector @@ to_tsquery('{CONFIG}', :rank)) "
                "ORDER BY sort_date DESC NULLS LAST, key LIMIT :window)"
            )
            # The ranked first, then (many hits only) the others, newest first. The others
            # are only read by a page beyond the ranked ones: the limit stops the append
            # before its second part (which keeps the order of its parts: no parallel plan).
            paged = (
                f"(SELECT key, {score} AS score FROM search_entry "  # noqa: S608 (bound values)
                "WHERE ctid = ANY(ARRAY(SELECT row FROM chosen)) "
                "ORDER BY score DESC, sort_date DESC NULLS LAST, key) UNION ALL "
                "(SELECT key, NULL FROM hits WHERE NOT EXISTS "
                "(SELECT 1 FROM chosen WHERE chosen.row = hits.row) "
                "ORDER BY sort_date DESC NULLS LAST, key)"
            )
        elif relevance and compiled.extras:
            score = " + ".join(compiled.extras)
            paged = (
                f"SELECT key, {score} AS score FROM hits "  # noqa: S608 (bound values)
                "ORDER BY score DESC, sort_date DESC NULLS LAST, key"
            )
        elif request.sort == "oldest":
            paged = (
                "SELECT key, NULL::float8 AS score FROM hits ORDER BY sort_date NULLS FIRST, key"
            )
        else:
            paged = (
                "SELECT key, NULL::float8 AS score FROM hits "
                "ORDER BY sort_date DESC NULLS LAST, key"
            )
        groups = "(), (plan), (doctype), (year), (status)" if request.facets else "()"
        sql = (
            f"WITH hits AS MATERIALIZED (SELECT {_HIT_COLUMNS} FROM search_entry "  # noqa: S608
            f"WHERE {where}), "
            "counted AS (SELECT GROUPING(plan, doctype, year, status) AS g, plan, doctype, "
            f"year, status, count(*) AS n FROM hits GROUP BY GROUPING SETS ({groups})), "
            + (f"chosen AS MATERIALIZED ({chosen}), " if chosen else "")
            + f"paged AS ({paged} LIMIT :limit OFFSET :offset) "  # noqa: S608 (bound values)
            "SELECT g, plan, doctype, year, status, n, NULL AS key, NULL::float8 AS score, "
            "0 AS place FROM counted UNION ALL "
            "SELECT NULL, NULL, NULL, NULL, NULL, NULL, key, score, row_number() OVER () "
            "FROM paged"
        )
        facets: dict[str, list[FacetCount]] = {name: [] for name in FACETS}
        total, ranked = 0, []
        for row in conn.execute(text(sql), params):
            if row.key is not None:
                ranked.append((row.place, row.key, row.score))
                continue
            name = _GROUPS.get(row.g)
            if name is None:
                total = row.n
                continue
            value = getattr(row, _FACET_COLUMNS[name])
            if value in ("", 0, None):  # no node, type or date: not a facet value
                continue
            facets[name].append(FacetCount(str(value), row.n))
        facets = {name: core.sorted_facet(name, counts) for name, counts in facets.items()}
        ranked.sort()
        return total, facets if request.facets else {}, [(k, sc) for _p, k, sc in ranked]

    def _documents(
        self,
        conn: Connection,
        ranked: list[tuple[str, float | None]],
        relevance: bool,
        scope: str,
        params: dict[str, Any],
    ) -> list[tuple[Any, float | None]]:
        """What the page's hits show, in their order: read inside the user's scope again, as
        this is a statement of its own, which sees entries changed since the hits were found
        (one moved out of the user's reach is left out, R22)."""
        sql = (
            "SELECT key, d.entry, d.content FROM search_doc d "  # noqa: S608 (bound values)
            f"JOIN search_entry USING (key) WHERE key = ANY(:hit_keys) AND ({scope})"
        )
        rows = conn.execute(text(sql), dict(params, hit_keys=[key for key, _ in ranked]))
        docs = {row.key: row for row in rows}
        return [
            (docs[key], float(score or 0.0) if relevance else None)
            for key, score in ranked
            if key in docs
        ]

    def _hit(self, found: tuple[Any, float | None], marker: Marker, snippets: bool) -> Hit:
        row, score = found
        return core.hit_for(_entry(row.entry, row.content), score, marker, snippets)

    # --- typo tolerance ------------------------------------------------------------------------

    def _counts(
        self, conn: Connection, scope: str, params: dict[str, Any], words: list[str]
    ) -> dict[str, int]:
        """How many visible entries contain each word (one statement for all)."""
        if not words:
            return {}
        sql = (
            "SELECT w, (SELECT count(*) FROM search_entry WHERE "  # noqa: S608 (bound values)
            f"({scope}) AND vector @@ to_tsquery('{CONFIG}', quote_literal(w))) AS n "
            "FROM unnest(CAST(:typo_words AS text[])) AS w"
        )
        rows = conn.execute(text(sql), dict(params, typo_words=words))
        return {row.w: row.n for row in rows}

    def _tolerate_typos(
        self,
        conn: Connection,
        parsed: ParsedQuery,
        scope: str,
        compiler: Compiler,
        result: SearchResult,
        typed_text: str,
    ) -> Compiled | None:
        """Words that (almost) do not occur in what the user may see are allowed in a close
        spelling that does (``core.corrections``); the suggestion shows it as a visible
        document spells it."""
        trgm = trgm_schema(conn)

        def counts(words: list[str]) -> dict[str, int]:
            return self._counts(conn, scope, compiler.params, words)

        def similar(word: str, maxdist: int) -> list[str]:
            return similar_words(conn, word, maxdist, 1, trgm)

        replacements = core.corrections(parsed.words, counts, similar)
        if not replacements:
            return None
        core.apply_corrections(parsed, replacements, result)
        corrected = Compiler(conn)
        corrected.params.update(compiler.params)  # the scope's parameters keep their names
        compiled = corrected.compile(parsed.query)
        where = f"({scope}) AND ({compiled.where})"
        result.suggestion = self._suggestion(conn, where, compiled.params, replacements, typed_text)
        return compiled

    def _suggestion(
        self,
        conn: Connection,
        where: str,
        params: dict[str, Any],
        replacements: dict[str, str],
        typed_text: str,
    ) -> str | None:
        sql = (
            "SELECT d.entry, d.content FROM search_doc d WHERE d.key IN "  # noqa: S608
            f"(SELECT key FROM search_entry WHERE {where} "
            f"ORDER BY sort_date DESC NULLS LAST, key LIMIT {core.SUGGESTION_SOURCES})"
        )
        sources = [
            f"{row.entry.get('title', '')} {row.content}" for row in conn.execute(text(sql), params)
        ]
        # Folding keeps the first letter's case: a word starting otherwise is no spelling of a
        # correction (a cheap check before folding every word of the sources).
        firsts = {w[0] for w in replacements.values()}
        firsts |= {_PLAIN.get(c, c) for c in firsts}
        starts = tuple(firsts | {c.upper() for c in firsts})
        return core.suggestion(
            typed_text, replacements, sources, surface, lambda word: word.startswith(starts)
        )


def _entry(stored: dict[str, Any], content: str) -> IndexEntry:
    values = dict(stored, content=content)
    for name in ("received", "created", "closed"):
        if values.get(name):
            values[name] = date.fromisoformat(values[name])
    return IndexEntry(**values)


__all__ = ["PgSearcher", "access_sql"]
