"""The PostgreSQL search tables' own limits and guarantees, beyond what both backends share
(``test_index.py``): how far a query may reach, how long it may run, when statistics are
made, and what a search shows of entries changed while it runs."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import event
from sqlalchemy import text as sql

from indexing.errors import SearchQueryInvalid
from indexing.pg import analysis as pg_analysis
from indexing.pg import query as pg_query
from indexing.pg import search as pg_search
from indexing.pg.search import PgSearcher
from indexing.query import Access, Reach
from tests.search.conftest import pg_index
from tests.search.test_index import doc, keys, search


@pytest.fixture(params=[pytest.param("postgresql", marks=pytest.mark.postgres)], ids=["pgsearch"])
def pg_store(request):
    with pg_index(request.getfixturevalue("pg_server_url")) as index:
        yield index


def test_wildcards_and_phrases_that_reach_too_far_are_refused(pg_store):
    # Each word of an expansion is checked against every candidate's vector: a thousand at most.
    words = [f"wort{n:04d}i" for n in range(pg_query.MAX_EXPANSION + 1)]
    pg_store.write([doc(1, " ".join(words)), doc(2, "a b c d e")])
    with pytest.raises(SearchQueryInvalid):
        search(pg_store, "*i*", advanced=True)
    assert keys(search(pg_store, "wort000*", advanced=True)) == {"d1"}
    # One alternative per spacing of the words: 9 ** 4 of them is too many.
    with pytest.raises(SearchQueryInvalid):
        search(pg_store, '"a b c d e"~9', advanced=True)


def test_a_search_running_past_the_time_limit_is_reported_as_too_broad(pg_store, monkeypatch):
    pg_store.write([doc(1, "Antrag")])
    monkeypatch.setattr(pg_search, "STATEMENT_TIMEOUT", "100ms")
    scope = pg_search.access_sql

    def slow(access, compiler):  # a statement that takes a second
        return f"pg_sleep(1) IS NOT NULL AND {scope(access, compiler)}"

    monkeypatch.setattr(pg_search, "access_sql", slow)
    started = time.monotonic()
    with pytest.raises(SearchQueryInvalid):
        search(pg_store, "Antrag")
    assert time.monotonic() - started < 1
    monkeypatch.undo()
    assert keys(search(pg_store, "Antrag")) == {"d1"}  # the connection is fine afterwards


def test_a_rebuild_analyses_the_new_tables_before_the_swap(pg_store):
    """ANALYZE after the swap would run while searches wait for the swap's locks."""
    statements: list[str] = []
    event.listen(pg_store.engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    pg_store.rebuild([doc(n, f"Eintrag {n}") for n in range(1, 30)])
    swap = statements.index("DROP TABLE search_entry, search_doc, search_word")
    analysed = [i for i, s in enumerate(statements) if s.startswith("ANALYZE")]
    assert len(analysed) == 3 and max(analysed) < swap
    with pg_store.engine.connect() as conn:
        columns = conn.scalar(
            sql(
                "SELECT count(*) FROM pg_stats WHERE schemaname = current_schema() "
                "AND tablename = 'search_entry'"
            )
        )
    assert columns  # the statistics went along with the renamed table


def test_an_entry_moved_out_of_reach_during_a_search_is_not_shown(pg_store, monkeypatch):
    """R22: the hits are found in one statement, what they show is read in another."""
    unit_one = Access(1, (Reach(frozenset({1})),))
    pg_store.write([doc(1, "Antrag eingereicht", org_unit_id=1)])
    found = PgSearcher._run

    def found_then_moved(self, *args):
        result = found(self, *args)
        pg_store.write([doc(1, "Antrag mit Befund", title="Vertraulich", org_unit_id=2)])
        return result

    monkeypatch.setattr(PgSearcher, "_run", found_then_moved)
    result = search(pg_store, "Antrag", access=unit_one)
    assert [hit.title for hit in result.hits if hit.title == "Vertraulich"] == []


def test_the_word_cache_starting_afresh_loses_no_word_of_the_text(monkeypatch):
    monkeypatch.setattr(pg_analysis, "_CACHE_LIMIT", 2)
    analyzer = pg_analysis.SurfaceAnalyzer()
    assert analyzer.terms("Haus Hund") == ["haus", "hund"]
    assert analyzer.terms("Haus Katze Maus") == ["haus", "katze", "maus"]  # the cache is full
    assert analyzer.terms("Maus Haus") == ["maus", "haus"]
