"""The index on disk: schema version, the write lock, batch writes and full rebuilds.

Every change is one Whoosh commit: the new segments and the deletions become visible together,
or (on any error) not at all. Writers in several processes queue on a file lock (``flock``)
taken before Whoosh's own lock, so no writer ever sees Whoosh's ``LockError``.

The schema version is kept beside the index. An index of another version is discarded when it
is opened for writing and marked incomplete, so the caller knows to rebuild it.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import multiprocessing
import os
import time
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

from whoosh import index as whoosh_index
from whoosh.filedb.filestore import FileStorage
from whoosh.reading import SegmentReader

from indexing.bulk import SegmentBuilder
from indexing.errors import SearchIndexBusy
from indexing.locks import HOLDS
from indexing.schema import SCHEMA_VERSION, IndexEntry, build_schema, entry_from_stored, to_fields

INDEX_NAME = "MAIN"
STATE_FILE = "eakte-index.json"
LOCK_FILE = "eakte-write.lock"
# Segments of the same size class (1-9, 10-99, ... documents) are merged when there are this many.
MERGE_FACTOR = 10
# Only segments smaller than this are merged (a rebuild's large segments are left alone).
MERGE_BELOW = 2000
# A segment with more deleted (replaced) documents than this share is rewritten.
MOSTLY_DELETED = 0.3
# Postings a rebuild process holds before it writes a segment (about 300 MB of memory each):
# fewer, larger segments make searches cheaper; two processes stay well under 1 GB.
REBUILD_SEGMENT_POSTINGS = 6_000_000
# Documents per message to a rebuild worker process.
_CHUNK = 100


class IndexStore:
    """One search index directory. Cheap to create; safe to use from several processes."""

    def __init__(self, path: Path | str, *, lock_timeout: float = 300.0):
        self.path = Path(path)
        self.lock_timeout = lock_timeout

    # --- state ---------------------------------------------------------------------------------

    def _state(self) -> dict[str, Any]:
        try:
            state: dict[str, Any] = json.loads((self.path / STATE_FILE).read_text())
            return state
        except (OSError, ValueError):
            return {}

    def _write_state(self, **state: object) -> None:
        tmp = self.path / f".{STATE_FILE}.tmp"
        tmp.write_text(json.dumps({"schema": SCHEMA_VERSION, **state}))
        os.replace(tmp, self.path / STATE_FILE)

    def exists(self) -> bool:
        """An index of the current schema version is there (it may still be incomplete)."""
        return (
            self._state().get("schema") == SCHEMA_VERSION
            and self.path.is_dir()
            and whoosh_index.exists_in(self.path, INDEX_NAME)
        )

    def complete(self) -> bool:
        """False after the index was (re)created empty and before a full rebuild finished."""
        return self.exists() and bool(self._state().get("complete"))

    def open(self) -> Any:
        """The Whoosh index for reading; None if there is none of the current version."""
        if not self.exists():
            return None
        return whoosh_index.open_dir(self.path, indexname=INDEX_NAME)

    # --- locking ---------------------------------------------------------------------------

    def locked(self) -> AbstractContextManager[None]:
        """The write lock of this index, across processes; waits up to ``lock_timeout``.
        Re-entrant within a thread (an indexer holds it around a batch that writes)."""
        return HOLDS.hold(str(self.path), self._flock)

    @contextlib.contextmanager
    def _flock(self) -> Iterator[None]:
        self.path.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            deadline = time.monotonic() + self.lock_timeout
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        raise SearchIndexBusy(
                            f"the index {self.path} stayed locked for {self.lock_timeout:.0f} s"
                        ) from None
                    time.sleep(0.02)
            yield
        finally:
            os.close(fd)  # closing releases the lock

    def busy(self) -> bool:
        """Another process holds the write lock right now."""
        if not (self.path / LOCK_FILE).exists():
            return False
        fd = os.open(self.path / LOCK_FILE, os.O_RDWR)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        finally:
            os.close(fd)
        return False

    def _writable(self) -> Any:
        """Open (or create) the index; the caller holds the lock."""
        if self.exists():
            return whoosh_index.open_dir(self.path, indexname=INDEX_NAME)
        # Missing, or written with another schema version: start empty, to be rebuilt.
        ix = whoosh_index.create_in(self.path, build_schema(), indexname=INDEX_NAME)
        self._write_state(complete=False)
        return ix

    # --- writing ---------------------------------------------------------------------------

    def write(
        self, entries: Iterable[IndexEntry], delete: Iterable[str] = (), *, purge: bool = False
    ) -> None:
        """Add or replace ``entries`` and remove the keys in ``delete``, in one commit.

        ``purge``: rewrite the segments that held removed documents, so nothing of them stays
        on disk (R10: a destroyed document leaves no index entries behind).
        """
        entries = list(entries)
        keys = {entry.key for entry in entries} | set(delete)
        with self.locked():
            ix = self._writable()
            builder = SegmentBuilder(ix.storage, INDEX_NAME, ix.schema)
            for entry in entries:
                builder.add(to_fields(entry))
            added = builder.segments()
            writer = ix.writer()
            try:
                for key in keys:
                    writer.delete_by_term("key", key)
                writer.commit(mergetype=_Merge(added, purge=purge))
            except BaseException:
                writer.cancel()
                raise

    def rebuild(self, entries: Iterable[IndexEntry], *, workers: int = 0) -> int:
        """Replace the whole index by ``entries`` in one commit; returns how many were written.

        Searches see the old index until the commit. ``workers`` > 1 builds segments in that
        many processes (0: one per CPU); memory stays bounded because every process writes a
        segment to disk whenever it holds ``REBUILD_SEGMENT_POSTINGS`` postings.
        """
        workers = workers or min(os.cpu_count() or 1, 4)
        with self.locked():
            ix = self._writable()
            if workers > 1:
                segments, count = _build_parallel(self.path, ix.schema, entries, workers)
            else:
                builder = SegmentBuilder(ix.storage, INDEX_NAME, ix.schema)
                count = 0
                for entry in entries:
                    builder.add(to_fields(entry))
                    count += 1
                segments = builder.segments()
            writer = ix.writer()
            try:
                writer.commit(mergetype=lambda _writer, _old: list(segments))
            except BaseException:
                writer.cancel()
                raise
            self._write_state(complete=True)
        return count

    # --- reading ---------------------------------------------------------------------------

    def keys(self) -> set[str]:
        """The key of every document in the index (for drift checks)."""
        ix = self.open()
        if ix is None:
            return set()
        with ix.reader() as reader:
            try:
                column = reader.column_reader("key")
            except NotImplementedError:
                # A reader over segments of which some carry no column: read the terms.
                return {
                    term.decode() if isinstance(term, bytes) else term
                    for term in reader.lexicon("key")
                    if any(
                        not reader.is_deleted(docnum)
                        for docnum in reader.postings("key", term).all_ids()
                    )
                }
            return {column[docnum] for docnum in reader.all_doc_ids()}

    def doc_count(self) -> int:
        ix = self.open()
        return ix.doc_count() if ix is not None else 0


class _Merge:
    """A Whoosh merge policy (called inside the commit): keep the segments, add the new ones,
    drop segments without live documents, and rewrite some by re-analysing their stored
    entries: segments that held purged documents, segments that are mostly deleted, and any
    ``MERGE_FACTOR`` small segments of the same size class (so their number stays
    logarithmic)."""

    def __init__(self, added: list[Any], *, purge: bool) -> None:
        self.added = added
        self.purge = purge

    def __call__(self, writer: Any, segments: list[Any]) -> list[Any]:
        candidates = [s for s in segments if s.doc_count() > 0] + list(self.added)
        rewrite = [
            s
            for s in candidates
            if s.has_deletions()
            and (self.purge or s.deleted_count() > MOSTLY_DELETED * s.doc_count_all())
        ]
        tiers: dict[int, list[Any]] = {}
        for segment in candidates:
            if segment not in rewrite and segment.doc_count() < MERGE_BELOW:
                tiers.setdefault(len(str(segment.doc_count())), []).append(segment)
        for members in tiers.values():
            if len(members) >= MERGE_FACTOR:
                rewrite += members
        if not rewrite:
            return candidates
        builder = SegmentBuilder(writer.storage, INDEX_NAME, writer.schema)
        for segment in rewrite:
            reader = SegmentReader(writer.storage, writer.schema, segment)
            try:
                for _docnum, stored in reader.iter_docs():
                    builder.add(to_fields(entry_from_stored(stored)))
            finally:
                reader.close()
        return [s for s in candidates if s not in rewrite] + builder.segments()


# --- parallel rebuild -------------------------------------------------------------------------


def _build_parallel(
    path: Path, schema: Any, entries: Iterable[IndexEntry], workers: int
) -> tuple[list[Any], int]:
    """Feed ``entries`` to worker processes that each write segments; return (segments, n)."""
    ctx = multiprocessing.get_context("spawn")
    inbox = ctx.Queue(maxsize=workers * 4)
    results = ctx.Queue()
    procs = [
        ctx.Process(target=_worker, args=(str(path), inbox, results), daemon=True)
        for _ in range(workers)
    ]
    for proc in procs:
        proc.start()
    count = 0
    try:
        chunk: list[IndexEntry] = []
        for entry in entries:
            chunk.append(entry)
            if len(chunk) >= _CHUNK:
                _put(inbox, chunk, procs)
                count += len(chunk)
                chunk = []
        if chunk:
            _put(inbox, chunk, procs)
            count += len(chunk)
        for _ in procs:
            _put(inbox, None, procs)
        segments = []
        for _ in procs:
            outcome = _get(results, procs)
            if isinstance(outcome, BaseException):
                raise outcome
            segments.extend(outcome)
        for proc in procs:
            proc.join()
        return segments, count
    finally:
        for proc in procs:
            if proc.is_alive():
                proc.kill()
                proc.join()


def _put(queue: Any, item: object, procs: list[Any]) -> None:
    while True:
        try:
            queue.put(item, timeout=1.0)
            return
        except Exception:  # queue.Full
            _check_alive(procs)


def _get(queue: Any, procs: list[Any]) -> Any:
    while True:
        try:
            return queue.get(timeout=1.0)
        except Exception:  # queue.Empty
            _check_alive(procs)


def _check_alive(procs: list[Any]) -> None:
    for proc in procs:
        if proc.exitcode not in (None, 0):
            raise RuntimeError(f"an index build process ended with exit code {proc.exitcode}")


def _worker(path: str, inbox: Any, results: Any) -> None:
    """A rebuild process: entries in, segment files out (not yet committed)."""
    try:
        storage = FileStorage(path)
        builder = SegmentBuilder(
            storage, INDEX_NAME, build_schema(), max_postings=REBUILD_SEGMENT_POSTINGS
        )
        while True:
            chunk = inbox.get()
            if chunk is None:
                break
            for entry in chunk:
                builder.add(to_fields(entry))
        results.put(builder.segments())
    except BaseException as exc:  # reported to the parent, which raises it
        results.put(RuntimeError(f"index build process failed: {exc!r}"))
