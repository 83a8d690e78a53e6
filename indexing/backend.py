"""What the application asks of a search index, whichever does the work.

Two backends: the Whoosh index in a directory (``WhooshIndex``, the embedded default) and the
PostgreSQL full-text tables (``indexing.pg.PgIndex``, for several web hosts). Both take plain
``IndexEntry`` values and answer a ``SearchRequest`` with a ``SearchResult``; both run every
search inside the request's ``Access`` filter (R22).
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Protocol

from indexing.schema import IndexEntry
from indexing.search import SearchRequest, SearchResult, searcher_for
from indexing.store import IndexStore


class SearchBackend(Protocol):
    name: str

    def describe(self) -> str:
        """Where the index is, for messages."""

    def exists(self) -> bool:
        """An index of the current schema version is there (it may be incomplete)."""

    def complete(self) -> bool:
        """False before a full rebuild of an index of the current version finished."""

    def locked(self) -> AbstractContextManager[None]:
        """The writers' lock (across processes), re-entrant within a thread."""

    def busy(self) -> bool:
        """Another process holds the writers' lock right now."""

    def write(
        self, entries: Iterable[IndexEntry], delete: Iterable[str] = (), *, purge: bool = False
    ) -> None:
        """Add or replace ``entries`` and remove ``delete`` at once (all or nothing);
        ``purge``: leave nothing of the removed entries behind (R10)."""

    def rebuild(self, entries: Iterable[IndexEntry], *, workers: int = 0) -> int:
        """Replace the whole index by ``entries`` at once; how many were written."""

    def keys(self) -> set[str]:
        """The key of every entry (drift checks)."""

    def doc_count(self) -> int: ...

    def search(self, request: SearchRequest) -> SearchResult: ...


class WhooshIndex:
    """The Whoosh index in a directory (``IndexStore``) with its process-wide searcher."""

    name = "whoosh"

    def __init__(self, path: Path | str, *, lock_timeout: float = 300.0):
        self.store = IndexStore(path, lock_timeout=lock_timeout)

    @property
    def path(self) -> Path:
        return self.store.path

    def describe(self) -> str:
        return str(self.store.path)

    def exists(self) -> bool:
        return self.store.exists()

    def complete(self) -> bool:
        return self.store.complete()

    def locked(self) -> AbstractContextManager[None]:
        return self.store.locked()

    def busy(self) -> bool:
        return self.store.busy()

    def write(self, entries, delete=(), *, purge=False) -> None:
        self.store.write(entries, delete, purge=purge)

    def rebuild(self, entries, *, workers: int = 0) -> int:
        return self.store.rebuild(entries, workers=workers)

    def keys(self) -> set[str]:
        return self.store.keys()

    def doc_count(self) -> int:
        return self.store.doc_count()

    def search(self, request: SearchRequest) -> SearchResult:
        return searcher_for(self.store).search(request)
