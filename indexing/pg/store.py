"""Writing the PostgreSQL search tables: batches, full rebuilds, the writers' lock.

A batch (``write``) is one transaction: the old rows of its keys are deleted, the new ones
inserted (loaded with COPY into a temporary table, then turned into ``tsvector`` by the
database), new words added to the word table — visible together on commit, or not at all.
A rebuild fills new tables beside the old ones and swaps them in at its commit, so searches
see the old index until then and the indexes are built once, in bulk.

Writers queue on an advisory lock (per database schema), as Whoosh writers queue on a file
lock; ``locked()`` holds it around several batches.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import queue
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager
from typing import Any, TypeVar

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError

from indexing.core import Health, SearchRequest, SearchResult
from indexing.errors import SearchIndexBusy
from indexing.locks import HOLDS
from indexing.pg import schema
from indexing.pg.analysis import SurfaceAnalyzer
from indexing.pg.schema import (
    CONFIG,
    MAX_TEXT_CHARS,
    MAX_VECTOR_BYTES,
    VECTOR_WORD_BYTES,
    VERSION,
)
from indexing.pg.search import PgSearcher
from indexing.schema import IndexEntry

log = logging.getLogger(__name__)
T = TypeVar("T")

CHUNK = 1000  # entries per COPY during a rebuild
_LOCK = "hashtext(current_schema() || '.eakte-search-index')"
_LOAD_COLUMNS = [
    *("key", "kind", "tenant", "unit", "inbox", "restricted", "plan", "reference", "doctype"),
    *("status", "case_id", "process_id", "received", "created", "closed", "sort_date", "year"),
    *("entry", "content", "t_title", "t_corr", "t_type", "t_content"),
]
_ROW_COLUMNS = _LOAD_COLUMNS[:17]
_TITLE_VECTOR = f"setweight(to_tsvector('{CONFIG}', t_title), 'A')"
_VECTOR = (
    f"setweight(to_tsvector('{CONFIG}', t_title), 'A') || "
    f"setweight(to_tsvector('{CONFIG}', t_corr), 'B') || "
    f"setweight(to_tsvector('{CONFIG}', t_type), 'C') || "
    f"setweight(to_tsvector('{CONFIG}', t_content), 'D')"
)


def _ahead(items: Iterator[T], depth: int = 2) -> Iterator[T]:
    """``items``, produced by a thread up to ``depth`` ahead of the consumer; an error in the
    producer is raised in the consumer."""
    found: queue.Queue[object] = queue.Queue(maxsize=depth)
    done = object()
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in items:
                while not stop.is_set():
                    try:
                        found.put(item, timeout=0.5)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            found.put(done)
        except BaseException as exc:  # handed to the consumer
            found.put(exc)

    thread = threading.Thread(target=produce, name="search-rebuild-rows", daemon=True)
    thread.start()
    try:
        while True:
            item = found.get()
            if item is done:
                return
            if isinstance(item, BaseException):
                raise item
            yield item  # type: ignore[misc]  # what produce() put: a T
    finally:
        stop.set()
        thread.join(timeout=5)


def _within_vector(texts: Iterable[str]) -> tuple[str, ...]:
    """Folded texts that go into one vector, each cut before the first word that would take
    their distinct words past ``MAX_VECTOR_BYTES``: one document of OCR noise (a million
    different words) must not make its batch fail with "string is too long for tsvector"."""
    seen: set[str] = set()
    budget = MAX_VECTOR_BYTES
    found = []
    for folded in texts:
        words = folded.split()
        for i, word in enumerate(words):
            if word in seen:
                continue
            # The database splits a word at "_" into parts, each a lexeme of its own.
            budget -= len(word.encode()) + VECTOR_WORD_BYTES * (1 + word.count("_"))
            if budget < 0:
                folded = " ".join(words[:i])
                break
            seen.add(word)
        found.append(folded)
    return tuple(found)


class PgIndex:
    """The search index in a PostgreSQL database (``engine``, or a URL); cheap to create."""

    name = "postgresql"

    def __init__(self, engine: Engine | str, *, lock_timeout: float = 300.0):
        self.engine = create_engine(engine) if isinstance(engine, str) else engine
        self.lock_timeout = lock_timeout
        self.analyzer = SurfaceAnalyzer()
        self._searcher: PgSearcher | None = None

    def describe(self) -> str:
        return "the PostgreSQL search tables (search_entry)"

    # --- state -----------------------------------------------------------------------------

    def _state(self, conn: Connection) -> tuple[str, bool] | None:
        if not schema.exists(conn):
            return None
        row = conn.execute(text("SELECT version, complete FROM search_state")).first()
        return (row.version, row.complete) if row else None

    def exists(self) -> bool:
        with self.engine.connect() as conn:
            state = self._state(conn)
        return state is not None and state[0] == VERSION

    def complete(self) -> bool:
        with self.engine.connect() as conn:
            state = self._state(conn)
        return state is not None and state[0] == VERSION and state[1]

    def create(self) -> None:
        """The tables, empty and incomplete, if they are missing or of another version."""
        with self.engine.begin() as conn:
            schema.create(conn)

    # --- locking ---------------------------------------------------------------------------

    def _held_key(self) -> str:
        return self.engine.url.render_as_string(hide_password=True)

    def locked(self) -> AbstractContextManager[None]:
        """The writers' lock, across processes and hosts; waits up to ``lock_timeout``.
        Re-entrant within a thread."""
        return HOLDS.hold(self._held_key(), self._advisory_lock)

    @contextlib.contextmanager
    def _advisory_lock(self) -> Iterator[None]:
        with self.engine.connect() as conn:
            deadline = time.monotonic() + self.lock_timeout
            while not conn.scalar(text(f"SELECT pg_try_advisory_lock({_LOCK})")):
                conn.rollback()
                if time.monotonic() >= deadline:
                    raise SearchIndexBusy(
                        f"the search index stayed locked for {self.lock_timeout:.0f} s"
                    )
                time.sleep(0.05)
            conn.commit()  # the lock is the session's, not the transaction's
            try:
                yield
            finally:
                conn.execute(text(f"SELECT pg_advisory_unlock({_LOCK})"))
                conn.commit()

    def busy(self) -> bool:
        """Another process holds the writers' lock right now."""
        if HOLDS.held(self._held_key()):
            return False
        with self.engine.connect() as conn:
            got = conn.scalar(text(f"SELECT pg_try_advisory_lock({_LOCK})"))
            if got:
                conn.execute(text(f"SELECT pg_advisory_unlock({_LOCK})"))
            conn.commit()
        return not got

    def _lock_transaction(self, conn: Connection) -> None:
        """Inside a writing transaction: queue for the lock unless this thread holds it."""
        if HOLDS.held(self._held_key()):
            return
        conn.execute(text(f"SET LOCAL lock_timeout = '{int(self.lock_timeout * 1000)}ms'"))
        try:
            conn.execute(text(f"SELECT pg_advisory_xact_lock({_LOCK})"))
        except DBAPIError as exc:
            if getattr(exc.orig, "sqlstate", None) == "55P03":  # lock_not_available
                raise SearchIndexBusy(
                    f"the search index stayed locked for {self.lock_timeout:.0f} s"
                ) from None
            raise
        conn.execute(text("SET LOCAL lock_timeout = 0"))

    # --- writing ---------------------------------------------------------------------------

    def write(
        self, entries: Iterable[IndexEntry], delete: Iterable[str] = (), *, purge: bool = False
    ) -> None:
        """Add or replace ``entries`` and remove the keys in ``delete``, in one transaction.

        ``purge``: also drop the words only the removed entries had, and vacuum the tables
        afterwards, so that nothing of them stays readable (R10).
        """
        latest = {entry.key: entry for entry in entries}  # the last of a key wins
        removed = set(delete) - set(latest)
        keys = sorted(set(latest) | removed)
        with self.engine.begin() as conn:
            self._lock_transaction(conn)
            schema.create(conn)
            gone_words: set[str] = set()
            if purge and removed:
                for row in conn.execute(
                    text("SELECT entry, content FROM search_doc WHERE key = ANY(:k)"),
                    {"k": sorted(removed)},
                ):
                    gone_words |= self._words(row.entry, row.content)
            if keys:
                conn.execute(text("DELETE FROM search_entry WHERE key = ANY(:k)"), {"k": keys})
                conn.execute(text("DELETE FROM search_doc WHERE key = ANY(:k)"), {"k": keys})
            words = self._load(conn, "", latest.values())
            self._add_words(conn, "search_word", words)
            if gone_words:
                conn.execute(
                    text(
                        "DELETE FROM search_word w WHERE w.word = ANY(:w) AND NOT EXISTS "
                        "(SELECT 1 FROM search_entry e WHERE e.vector @@ "
                        "to_tsquery('german', quote_literal(w.word)))"
                    ),
                    {"w": sorted(gone_words - words)},
                )
        if purge and removed:
            self._vacuum()

    def _words(self, stored: dict[str, Any], content: str) -> set[str]:
        parts = (stored.get("title"), stored.get("correspondent"), stored.get("doc_type"), content)
        return set(self.analyzer.fold_text(" ".join(p for p in parts if p), MAX_TEXT_CHARS).split())

    def _vacuum(self) -> None:
        """Dead rows of purged entries are removed now, not whenever autovacuum comes by."""
        try:
            with self.engine.connect() as conn:
                conn = conn.execution_options(isolation_level="AUTOCOMMIT")
                for table in ("search_entry", "search_doc", "search_word"):
                    conn.execute(text(f"VACUUM {table}"))
        except DBAPIError:
            log.warning("search: vacuum after a purge failed", exc_info=True)

    def _load(
        self, conn: Connection, suffix: str, entries: Iterable[IndexEntry], ahead: bool = False
    ) -> set[str]:
        """Insert ``entries`` into the entries and documents tables (with ``suffix``: those of
        a rebuild) — COPY into a temporary table, vectors made by the database; returns the
        folded words of all of them. ``ahead``: prepare the next rows in a thread while the
        database analyses the last ones (a rebuild)."""
        conn.execute(
            text(
                "CREATE TEMP TABLE IF NOT EXISTS search_load (key text, kind text, "
                "tenant integer, unit integer, inbox boolean, restricted boolean, plan text, "
                "reference text, doctype text, status text, case_id integer, "
                "process_id integer, received date, created date, closed date, sort_date date, "
                "year integer, entry jsonb, content text, t_title text, t_corr text, "
                "t_type text, t_content text) ON COMMIT DROP"
            )
        )
        words: set[str] = set()
        raw = conn.connection.driver_connection
        assert raw is not None  # an open connection has its driver's
        columns = ", ".join(_LOAD_COLUMNS)
        insert = text(
            f"INSERT INTO search_entry{suffix} ({', '.join(_ROW_COLUMNS)}, "  # noqa: S608
            f"title_vector, vector) SELECT {', '.join(_ROW_COLUMNS)}, {_TITLE_VECTOR}, {_VECTOR} "
            "FROM search_load"
        )
        insert_docs = text(
            f"INSERT INTO search_doc{suffix} (key, entry, content) "  # noqa: S608 (constants)
            "SELECT key, entry, content FROM search_load"
        )
        for batch, found in _ahead(self._batches(entries)) if ahead else self._batches(entries):
            words |= found
            copying = f"COPY search_load ({columns}) FROM STDIN"
            with raw.cursor() as cur, cur.copy(copying) as copy:
                for row in batch:
                    copy.write_row(row)
            conn.execute(insert)
            conn.execute(insert_docs)
            conn.execute(text("TRUNCATE search_load"))
        return words

    def _batches(
        self, entries: Iterable[IndexEntry]
    ) -> Iterator[tuple[list[tuple[Any, ...]], set[str]]]:
        """Rows for COPY, ``CHUNK`` at a time, with their folded words."""
        batch: list[tuple[Any, ...]] = []
        words: set[str] = set()
        for entry in entries:
            row, folded = self._row(entry)
            for part in folded:
                words.update(part.split())
            batch.append(row)
            if len(batch) >= CHUNK:
                yield batch, words
                batch, words = [], set()
        if batch:
            yield batch, words

    def _row(self, entry: IndexEntry) -> tuple[tuple[Any, ...], tuple[str, ...]]:
        fold = self.analyzer.fold_text
        parts = (entry.title, entry.correspondent, entry.doc_type, entry.content)
        folded = _within_vector(fold(part, MAX_TEXT_CHARS) for part in parts)
        stored = dataclasses.asdict(entry)
        del stored["content"]
        for name in ("received", "created", "closed"):
            if stored[name] is not None:
                stored[name] = stored[name].isoformat()
        day = entry.sort_date
        row = (
            entry.key,
            entry.kind,
            entry.tenant_id,
            entry.org_unit_id,
            entry.inbox,
            entry.restricted,
            entry.plan_code,
            entry.file_reference.lower(),
            entry.doc_type,
            entry.status,
            entry.case_id,
            entry.process_id,
            entry.received,
            entry.created,
            entry.closed,
            day,
            day.year if day else 0,
            json.dumps(stored),
            entry.content.replace("\x00", ""),
            *folded,
        )
        return row, folded

    def _add_words(self, conn: Connection, table: str, words: set[str]) -> None:
        if words:
            conn.execute(
                text(
                    f"INSERT INTO {table} (word) SELECT unnest(CAST(:w AS text[])) "
                    "ON CONFLICT DO NOTHING"
                ),
                {"w": sorted(words)},
            )

    def rebuild(self, entries: Iterable[IndexEntry], *, workers: int = 0) -> int:
        """Replace the whole index by ``entries`` in one transaction; returns how many were
        written. ``workers`` is for the Whoosh backend's interface (the database analyses)."""
        count = 0

        def counted() -> Iterator[IndexEntry]:
            nonlocal count
            for entry in entries:
                count += 1
                yield entry

        with self.engine.begin() as conn:
            self._lock_transaction(conn)
            schema.create(conn)
            trgm = schema.trgm_schema(conn)
            conn.execute(text("SET LOCAL maintenance_work_mem = '256MB'"))
            conn.execute(
                text("DROP TABLE IF EXISTS search_entry_new, search_doc_new, search_word_new")
            )
            schema.create_entries(conn, "search_entry_new")
            conn.execute(text(f"CREATE TABLE search_doc_new ({schema.DOC_COLUMNS})"))
            words = self._load(conn, "_new", counted(), ahead=True)
            for statement in schema.entry_indexes("search_entry_new", "_new"):
                conn.execute(text(statement))
            conn.execute(text("CREATE TABLE search_word_new (word text PRIMARY KEY)"))
            self._add_words(conn, "search_word_new", words)
            for statement in schema.word_indexes("search_word_new", trgm, "_new"):
                conn.execute(text(statement))
            # Statistics before the swap, which locks out searches until the commit.
            for table in ("search_entry_new", "search_doc_new", "search_word_new"):
                conn.execute(text(f"ANALYZE {table}"))
            # The swap: searches wait for these few statements only.
            conn.execute(text("DROP TABLE search_entry, search_doc, search_word"))
            for table in ("search_entry", "search_doc", "search_word"):
                conn.execute(text(f"ALTER TABLE {table}_new RENAME TO {table}"))
            renames = [("search_entry_new_pkey", "search_entry_pkey")]
            renames += [("search_doc_new_pkey", "search_doc_pkey")]
            renames += [(f"search_entry_{n}_new", f"search_entry_{n}") for n in schema.INDEX_NAMES]
            renames += [("search_word_new_pkey", "search_word_pkey")]
            renames += [("search_word_pattern_new", "search_word_pattern")]
            if trgm:
                renames.append(("search_word_trgm_new", "search_word_trgm"))
            for old, new in renames:
                conn.execute(text(f"ALTER INDEX {old} RENAME TO {new}"))
            conn.execute(
                text("UPDATE search_state SET version = :v, complete = true"), {"v": VERSION}
            )
        return count

    # --- reading ---------------------------------------------------------------------------

    def keys(self) -> set[str]:
        with self.engine.connect() as conn:
            if self._state(conn) is None:
                return set()
            return set(conn.scalars(text("SELECT key FROM search_entry")))

    def doc_count(self) -> int:
        with self.engine.connect() as conn:
            if self._state(conn) is None:
                return 0
            return conn.scalar(text("SELECT count(*) FROM search_entry")) or 0

    def search(self, request: SearchRequest) -> SearchResult:
        if self._searcher is None:
            self._searcher = PgSearcher(self)
        return self._searcher.search(request)

    def health(self) -> Health:
        """The search tables answer; none yet (before the first index run) is fine."""
        if not self.exists():
            return {"status": "empty", "documents": 0}
        return {"status": "ok", "documents": self.doc_count()}

    def close(self) -> None:
        """Nothing stays open between searches (a connection per search)."""
