"""The search index on its own (``indexing/``): German analysis, query features, snippets, bad
input, and the writer's guarantees (one commit per batch, no lock errors, purge).

The ``store`` tests run against both backends — the Whoosh directory and the PostgreSQL
tables — with the same assertions; ``whoosh_store`` tests are about Whoosh's own files
(segments, the bitmap engine) and have no PostgreSQL counterpart (the PostgreSQL tables' own
limits are in ``test_pg_index.py``).
"""

from __future__ import annotations

import multiprocessing
from datetime import date

import pytest
from sqlalchemy import create_engine
from sqlalchemy import text as sql

from indexing.analysis import GermanAnalyzer
from indexing.backend import WhooshIndex
from indexing.core import SearchRequest
from indexing.errors import SearchQueryInvalid
from indexing.pg import PgIndex
from indexing.query import Access, Reach
from indexing.schema import CASE, DOCUMENT, SCHEMA_VERSION, IndexEntry
from indexing.search import Searcher
from indexing.store import MERGE_FACTOR, STATE_FILE, IndexStore
from tests.search.conftest import pg_index

EVERYONE = Access(1, (Reach(None),), restricted=True)


def doc(n: int, content: str = "", **values) -> IndexEntry:
    fields = {
        "key": f"d{n}",
        "kind": DOCUMENT,
        "tenant_id": 1,
        "title": f"Schreiben {n}",
        "org_unit_id": 1,
        "content": content,
        "status": "open",
        "received": date(2020 + n % 5, 1 + n % 12, 1 + n % 28),
    }
    fields.update(values)
    return IndexEntry(**fields)


def search(store, text: str, **kw):
    request = SearchRequest(text, kw.pop("access", EVERYONE), **kw)
    if isinstance(store, IndexStore):
        return Searcher(store).search(request)
    return store.search(request)


def keys(result) -> set[str]:
    return {hit.key for hit in result.hits}


@pytest.fixture(
    params=["whoosh", pytest.param("postgresql", marks=pytest.mark.postgres)],
    ids=["whoosh", "pgsearch"],
)
def store(request, tmp_path):
    """An empty index of either backend (PostgreSQL: in a schema of its own)."""
    if request.param == "whoosh":
        yield WhooshIndex(tmp_path / "index")
        return
    with pg_index(request.getfixturevalue("pg_server_url")) as index:
        yield index


@pytest.fixture
def whoosh_store(tmp_path) -> IndexStore:
    return IndexStore(tmp_path / "index")


def test_a_full_word_cache_loses_no_word_of_the_text_being_analysed(monkeypatch):
    from indexing import analysis

    monkeypatch.setattr(analysis, "_CACHE_LIMIT", 2)
    analyzer = GermanAnalyzer()
    assert analyzer.terms("Haus Hund") == ["haus", "hund"]
    assert analyzer.terms("Haus Katze Maus") == ["haus", "katz", "maus"]  # the cache is full
    assert list(analyzer.positions("Maus Haus")) == ["maus", "haus"]


def test_german_spellings_meet_at_index_and_query_time(store):
    analyzer = GermanAnalyzer()
    assert len(set(analyzer.terms("Gebühr Gebuehr Gebühren GEBÜHREN gebuehren"))) == 1
    assert len(set(analyzer.terms("Straße Strasse STRASSE"))) == 1
    assert len(set(analyzer.terms("Anträge Antrag"))) == 1
    assert analyzer.terms("die und der für über dass daß") == []  # German stop words
    store.write([doc(1, "Die Gebühr ist fällig."), doc(2, "Die Gebuehren sind bezahlt."),
                 doc(3, "Eine Straßensperrung.")])  # fmt: skip
    for typed in ("Gebühr", "Gebuehr", "Gebühren", "GEBÜHREN", "gebuehren"):
        assert keys(search(store, typed)) == {"d1", "d2"}, typed
        assert keys(search(store, f"inhalt:{typed}", advanced=True)) == {"d1", "d2"}, typed
    assert keys(search(store, "Gebühr*")) == {"d1", "d2"}
    assert keys(search(store, "strassensperrung")) == {"d3"}


