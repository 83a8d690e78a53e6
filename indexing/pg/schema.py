"""The PostgreSQL search tables: one row per index entry, the words of all entries, and the
state (layout version, completely built or not).

The tables are a projection of the database (like the Whoosh index directory): created here
(and by the migration that ships them), dropped and rebuilt when ``VERSION`` changes. Text is
folded in Python (see ``indexing.pg.analysis``) and analysed by PostgreSQL's ``german``
text-search configuration (stemming, stop words) into a weighted ``tsvector`` with a GIN index.
Typo tolerance uses ``pg_trgm`` where the extension can be had; without it, it still works,
slower.
"""

from __future__ import annotations

import logging

from sqlalchemy import text
from sqlalchemy.engine import Connection

from indexing.schema import SCHEMA_VERSION

log = logging.getLogger(__name__)

# The layout of these tables; with the index schema version it decides whether they are current.
LAYOUT = 1
VERSION = f"{SCHEMA_VERSION}.{LAYOUT}"
ENTRIES = "search_entry"
DOCS = "search_doc"
WORDS = "search_word"
STATE = "search_state"
TABLES = (ENTRIES, DOCS, WORDS, STATE)
CONFIG = "german"
# A tsvector holds at most 1 MB of lexemes and positions up to 16,383: longer texts are cut,
# first to this many characters, then where their distinct words would outgrow
# MAX_VECTOR_BYTES (a word costs its bytes and VECTOR_WORD_BYTES more: alignment, position
# count, a position; the other positions of a long text take at most 64 KB more).
MAX_TEXT_CHARS = 2_000_000
MAX_VECTOR_BYTES = 800_000
VECTOR_WORD_BYTES = 5
LOCK_KEY = 0x45414B5445  # "EAKTE": the advisory lock of index writers

# What searches filter, count, group and rank: kept narrow (the vector out of line, uncompressed:
# ranking reads it without decompressing), so that scanning many hits reads few pages. What a
# hit shows (the entry, the text for snippets) is in ``search_doc``, read for a page's hits only.
ENTRY_COLUMNS = """
    key text PRIMARY KEY,
    kind text NOT NULL,
    tenant integer NOT NULL,
    unit integer,
    inbox boolean NOT NULL,
    restricted boolean NOT NULL,
    plan text NOT NULL,
    reference text NOT NULL,
    doctype text NOT NULL,
    status text NOT NULL,
    case_id integer,
    process_id integer,
    received date,
    created date,
    closed date,
    sort_date date,
    year integer NOT NULL,
    title_vector tsvector NOT NULL,
    vector tsvector NOT NULL
"""
ENTRY_STORAGE = "WITH (toast_tuple_target = 256)"
DOC_COLUMNS = "key text PRIMARY KEY, entry jsonb NOT NULL, content text NOT NULL"


def create_entries(conn: Connection, table: str) -> None:
    conn.execute(text(f"CREATE TABLE {table} ({ENTRY_COLUMNS}) {ENTRY_STORAGE}"))
    conn.execute(text(f"ALTER TABLE {table} ALTER COLUMN vector SET STORAGE EXTERNAL"))


def entry_indexes(table: str, suffix: str = "") -> list[str]:
    """The indexes of an entries table (``suffix``: for a table being rebuilt)."""
    return [
        # fastupdate off: a search never has to scan a pending list (writes pay instead).
        f"CREATE INDEX {ENTRIES}_vector{suffix} ON {table} USING gin (vector) "
        "WITH (fastupdate = off)",
        f"CREATE INDEX {ENTRIES}_title{suffix} ON {table} USING gin (title_vector) "
        "WITH (fastupdate = off)",
        f"CREATE INDEX {ENTRIES}_tenant_date{suffix} ON {table} (tenant, sort_date, key)",
        f"CREATE INDEX {ENTRIES}_plan{suffix} ON {table} (plan text_pattern_ops)",
        f"CREATE INDEX {ENTRIES}_reference{suffix} ON {table} (reference text_pattern_ops)",
    ]


INDEX_NAMES = ("vector", "title", "tenant_date", "plan", "reference")


def word_indexes(table: str, trgm: str | None, suffix: str = "") -> list[str]:
    found = [f"CREATE INDEX {WORDS}_pattern{suffix} ON {table} (word text_pattern_ops)"]
    if trgm:
        found.append(
            f"CREATE INDEX {WORDS}_trgm{suffix} ON {table} USING gin (word {trgm}.gin_trgm_ops)"
        )
    return found


def trgm_schema(conn: Connection) -> str | None:
    """The schema holding pg_trgm (quoted, to qualify its functions), or None."""
    found = conn.scalar(
        text(
            "SELECT quote_ident(n.nspname) FROM pg_extension e "
            "JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pg_trgm'"
        )
    )
    return str(found) if found is not None else None


def _create_trgm(conn: Connection) -> str | None:
    """pg_trgm, created if missing and allowed (it is a trusted extension since PostgreSQL 13).
    Put in ``public`` where that exists, so that it outlives any one schema."""
    found = trgm_schema(conn)
    if found:
        return found
    try:
        with conn.begin_nested():
            public = conn.scalar(text("SELECT 1 FROM pg_namespace WHERE nspname = 'public'"))
            where = " SCHEMA public" if public else ""
            conn.execute(text(f"CREATE EXTENSION IF NOT EXISTS pg_trgm{where}"))
    except Exception as exc:  # no permission, or not installed: typo tolerance gets slower
        log.warning("search: pg_trgm not available (%s); typo tolerance without it", exc)
    return trgm_schema(conn)


def exists(conn: Connection) -> bool:
    return bool(conn.scalar(text("SELECT to_regclass(:t) IS NOT NULL"), {"t": STATE}))


def create(conn: Connection) -> None:
    """Create the tables (empty, not complete) unless they are there in this version; tables
    of another version are dropped first. Runs inside the caller's transaction."""
    conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": LOCK_KEY + 1})  # one creator
    if exists(conn):
        version = conn.scalar(text("SELECT version FROM search_state"))
        if version == VERSION:
            return
        drop(conn)
    trgm = _create_trgm(conn)
    create_entries(conn, ENTRIES)
    for statement in entry_indexes(ENTRIES):
        conn.execute(text(statement))
    conn.execute(text(f"CREATE TABLE {DOCS} ({DOC_COLUMNS})"))
    conn.execute(text(f"CREATE TABLE {WORDS} (word text PRIMARY KEY)"))
    for statement in word_indexes(WORDS, trgm):
        conn.execute(text(statement))
    conn.execute(
        text(
            f"CREATE TABLE {STATE} (id integer PRIMARY KEY CHECK (id = 1), "
            "version text NOT NULL, complete boolean NOT NULL)"
        )
    )
    conn.execute(
        text("INSERT INTO search_state (id, version, complete) VALUES (1, :v, false)"),
        {"v": VERSION},
    )


def drop(conn: Connection) -> None:
    for table in TABLES:
        conn.execute(text(f"DROP TABLE IF EXISTS {table}"))
