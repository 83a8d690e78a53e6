"""Errors of the search index. ``QueryError`` subclasses carry an English message id for the
user (the application translates it); ``str(error)`` is the detail for logs."""

from __future__ import annotations


class SearchIndexError(Exception):
    """Base of everything ``indexing`` raises on purpose."""


class IndexBusy(SearchIndexError):
    """Another process kept the index write lock longer than we were willing to wait."""


class QueryError(SearchIndexError):
    """A search text that cannot be run; ``message_id`` says why in words for the user."""

    message_id = "The search query is not valid."


class QueryTooLong(QueryError):
    message_id = "The search query is too long."


class EmptyQuery(QueryError):
    message_id = "Please enter a search term."


class UnknownField(QueryError):
    message_id = "The search query names a field that does not exist."

    def __init__(self, field: str, known: list[str]):
        super().__init__(f"unknown field {field!r}; known fields: {', '.join(known)}")
        self.field = field
        self.known = known


class InvalidDate(QueryError):
    message_id = "A date in the search query is not valid."


class ReversedRange(QueryError):
    message_id = "The date range in the search query ends before it starts."


class QuerySyntaxError(QueryError):
    message_id = "The search query could not be understood."