def test_cases_by_file_reference_and_file_plan_prefix(store):
    store.write(
        [
            IndexEntry("c1", CASE, 1, "Gewerbeuntersagung Müller", org_unit_id=1,
                       file_reference="32.10.05-0001/2024", plan_code="32.10.05", case_id=1),
            IndexEntry("c2", CASE, 1, "Hundesteuer Bello", org_unit_id=1,
                       file_reference="32.20-0001/2024", plan_code="32.20", case_id=2),
            IndexEntry("c3", CASE, 1, "Gewerbe Schmidt", org_unit_id=1,
                       file_reference="32.10.01-0007/2023", plan_code="32.10.01", case_id=3),
            doc(4, "Anhörung", file_reference="32.10.05-0001/2024", plan_code="32.10.05",
                case_id=1),
        ]
    )  # fmt: skip
    # Exact reference: the case first, then what is filed in it.
    exact = search(store, "32.10.05-0001/2024")
    assert [hit.key for hit in exact.hits] == ["c1", "d4"]
    assert keys(search(store, "32.10.05-00")) == {"c1", "d4"}  # a reference prefix
    assert keys(search(store, "32.10")) == {"c1", "c3", "d4"}  # everything beneath 32.10
    assert keys(search(store, "32.1")) == set()  # codes are whole parts, not characters
    assert keys(search(store, "aktenplan:32.20", advanced=True)) == {"c2"}
    assert keys(search(store, "az:32.10*", advanced=True)) == {"c1", "c3", "d4"}
    assert keys(search(store, "Bello")) == {"c2"}  # cases by their title
    assert keys(search(store, "32.10", filters=(("kind", "case"),))) == {"c1", "c3"}


def test_query_language_phrases_wildcards_fields_and_date_ranges(store):
    store.write(
        [
            doc(1, "Antrag auf Baugenehmigung für ein Haus", received=date(2022, 3, 1),
                doc_type="Antrag", correspondent="Anna Schmidt"),
            doc(2, "Baugenehmigung erteilt, kein Antrag nötig", received=date(2021, 7, 9),
                doc_type="Bescheid"),
            doc(3, "Hundesteuer für Bello", received=date(2022, 11, 30), doc_type="Bescheid"),
        ]
    )  # fmt: skip
    adv = {"advanced": True}
    assert keys(search(store, '"Antrag auf Baugenehmigung"')) == {"d1"}
    assert keys(search(store, '"Baugenehmigung Antrag"')) == set()
    assert keys(search(store, "eingang:2022", **adv)) == {"d1", "d3"}
    assert keys(search(store, "eingang:[2021-07 to 2022-03]", **adv)) == {"d1", "d2"}
    assert keys(search(store, "eingang:30.11.2022", **adv)) == {"d3"}
    assert keys(search(store, "Baugenehmigung AND NOT typ:Antrag", **adv)) == {"d2"}
    assert keys(search(store, "Hundesteuer OR absender:Schmidt", **adv)) == {"d1", "d3"}
    assert keys(search(store, "Baugenehm*", **adv)) == {"d1", "d2"}
    assert keys(search(store, "H?ndesteuer", **adv)) == {"d3"}
    assert keys(search(store, "Hundestuer~", **adv)) == {"d3"}
    assert keys(search(store, "(Haus OR Bello) typ:Bescheid", **adv)) == {"d3"}


def test_prefixes_that_are_stop_words_find_longer_words(store):
    # "ein", "aus", "bei" are stop words: PostgreSQL's to_tsquery drops "ein:*" altogether.
    store.write(
        [
            doc(1, "Der Einwohner braucht einen Ausweis", title="Einwohnermeldeamt"),
            doc(2, "Beihilfe für den Umbau"),
            doc(3, "Einerseits teuer, andererseits nötig"),
            doc(4, "Kein Treffer hier"),
        ]
    )
    adv = {"advanced": True}
    assert keys(search(store, "ein*", **adv)) == {"d1", "d3"}
    assert keys(search(store, "Aus*", **adv)) == {"d1"}
    assert keys(search(store, "bei*", **adv)) == {"d2"}
    assert keys(search(store, "inhalt:ein* AND NOT titel:ein*", **adv)) == {"d3"}
    assert keys(search(store, "titel:ein*", **adv)) == {"d1"}
    assert keys(search(store, "ein*")) == {"d1", "d3"}  # the simple box alike
    assert keys(search(store, "Beihilfe bei*")) == {"d2"}


