"""Search errors carry what the edges need, as storage's errors do: an exit code, an HTTP
status and a message id with a German translation; the CLI and the web map them only there,
and the JSON API names them by their class (stable codes)."""

from __future__ import annotations

import inspect
from pathlib import Path

from babel.messages.pofile import read_po

import indexing.errors
import web
from eakte.errors import EDGE_ERRORS, ExitCode
from eakte.models.api import Scope
from eakte.services import api_tokens
from indexing.errors import SearchIndexBusy, SearchIndexError, SearchQueryInvalid

CATALOG = Path(web.__file__).parent / "translations" / "de" / "LC_MESSAGES" / "messages.po"


def _classes() -> list[type[SearchIndexError]]:
    return [
        cls
        for _name, cls in inspect.getmembers(indexing.errors, inspect.isclass)
        if issubclass(cls, SearchIndexError)
    ]


def test_every_search_error_is_mapped_at_the_edges_and_translated():
    with CATALOG.open("rb") as po:
        catalog = read_po(po)
    assert len(_classes()) >= 9
    for cls in _classes():
        assert issubclass(cls, EDGE_ERRORS), cls.__name__
        assert cls.exit_code in set(ExitCode), cls.__name__
        assert 400 <= cls.http_status < 600, cls.__name__
        entry = catalog.get(cls.user_message)
        assert entry is not None and entry.string, f"{cls.__name__}: {cls.user_message!r}"


def test_query_errors_are_bad_input_and_a_busy_index_a_conflict():
    assert (SearchQueryInvalid.exit_code, SearchQueryInvalid.http_status) == (
        ExitCode.bad_input,
        400,
    )
    assert (SearchIndexBusy.exit_code, SearchIndexBusy.http_status) == (ExitCode.conflict, 503)


def test_the_api_answers_a_bad_query_with_its_stable_code(world, client):
    """``/api/v1/search`` with a query the language cannot run: 400 and the code API clients
    knew before the errors moved into ``indexing``."""
    with world.session() as s:
        _, plain = api_tokens.create_token(s, world.clerk, "Portal", {Scope.search})
    headers = {"Authorization": f"Bearer {plain}"}
    cases = {
        "eingang:[2023 to 2021]": "search_reversed_range",
        "foo:bar": "search_unknown_field",
        "eingang:2022-13": "search_invalid_date",
        "": "search_query_empty",
    }
    for text, code in cases.items():
        response = client.get(
            "/api/v1/search", query_string={"q": text, "advanced": "1"}, headers=headers
        )
        assert response.status_code == 400, text
        assert response.get_json()["error"]["code"] == code, text
