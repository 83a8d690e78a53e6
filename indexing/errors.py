"""Typed errors of the search index, one class per failure.

Each class carries what the adapters need at the edge, as ``storage.errors`` does:

- ``exit_code``: the CLI exit code (the numbers match ``eakte.errors.ExitCode``),
- ``http_status``: the status a web view or the JSON API answers with,
- ``user_message``: an English message id for the user interface, marked with ``N_`` and
  shown in German through the web's catalog.

``str(exc)`` is the detail for logs. Callers match on the class, never on the text; the class
name is also the JSON API's error code (``search_query_invalid``, ...), so names are stable.
"""

from __future__ import annotations


def N_(message: str) -> str:
    """Mark a message id for translation; the web translates it when shown."""
    return message


class SearchIndexError(Exception):
    """Base of everything ``indexing`` raises on purpose."""

    exit_code: int = 1
    http_status: int = 500
    user_message: str = N_("An internal error occurred. Please try again later.")


class SearchIndexBusy(SearchIndexError):
    """Another process kept the index write lock longer than we were willing to wait."""

    exit_code = 10
    http_status = 503
    user_message = N_("The search index is busy. Please try again shortly.")


class IncompatibleDependency(SearchIndexError):
    """A library's internals that the index relies on (``indexing.whoosh_compat``) are not
    what this code was written for: raised at start-up, naming the library and version."""

    exit_code = 3
    http_status = 500

    def __init__(self, dependency: str, version: str, detail: str):
        super().__init__(f"{dependency} {version} is not supported: {detail}")
        self.dependency = dependency
        self.version = version
        self.detail = detail


class SearchQueryInvalid(SearchIndexError):
    """A search text that cannot be run (the query language's syntax, a query the index
    refuses); subclasses say more precisely why. ``user_message`` says it for the user."""

    exit_code = 12
    http_status = 400
    user_message = N_("The search query could not be understood.")


class SearchQueryTooLong(SearchQueryInvalid):
    user_message = N_("The search query is too long.")


class SearchQueryEmpty(SearchQueryInvalid):
    user_message = N_("Please enter a search term.")


class SearchUnknownField(SearchQueryInvalid):
    user_message = N_("The search query names a field that does not exist.")

    def __init__(self, field: str, known: list[str]):
        super().__init__(f"unknown field {field!r}; known fields: {', '.join(known)}")
        self.field = field
        self.known = known


class SearchInvalidDate(SearchQueryInvalid):
    user_message = N_("A date in the search query is not valid.")


class SearchReversedRange(SearchQueryInvalid):
    user_message = N_("The date range in the search query ends before it starts.")