def test_fuzzy_words_find_themselves_and_one_letter_typos_of_short_words(store):
    store.write(
        [
            doc(1, "Herr Meier wohnt im Haus am See", correspondent="Meier"),
            doc(2, "Der Hund heißt Bello"),
            doc(3, "Antrag eingereicht"),
        ]
    )
    adv = {"advanced": True}
    assert keys(search(store, "Meier~", **adv)) == {"d1"}  # no other spelling: itself
    assert keys(search(store, "absender:Meier~", **adv)) == {"d1"}
    assert keys(search(store, "Antrag~2", **adv)) == {"d3"}
    assert keys(search(store, "Hsus~", **adv)) == {"d1"}  # a trigram similarity of 0.25
    assert keys(search(store, "Hnd~", **adv)) == {"d2"}
    typo = search(store, "Hsus")
    assert typo.fuzzy and keys(typo) == {"d1"}


def test_phrases_with_a_distance_keep_the_order_of_the_words(store):
    store.write(
        [
            doc(1, "Antrag auf Baugenehmigung für ein Haus eingereicht"),
            doc(2, "Haus ohne Antrag"),
        ]
    )
    adv = {"advanced": True}
    assert keys(search(store, '"Antrag Haus"~5', **adv)) == {"d1"}
    assert keys(search(store, '"Antrag Haus"~2', **adv)) == {"d1"}  # one word between
    assert keys(search(store, '"Antrag Haus"~1', **adv)) == set()  # adjacent only
    assert keys(search(store, '"Haus Antrag"~3', **adv)) == {"d2"}
    assert keys(search(store, '"Antrag Baugenehmigung eingereicht"~2', **adv)) == {"d1"}
    assert keys(search(store, '"Antrag Haus eingereicht"~2', **adv)) == {"d1"}
    assert keys(search(store, '"Antrag eingereicht Haus"~3', **adv)) == set()


def test_case_and_process_ids_compare_as_text_in_prefixes_and_ranges(store):
    store.write(
        [
            doc(1, "eins", case_id=1, process_id=13),
            doc(2, "zwei", case_id=12, process_id=3),
            doc(3, "drei", case_id=2, process_id=1),
            doc(4, "vier"),
        ]
    )
    adv = {"advanced": True}
    assert keys(search(store, "akte:1*", **adv)) == {"d1", "d2"}
    assert keys(search(store, "vorgang:1*", **adv)) == {"d1", "d3"}
    assert keys(search(store, "akte:1?", **adv)) == {"d2"}
    assert keys(search(store, "akte:[1 TO 2]", **adv)) == {"d1", "d2", "d3"}
    assert keys(search(store, "akte:>1", **adv)) == {"d2", "d3"}
    assert keys(search(store, "akte:12", **adv)) == {"d2"}


def noise(count: int) -> str:
    """``count`` different made-up words (as OCR of a damaged scan gives): 8 letters each."""
    letters = "bcdfghjklmnpqrstvwxz"
    words = []
    for n in range(count):
        word = ""
        for _ in range(6):
            n, r = divmod(n, len(letters))
            word += letters[r]
        words.append(f"q{word}o")
    return " ".join(words)


def test_a_document_of_a_hundred_thousand_different_words_is_indexed_with_its_batch(store):
    # 1 MB of distinct words: more than a PostgreSQL tsvector holds ("string is too long").
    store.write([doc(1, noise(120_000)), doc(2, "Ein ganz gewöhnlicher Bescheid")])
    assert store.keys() == {"d1", "d2"}
    assert keys(search(store, "Bescheid")) == {"d2"}
    assert keys(search(store, "qbbbbbbo")) == {"d1"}  # its first words are found
    assert store.rebuild([doc(1, noise(120_000)), doc(2, "Bescheid")]) == 2
    assert keys(search(store, "Bescheid")) == {"d2"}


