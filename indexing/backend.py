"""What the application asks of a search index, whichever does the work.

Two backends: the Whoosh index in a directory (``WhooshIndex``, the embedded default) and the
PostgreSQL full-text tables (``indexing.pg.PgIndex``, for several web hosts). Both take plain
``IndexEntry`` values and answer a ``SearchRequest`` with a ``SearchResult`` (the search core,
``indexing.core``); both run every search inside the request's ``Access`` filter (R22).

``open_backend`` builds the one of an installation; the application's runtime keeps it, and
with it the backend's caches (open searchers, cached postings), for the life of the process.
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from whoosh.filedb.filestore import FileStorage

from indexing.core import Health, SearchRequest, SearchResult
from indexing.schema import IndexEntry
from indexing.search import Searcher
from indexing.store import IndexStore

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

BACKENDS = ("whoosh", "postgresql")


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

    def health(self) -> Health:
        """The index opens and answers (for the health page); raises when it does not."""

    def close(self) -> None:
        """Let go of what searches keep open (the backend stays usable)."""


class WhooshIndex:
    """The Whoosh index in a directory (``IndexStore``) with its searcher and caches."""

    name = "whoosh"

    def __init__(self, path: Path | str, *, lock_timeout: float = 300.0):
        self.store = IndexStore(path, lock_timeout=lock_timeout)
        self._searcher: Searcher | None = None

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

    def write(
        self, entries: Iterable[IndexEntry], delete: Iterable[str] = (), *, purge: bool = False
    ) -> None:
        self.store.write(entries, delete, purge=purge)

    def rebuild(self, entries: Iterable[IndexEntry], *, workers: int = 0) -> int:
        return self.store.rebuild(entries, workers=workers)

    def keys(self) -> set[str]:
        return self.store.keys()

    def doc_count(self) -> int:
        return self.store.doc_count()

    def search(self, request: SearchRequest) -> SearchResult:
        if self._searcher is None:
            self._searcher = Searcher(self.store)
        return self._searcher.search(request)

    def health(self) -> Health:
        """Every Whoosh index in the directory opens; none yet (before the first index run)
        is fine. Read only: nothing is created or locked."""
        path = self.store.path
        if not path.is_dir():
            return {"status": "empty", "documents": 0}
        # Whoosh names each index's table of contents ``_<name>_<generation>.toc``.
        names = {toc.name[1:].rsplit("_", 1)[0] for toc in path.glob("_*_*.toc")}
        if not names:
            return {"status": "empty", "documents": 0}
        storage = FileStorage(str(path), readonly=True)
        documents = 0
        for name in sorted(names):
            index = storage.open_index(indexname=name)
            try:
                documents += index.doc_count()
            finally:
                index.close()
        return {"status": "ok", "documents": documents}

    def close(self) -> None:
        if self._searcher is not None:
            self._searcher.close()


def open_backend(
    kind: str, *, index_dir: Path | str, engine: Engine | str | None = None
) -> SearchBackend:
    """The search backend ``kind`` ("whoosh": the index in ``index_dir``; "postgresql": the
    search tables of the database behind ``engine``). Cheap: nothing is opened yet."""
    if kind == "whoosh":
        return WhooshIndex(index_dir)
    if kind == "postgresql":
        if engine is None:
            raise ValueError("the PostgreSQL search backend needs the database engine")
        # Imported here: a Whoosh installation's processes (index builders) load no SQLAlchemy.
        from indexing.pg.store import PgIndex

        return PgIndex(engine)
    raise ValueError(f"unknown search backend {kind!r}; known: {', '.join(BACKENDS)}")
