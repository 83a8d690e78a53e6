"""``eakte search`` / ``eakte reindex`` and the search service's answers to bad input."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from eakte.cli import main
from eakte.errors import ExitCode
from eakte.models import User
from eakte.services import search as search_service
from indexing.errors import SearchQueryInvalid


def _run(*args):
    return CliRunner().invoke(main, list(args))


def test_bad_input_never_escapes_as_an_exception(world, archive):
    word, everything = 3, 5  # what the clerk finds for "Gebühr", and may open at all
    cases = {
        ('"Gebühr', False): word,  # the stray quote is ignored
        ("(Gebühr", False): word,
        ("*", False): everything,
        ("Gebühr\x00\x07\x1b\u202e\u200b", False): word,
        ("x" * 5000, False): "The search query is too long.",
        ("foo:bar", True): "The search query names a field that does not exist.",
        ("eingang:[2023 to 2021]", True): "The date range in the search query ends before it "
        "starts.",
        ("eingang:31.02.2022", True): "A date in the search query is not valid.",
        ("(Gebühr OR", True): 0,  # "or" is a word the documents do not contain
        ('"Gebühr', True): word,
        ("", False): "Please enter a search term.",
    }
    with world.session() as s:
        clerk = s.get(User, world.clerk.id)
        for (text, advanced), expected in cases.items():
            try:
                found = search_service.search(
                    s, clerk, world.rt.search, text, advanced=advanced
                ).total
            except SearchQueryInvalid as exc:  # typed, with the message for the user
                found = exc.user_message
                assert exc.http_status == 400 and exc.exit_code == ExitCode.bad_input
            assert found == expected, text[:40]


def test_search_command_prints_hits_facets_and_json(world, archive, env):
    plain = _run("search", "Gebühren", "--user", "sachb")
    assert plain.exit_code == 0, plain.output
    assert "3 hit(s); page 1 of 1" in plain.output
    assert "Gebührenbescheid Gewerbeuntersagung" in plain.output
    assert "*Gebühren*" in plain.output  # the snippet's hits, marked for a terminal
    assert "doctype: Bescheid (2), Antrag (1)" in plain.output
    as_json = _run("search", "az:32.20*", "--advanced", "--user", "hund", "--json")
    assert as_json.exit_code == 0, as_json.output
    data = json.loads(as_json.output)
    assert data["total"] == 2
    assert {h["key"] for h in data["hits"]} == {
        archive.key("hund"),
        archive.key("hund_bescheid"),
    }
    filtered = _run("search", "*", "--filter", "kind=case", "--user", "registratur", "--json")
    assert json.loads(filtered.output)["total"] == 4


@pytest.mark.parametrize(
    "args",
    [
        ("search", "eingang:[2023 to 2021]", "--advanced"),
        ("search", "x" * 5000),
        ("search", "tenant:1", "-a"),
    ],
)
def test_bad_input_on_the_command_line_is_one_line_and_exit_code_12(world, archive, env, args):
    done = _run(*args)
    assert done.exit_code == ExitCode.bad_input
    assert done.output.startswith("eakte: error: ") and "Traceback" not in done.output


def test_reindex_command_rebuilds_and_repairs(world, archive, env):
    full = _run("reindex")
    assert full.exit_code == 0, full.output
    assert "index rebuilt: 12 entries" in full.output
    repair = _run("reindex", "--missing")
    assert repair.exit_code == 0, repair.output
    assert "index repaired: 0 entries" in repair.output and "12 in the index" in repair.output
