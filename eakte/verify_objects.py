"""The fixity check of ``eakte verify`` (R18): every registered object version read back and
hashed, several at a time.

Each read mostly waits on the object store, so a bounded pool of threads reads ahead while the
findings are reported in the order of the registered objects (by id), as one reader would. The
database is read a page at a time and no transaction stays open while S3 is read; only a
bounded window of reads is in flight, so memory does not grow with the number of objects.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from eakte.models import StoredObject
from storage.blobstore import BlobStore
from storage.errors import IntegrityError, ObjectNotFound
from storage.objects import ObjectInfo

WORKERS = 8
"""Reads in flight at once: below the store's connection pool (10 per host), so no read
waits for a connection, and enough to keep a local SeaweedFS busy."""

_PAGE = 1000  # registered objects per database query

T = TypeVar("T")
R = TypeVar("R")


def registered_versions(session: Session) -> Iterator[tuple[str, str | None, str]]:
    """(key, version id, sha256) of every registered object, by id, a page per query; the
    session's transaction ends after each page (no snapshot held while S3 is read)."""
    last_id = 0
    while True:
        rows = session.execute(
            select(StoredObject.id, StoredObject.key, StoredObject.version_id, StoredObject.sha256)
            .where(StoredObject.id > last_id)
            .order_by(StoredObject.id)
            .limit(_PAGE)
        ).all()
        session.rollback()
        if not rows:
            return
        last_id = rows[-1].id
        for _, key, version_id, sha256 in rows:
            yield key, version_id, sha256


def ordered_map(
    fn: Callable[[T], R], items: Iterable[T], workers: int, window: int
) -> Iterator[tuple[T, R]]:
    """(item, fn(item)) in the order of ``items``, with up to ``workers`` calls running and
    ``window`` submitted ahead. ``items`` is consumed in the caller's thread (it may read the
    database); an exception of ``fn`` is raised here, in order, and stops the rest."""
    pending: deque[tuple[T, Future[R]]] = deque()
    with ThreadPoolExecutor(workers, thread_name_prefix="verify") as pool:
        try:
            for item in items:
                pending.append((item, pool.submit(fn, item)))
                if len(pending) >= window:
                    item, future = pending.popleft()
                    yield item, future.result()
            while pending:
                item, future = pending.popleft()
                yield item, future.result()
        finally:
            for _, future in pending:
                future.cancel()


def read_versions(
    store: BlobStore,
    versions: Iterable[tuple[str, str | None, str]],
    workers: int = WORKERS,
) -> Iterator[tuple[str, str | None, ObjectInfo | str]]:
    """(key, version id, what the read found) in the order of ``versions``: the version as
    read (its lock state included), or the problem found ("missing in object storage", a
    sha256 mismatch). Other storage errors (the store unreachable) are raised."""

    def read(version: tuple[str, str | None, str]) -> ObjectInfo | str:
        key, version_id, sha256 = version
        try:
            return store.verify_version(key, version_id, sha256)
        except ObjectNotFound:
            return "missing in object storage"
        except IntegrityError as exc:
            return f"sha256 mismatch: {exc}"

    # A few reads queued per worker: none idles while the next in order is reported.
    for (key, version_id, _), found in ordered_map(read, versions, workers, 4 * workers):
        yield key, version_id, found
