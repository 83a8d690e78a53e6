"""Engine and session set-up for SQLite (default) and PostgreSQL (psycopg 3)."""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from eakte.errors import DatabaseUnavailable

SQLITE_BUSY_TIMEOUT_MS = 30_000
WRITE_OPTION = "eakte_write"
# Waiting for the write gate: first checks this far apart, then at most every 2 ms.
_GATE_FIRST_WAIT_S, _GATE_MAX_WAIT_S = 0.0002, 0.002


def make_engine(url: str, **kwargs) -> Engine:
    """An engine with the per-connection settings eAkte relies on."""
    if url.startswith("sqlite"):
        engine = create_engine(
            url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}, **kwargs
        )
        event.listen(engine, "connect", _sqlite_on_connect)
        # pysqlite's own transaction handling defers BEGIN; emit it ourselves so that
        # "BEGIN IMMEDIATE" (see write_lock) is possible and isolation is real.
        event.listen(engine, "begin", _sqlite_on_begin)
        return engine
    return create_engine(url, pool_pre_ping=True, **kwargs)


def _sqlite_on_connect(dbapi_conn, _record) -> None:
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def _sqlite_on_begin(conn) -> None:
    # Service transactions (see ``transaction``) take the write lock up front with IMMEDIATE:
    # two writers never deadlock on a lock upgrade, they queue on busy_timeout instead. Reads
    # begin deferred and never block writers (WAL).
    write = conn.get_execution_options().get(WRITE_OPTION)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def check_connection(engine: Engine) -> None:
    """Raise ``DatabaseUnavailable`` (without the password) when the database does not answer."""
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except OperationalError as exc:
        safe_url = make_url(str(engine.url)).render_as_string(hide_password=True)
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else type(exc).__name__
        raise DatabaseUnavailable(f"database {safe_url} is unreachable: {reason}") from None


@contextmanager
def transaction(session: Session) -> Iterator[Session]:
    """The transaction of one service call: commits on success, rolls back on error.

    A read-only transaction the caller's earlier queries opened is ended first (services own
    their transactions; callers never change state themselves, and pending changes here are a
    programming error).
    """
    if session.in_transaction():
        if session.new or session.dirty or session.deleted:
            raise RuntimeError("a service was called with uncommitted changes in the session")
        session.commit()
    with _write_gate(session.get_bind().engine), session.begin():
        session.connection(execution_options={WRITE_OPTION: True})
        yield session


def _gate_path(engine: Engine) -> str | None:
    if engine.dialect.name != "sqlite":
        return None
    database = engine.url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return database + "-writers"


@contextmanager
def _write_gate(engine: Engine) -> Iterator[None]:
    """SQLite: writers queue on a file lock before BEGIN IMMEDIATE.

    SQLite's own busy handler sleeps between attempts (up to 100 ms each), so under a bulk
    import — several import threads, workers and the indexer writing at once — the lock sat
    free while everyone slept. Here a waiter checks every couple of milliseconds instead, and
    the lock goes with its holder's process if that dies. After the busy timeout the
    transaction goes ahead without the gate and SQLite's own waiting and errors apply.
    """
    path = _gate_path(engine)
    if path is None:
        yield
        return
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    except OSError:  # a read-only directory: SQLite's own locking still holds
        yield
        return
    try:
        deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_MS / 1000
        wait = _GATE_FIRST_WAIT_S
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    break
                time.sleep(wait)
                wait = min(wait * 2, _GATE_MAX_WAIT_S)
        yield
    finally:
        os.close(fd)  # releases the lock