def test_ranking_pagination_sorting_and_facets(store):
    entries = [
        doc(n, "Mahnung " * (1 + n % 4), doc_type="Mahnung" if n % 2 else "Bescheid",
            plan_code="20.20" if n < 10 else "20.30", status="closed" if n % 3 else "open",
            received=date(2015 + n % 8, 5, 1 + n))
        for n in range(1, 24)
    ]  # fmt: skip
    store.write(entries)
    first = search(store, "Mahnung", per_page=10)
    assert first.total == 23 and first.pages == 3 and len(first.hits) == 10
    scores = [hit.score for hit in first.hits]
    assert scores == sorted(scores, reverse=True)
    everything = [hit.key for p in (1, 2, 3) for hit in search(store, "Mahnung", page=p,
                                                                per_page=10).hits]  # fmt: skip
    assert sorted(everything) == sorted(e.key for e in entries)  # no hit twice, none lost
    newest = search(store, "Mahnung", sort="newest", per_page=23).hits
    assert [h.date for h in newest] == sorted((e.received for e in entries), reverse=True)
    oldest = search(store, "Mahnung", sort="oldest", per_page=5).hits
    assert [h.date for h in oldest] == sorted(e.received for e in entries)[:5]
    facets = first.facets
    assert {f.value: f.count for f in facets["doctype"]} == {"Mahnung": 12, "Bescheid": 11}
    assert {f.value: f.count for f in facets["node"]} == {"20.20": 9, "20.30": 14}
    assert sum(f.count for f in facets["year"]) == 23
    assert {f.value: f.count for f in facets["status"]} == {"closed": 16, "open": 7}
    # A selected facet value narrows the hits and the other facets.
    narrowed = search(store, "Mahnung", filters=(("doctype", "Bescheid"), ("node", "20.30")))
    assert narrowed.total == sum(
        1 for e in entries if e.doc_type == "Bescheid" and e.plan_code == "20.30"
    )
    assert {f.value for f in narrowed.facets["doctype"]} == {"Bescheid"}


def test_typo_tolerance_with_a_suggestion_spelt_as_in_the_documents(store):
    store.write([doc(n, "Die Gebühr für die Sondernutzung.") for n in range(1, 6)])
    result = search(store, "Sondernutzng Gebür")
    assert result.fuzzy and result.total == 5
    assert result.suggestion == "Sondernutzung Gebühr"
    assert "<mark>Gebühr</mark>" in result.hits[0].snippet_html
    exact = search(store, "Sondernutzung")
    assert not exact.fuzzy and exact.suggestion is None


def test_snippets_escape_everything_but_the_marks(store):
    hostile = 'Antrag <script>alert("x")</script> und "><img src=x onerror=alert(1)> Ende'
    store.write([doc(1, hostile, title="<b>Antrag</b> <script>evil()</script>")])
    hit = search(store, "Antrag onerror").hits[0]
    for html in (hit.snippet_html, hit.title_html):
        assert "<script" not in html and "<img" not in html and "<b>" not in html
        assert html.replace("<mark>", "").replace("</mark>", "").count("<") == 0
    assert "&lt;script&gt;" in hit.snippet_html and "&lt;img src=x" in hit.snippet_html
    assert "<mark>Antrag</mark>" in hit.snippet_html and "<mark>onerror</mark>" in hit.snippet_html
    assert (
        hit.title_html
        == "&lt;b&gt;<mark>Antrag</mark>&lt;/b&gt; &lt;script&gt;evil()&lt;/script&gt;"
    )


BAD_INPUT = [
    '"Antrag auf',  # unbalanced quote
    "(Antrag OR Bescheid",  # unbalanced parenthesis
    "(Antrag Bescheid",
    "Antrag)) OR ((",
    "*",
    "x" * 5000,
    "foo:bar",  # unknown field
    "tenant:2",  # a field that exists but is not for users
    "Antrag\x00\x07\x1b[31m\u200b",  # control characters
    "eingang:[2023 to 2021]",  # the wrong way round
    "eingang:2022-13",
    "eingang:[2022-13 to 2023]",
    "a*",
    "?",
    "AND",
    "NOT NOT NOT",
    "titel:",
    ":::",
    "\\",
    "^2",
    "Antrag~9/99",
    "[a TO",
    "",
    "   ",
]


