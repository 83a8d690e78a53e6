"""The PostgreSQL full-text search backend (``german`` configuration, GIN index): the same
interface as the Whoosh index (``indexing.backend.SearchBackend``), for installations with
several web hosts sharing one database."""

from indexing.pg.store import PgIndex

__all__ = ["PgIndex"]
