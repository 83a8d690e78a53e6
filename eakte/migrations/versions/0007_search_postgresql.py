"""search in PostgreSQL: the full-text tables of the PostgreSQL search backend

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22

The tables are a projection owned by ``indexing.pg`` (dropped and rebuilt when their layout
changes, like the Whoosh index directory), so they are not ORM models: the migration only makes
sure they and the ``pg_trgm`` extension exist once the schema is current, created by the role
that runs ``eakte init``. Nothing to do on SQLite.

The layout below is a copy of ``indexing.pg.schema`` as it was at this revision (version "1.1"),
not an import of it: a later change to the search tables must not change what this migration
did. ``indexing.pg`` compares the version in ``search_state`` with its own and rebuilds tables of
another version when it opens them, so newer layouts need no migration.
"""

import logging

from alembic import op
from sqlalchemy import text
from sqlalchemy.engine import Connection

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

log = logging.getLogger(__name__)

VERSION = "1.1"  # indexing.schema.SCHEMA_VERSION 1, indexing.pg.schema.LAYOUT 1
TABLES = ("search_entry", "search_doc", "search_word", "search_state")
LOCK_KEY = 0x45414B5445 + 1  # indexing.pg.schema's lock of table creators
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
ENTRY_INDEXES = [
    "CREATE INDEX search_entry_vector ON search_entry USING gin (vector) WITH (fastupdate = off)",
    "CREATE INDEX search_entry_title ON search_entry USING gin (title_vector) "
    "WITH (fastupdate = off)",
    "CREATE INDEX search_entry_tenant_date ON search_entry (tenant, sort_date, key)",
    "CREATE INDEX search_entry_plan ON search_entry (plan text_pattern_ops)",
    "CREATE INDEX search_entry_reference ON search_entry (reference text_pattern_ops)",
]
TRGM_SCHEMA = (
    "SELECT quote_ident(n.nspname) FROM pg_extension e "
    "JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pg_trgm'"
)


def _create_trgm(conn: Connection) -> str | None:
    """pg_trgm, created if missing and allowed (a trusted extension since PostgreSQL 13), in
    ``public`` where that exists; None where it cannot be had (typo tolerance gets slower)."""
    found = conn.scalar(text(TRGM_SCHEMA))
    if found:
        return str(found)
    try:
        with conn.begin_nested():
            public = conn.scalar(text("SELECT 1 FROM pg_namespace WHERE nspname = 'public'"))
            where = " SCHEMA public" if public else ""
            conn.execute(text(f"CREATE EXTENSION IF NOT EXISTS pg_trgm{where}"))
    except Exception as exc:  # no permission, or not installed
        log.warning("search: pg_trgm not available (%s); typo tolerance without it", exc)
    found = conn.scalar(text(TRGM_SCHEMA))
    return str(found) if found else None


def upgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name != "postgresql":
        return
    conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": LOCK_KEY})
    if conn.scalar(text("SELECT to_regclass('search_state') IS NOT NULL")):
        if conn.scalar(text("SELECT version FROM search_state")) == VERSION:
            return
        _drop(conn)  # another layout: a projection, rebuilt by the index
    trgm = _create_trgm(conn)
    conn.execute(
        text(f"CREATE TABLE search_entry ({ENTRY_COLUMNS}) WITH (toast_tuple_target = 256)")
    )
    conn.execute(text("ALTER TABLE search_entry ALTER COLUMN vector SET STORAGE EXTERNAL"))
    for statement in ENTRY_INDEXES:
        conn.execute(text(statement))
    conn.execute(
        text(
            "CREATE TABLE search_doc (key text PRIMARY KEY, entry jsonb NOT NULL, content text NOT NULL)"
        )
    )
    conn.execute(text("CREATE TABLE search_word (word text PRIMARY KEY)"))
    conn.execute(text("CREATE INDEX search_word_pattern ON search_word (word text_pattern_ops)"))
    if trgm:
        conn.execute(
            text(
                f"CREATE INDEX search_word_trgm ON search_word USING gin (word {trgm}.gin_trgm_ops)"
            )
        )
    conn.execute(
        text(
            "CREATE TABLE search_state (id integer PRIMARY KEY CHECK (id = 1), "
            "version text NOT NULL, complete boolean NOT NULL)"
        )
    )
    conn.execute(
        text("INSERT INTO search_state (id, version, complete) VALUES (1, :v, false)"),
        {"v": VERSION},
    )


def _drop(conn: Connection) -> None:
    for table in TABLES:
        conn.execute(text(f"DROP TABLE IF EXISTS {table}"))


def downgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name != "postgresql":
        return
    _drop(conn)