@pytest.mark.parametrize("advanced", [False, True])
def test_bad_input_gives_results_or_a_clear_message(store, advanced):
    store.write([doc(1, "Antrag Bescheid"), doc(2, "anderes")])
    outcomes = {}
    for text in BAD_INPUT:
        try:
            result = search(store, text, advanced=advanced)
            outcomes[text] = result.total
        except SearchQueryInvalid as exc:  # the only exception a caller ever sees
            assert exc.user_message and exc.user_message[0].isupper(), text
            outcomes[text] = type(exc).__name__
    assert outcomes["*"] == 2  # everything the user may see
    assert outcomes["x" * 5000] == "SearchQueryTooLong"
    assert outcomes["Antrag\x00\x07\x1b[31m\u200b"] in (1, 0) or advanced
    assert outcomes['"Antrag auf'] == 1
    assert outcomes[""] == "SearchQueryEmpty"
    if advanced:
        assert outcomes["foo:bar"] == "SearchUnknownField"
        assert outcomes["tenant:2"] == "SearchUnknownField"
        assert outcomes["eingang:[2023 to 2021]"] == "SearchReversedRange"
        assert outcomes["eingang:2022-13"] == "SearchInvalidDate"
        assert outcomes["eingang:[2022-13 to 2023]"] == "SearchInvalidDate"
    else:
        assert outcomes["(Antrag Bescheid"] == 1


def test_a_failed_batch_changes_nothing(store, monkeypatch):
    store.write([doc(1, "vorher")])
    from indexing import bulk

    calls = []
    if store.name == "whoosh":
        target, name, key = bulk.SegmentBuilder, "add", lambda fields: fields["key"]
    else:
        target, name, key = PgIndex, "_row", lambda entry: entry.key
    original = getattr(target, name)

    def failing(self, item):
        calls.append(key(item))
        if len(calls) == 3:
            raise OSError("disk full")
        return original(self, item)

    monkeypatch.setattr(target, name, failing)
    with pytest.raises(OSError):
        store.write([doc(2, "neu"), doc(3, "neu"), doc(4, "neu")], ["d1"])
    monkeypatch.undo()
    assert store.keys() == {"d1"}
    assert search(store, "neu").total == 0 and search(store, "vorher").total == 1
    store.write([doc(5, "danach")])  # the next commit clears what the failed one left
    assert store.keys() == {"d1", "d5"}
    if store.name == "whoosh":
        files = {p.name for p in store.path.iterdir()}
        ix = store.store.open()
        segments = {s.segment_id() for s in ix._segments()}
        leftovers = [
            f
            for f in files
            if f.startswith("MAIN_") and "." in f and f.split(".")[0] not in segments
        ]
        assert leftovers == []


def _outdate(store) -> None:
    """Make the index look written by another schema version."""
    if store.name == "whoosh":
        state = f'{{"schema": {SCHEMA_VERSION - 1}, "complete": true}}'
        (store.path / STATE_FILE).write_text(state)
    else:
        with store.engine.begin() as conn:
            conn.execute(sql("UPDATE search_state SET version = '0.0', complete = true"))


def test_schema_version_change_discards_the_index(store):
    store.write([doc(1, "alt")])
    assert store.exists() and store.keys() == {"d1"}
    _outdate(store)
    assert not store.exists() and not store.complete()
    assert search(store, "alt").total == 0  # an index of another version is not read
    store.write([doc(2, "neu")])  # opening it for writing starts it afresh
    assert store.keys() == {"d2"} and not store.complete()
    assert store.rebuild([doc(3, "voll")], workers=1) == 1
    assert store.complete() and store.keys() == {"d3"}


def _write_batches(spec: str, worker: int) -> None:
    if spec.startswith("postgresql"):
        store = PgIndex(create_engine(spec), lock_timeout=120)
    else:
        store = WhooshIndex(spec, lock_timeout=120)
    for batch in range(4):
        store.write([doc(worker * 100 + batch * 10 + i, "parallel") for i in range(5)])


def test_writers_in_several_processes_queue_instead_of_failing(store):
    store.write([doc(1, "start")])
    spec = str(store.path) if store.name == "whoosh" else store.engine.url.render_as_string(False)
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_write_batches, args=(spec, w)) for w in (1, 2, 3)]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(timeout=120)
    assert [proc.exitcode for proc in procs] == [0, 0, 0]  # no LockError, no other failure
    assert search(store, "parallel").total == 3 * 4 * 5


