"""The composition root's building blocks: settings → database, object store (embedded or not),
job queue, search backend and metrics.

``Runtime`` is the one container that CLI commands, the web app and the workers share; only the
composition roots (the ``eakte`` command, ``eakte serve`` / ``create_app``'s callers, ``eakte
worker``) build one, through ``open_runtime``. With no ``EAKTE_S3_ENDPOINT`` the embedded
SeaweedFS is used: if another eAkte process already runs it, commands attach to it; otherwise the
command starts it for its own duration, and a command attached to a server whose owner ends takes
it over (``storage.shared_store``).

Ports the core declares (e.g. retention's) are wired in ``wire_ports``: the one place where an
implementation is plugged in.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import cast

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from eakte import metrics, ports, schema
from eakte.config import Settings
from eakte.db import check_connection, make_engine, make_session_factory
from eakte.jobs.port import Jobs
from indexing.backend import SearchBackend
from storage.blobstore import BlobStore
from storage.embedded import EmbeddedSeaweedFS
from storage.shared_store import SharedEmbeddedStore


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    _store: BlobStore | None = None
    _search: SearchBackend | None = None
    _jobs: Jobs | None = None
    _closers: contextlib.ExitStack = field(default_factory=contextlib.ExitStack, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _search_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _pid: int = field(default_factory=os.getpid, repr=False)

    def session(self) -> Session:
        return self.sessions()

    @property
    def store(self) -> BlobStore:
        """Opened on first use: commands that only touch the database start no S3 server."""
        if self._store is None:
            self._store = open_store(self.settings, self._closers)
        return self._store

    @property
    def search(self) -> SearchBackend:
        """The search index (Whoosh or PostgreSQL), built on first use; it keeps the caches
        of searches for the life of this runtime."""
        with self._search_lock:  # web threads: one backend, one set of caches
            if self._search is None:
                # Imported on first use: a command that never searches loads no Whoosh.
                from eakte.services.indexer import open_search
                from indexing import compat as search_compat

                search_compat.self_check()  # a changed Whoosh fails here, not in a search
                self._search = open_search(self.settings, self.engine)
            return self._search

    @property
    def jobs(self) -> Jobs:
        """The job-queue port, built on first use (a command that enqueues nothing opens no
        queue)."""
        with self._lock:  # web threads: one queue, one set of tasks
            if self._jobs is None:
                # Imported here: the task bodies import services that import this module.
                from eakte.jobs.factory import build_queue

                self._jobs = build_queue(self)
            return self._jobs

    @property
    def metrics(self) -> metrics.Metrics:
        """The counters this process increments (see ``eakte.metrics``)."""
        return metrics.counters()

    def after_fork(self) -> None:
        """In a process forked from the one that built this runtime (a Huey worker): drop the
        parent's connections and store; this process opens its own on first use."""
        if os.getpid() == self._pid:
            return
        self._pid = os.getpid()
        self.engine.dispose(close=False)  # the parent's pooled connections stay the parent's
        self._store = None
        self._search = None  # its searcher and connections are the parent's
        self._closers = contextlib.ExitStack()
        atexit.register(self._closers.close)

    def close(self) -> None:
        if self._search is not None:
            self._search.close()
        self._closers.close()
        self.engine.dispose()


def open_database(settings: Settings) -> Engine:
    engine = make_engine(settings.database_url)
    check_connection(engine)
    return engine


def open_store(settings: Settings, closers: contextlib.ExitStack) -> BlobStore:
    s3 = settings.s3
    if not s3.embedded:
        return BlobStore(
            s3.endpoint,
            s3.access_key,
            s3.secret_key,
            s3.bucket,
            secure=s3.secure,
            region=s3.region,
            min_retention=settings.min_retention,
        )
    server = EmbeddedSeaweedFS.attach_or_start(settings.data_dir)
    closers.callback(server.stop)
    # Shared, not owned: if the process that started the server ends, this one takes it over.
    return cast(
        BlobStore, SharedEmbeddedStore(server, s3.bucket, min_retention=settings.min_retention)
    )


def wire_ports(runtime: Runtime) -> Runtime:
    """Plug the implementations of the core's ports into ``runtime`` (issue 15: the retention
    slice's port is wired here). Every builder of a runtime calls it, tests included."""
    # The core's services get a session, not the runtime: the port travels with every session
    # the runtime makes (eakte.ports). Imported here: retention loads what only it needs.
    from retention.port import RetentionService

    ports.wire(runtime.sessions, retention=RetentionService())
    if runtime.settings.workflow_clock_file is not None:  # tests and demos only (issue 16)
        from eakte.workflow.clock import file_clock, set_clock

        set_clock(runtime.sessions, file_clock(runtime.settings.workflow_clock_file))
    return runtime


@contextlib.contextmanager
def open_runtime(settings: Settings, *, require_schema: bool = True) -> Iterator[Runtime]:
    """Database and store ready for use; everything started here is stopped on exit."""
    settings.ensure_data_dir()
    engine = open_database(settings)
    try:
        if require_schema:
            schema.require_current(engine)
    except BaseException:
        engine.dispose()
        raise
    runtime = wire_ports(Runtime(settings, engine, make_session_factory(engine)))
    try:
        yield runtime
    finally:
        runtime.close()