def test_segments_stay_few_and_purged_documents_leave_no_trace(whoosh_store):
    store = whoosh_store  # Whoosh's segment files (the PostgreSQL purge: test_indexer.py)
    for n in range(1, 41):
        store.write([doc(n, f"Eintrag {n} Xylophonkonzertsaal" if n == 7 else f"Eintrag {n}")])
    ix = store.open()
    assert len(ix._segments()) < 2 * MERGE_FACTOR
    assert search(store, "Eintrag").total == 40
    store.write([], ["d7"], purge=True)
    assert search(store, "Xylophonkonzertsaal").total == 0
    stem = GermanAnalyzer().terms("Xylophonkonzertsaal")[0].encode()
    for path in store.path.iterdir():
        if path.is_file():
            assert stem not in path.read_bytes(), path.name
    assert search(store, "Eintrag").total == 39


def test_bitmap_engine_matches_what_whoosh_matches(whoosh_store, monkeypatch):
    """Counting and filtering read posting blocks directly; they must agree with Whoosh's own
    matching, also across several blocks and segments and with deleted documents."""
    store = whoosh_store
    from whoosh import query as Q

    from indexing import bulk
    from indexing.engine import View
    from indexing.segments import ids_from_bits

    monkeypatch.setattr(bulk, "BLOCK_POSTINGS", 4)  # many blocks even for a small archive
    monkeypatch.setattr(bulk, "INLINE_POSTINGS", 3)
    words = ["Antrag", "Bescheid", "Gebühr", "Frist", "Mahnung", "Bauantrag", "Baulast"]
    for batch in range(3):  # three segments
        store.write(
            doc(n, " ".join(words[(n + k) % len(words)] for k in range(n % 5 + 2)),
                received=date(2015 + n % 9, 1 + n % 12, 1))
            for n in range(batch * 30, batch * 30 + 30)
        )  # fmt: skip
    store.write([], ["d3", "d40", "d77"])  # deletions
    ix = store.open()
    with ix.searcher() as searcher:
        view = View(searcher, {})
        text = "text"
        queries = [
            Q.Term(text, "antrag"),
            Q.And([Q.Term(text, "antrag"), Q.Term(text, "frist")]),
            Q.Or([Q.Term(text, "mahnung"), Q.Term(text, "baulast")]),
            Q.And([Q.Term(text, "gebuhr"), Q.Not(Q.Term(text, "frist"))]),
            Q.Phrase(text, ["antrag", "bescheid"]),
            Q.Phrase(text, ["bescheid", "gebuhr", "frist"]),
            Q.Phrase(text, ["frist", "mahnung"]),
            Q.Prefix(text, "bau"),
            Q.Wildcard(text, "b*t"),
            Q.FuzzyTerm(text, "frost", maxdist=1),
            parsing_query("eingang:[2017 to 2019-06]"),
            parsing_query("eingang:>2020"),
            parsing_query("jahr:[2016 to 2018]"),
        ]
        for q in queries:
            mine = set(ids_from_bits(view.bitmap(q), view.size).tolist())
            assert mine == set(searcher.docs_for_query(q)), q
            assert mine, q  # each query matches something here
        assert view.bitmap(Q.Phrase(text, ["frist", "antrag"])) == 0  # never in this order


def parsing_query(text: str):
    from indexing import query as parsing

    return parsing.advanced(text).query


def test_many_hits_rank_the_newest_and_the_titled(store, monkeypatch):
    """PostgreSQL ranks a window of the hits once there are many (indexing/pg/search.py);
    Whoosh ranks them all. Either way: exact counts, every hit on some page, and a title hit
    first even when it is old."""
    from indexing.pg import search as pg_search

    monkeypatch.setattr(pg_search, "RANK_ALL", 5)
    monkeypatch.setattr(pg_search, "RANK_WINDOW", 4)
    entries = [doc(n, "Mahnung wegen Frist", received=date(2020, 1, n)) for n in range(1, 25)]
    entries.append(doc(99, "Frist", title="Mahnung Hundesteuer", received=date(2001, 1, 1)))
    store.write(entries)
    first = search(store, "Mahnung", per_page=10)
    assert first.total == 25 and first.hits[0].key == "d99"
    seen = [h.key for p in (1, 2, 3) for h in search(store, "Mahnung", page=p, per_page=10).hits]
    assert sorted(seen) == sorted(e.key for e in entries)  # all of them, none twice
    assert sum(f.count for f in first.facets["year"]) == 25
