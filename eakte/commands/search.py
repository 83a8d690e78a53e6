"""``eakte search`` and ``eakte reindex`` (issue 5)."""

from __future__ import annotations

import dataclasses
import html
import json
import re
import time

import click

from eakte.commands.common import acting_user, load_settings, tenant_option, user_option
from eakte.runtime import open_runtime
from eakte.services import indexer
from eakte.services import search as search_service

_TAGS = re.compile(r"<[^>]+>")
FILTERS = ("node", "doctype", "year", "status", "kind")


def _plain(fragment: str) -> str:
    """A snippet for the terminal: hits in *stars*, no HTML."""
    marked = fragment.replace("<mark>", "*").replace("</mark>", "*")
    return html.unescape(_TAGS.sub("", marked))


@click.command()
@click.argument("query")
@click.option(
    "-a",
    "--advanced",
    is_flag=True,
    help='Use the query language: AND/OR/NOT, "phrases", feld:wert (titel, inhalt, az, '
    "aktenplan, typ, absender, status, eingang, erstellt, zda, jahr), wildcards, "
    "eingang:[2021 to 2022].",
)
@click.option("--page", default=1, show_default=True, type=click.IntRange(1), help="Result page.")
@click.option(
    "--per-page", default=20, show_default=True, type=click.IntRange(1, 100), help="Hits per page."
)
@click.option(
    "--sort",
    type=click.Choice(search_service.SORTS),
    default="relevance",
    show_default=True,
    help="Order of the hits.",
)
@click.option(
    "--filter",
    "filters",
    multiple=True,
    metavar="NAME=VALUE",
    help=f"Narrow to a facet value; NAME is one of {', '.join(FILTERS)} (node=32.10: "
    "everything filed beneath). Repeatable.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON (for scripts).")
@tenant_option
@user_option()
def search(query, advanced, page, per_page, sort, filters, as_json, tenant, username):
    """Search documents and cases for QUERY, as the given user sees them.

    Without --advanced every word must occur; "quoted words" are a phrase, Bau* a prefix,
    and a file reference or file-plan code (32.10, 32.10.05-0001/2026) finds what is filed
    under it. Only what the user may open is counted and shown.
    """
    selected = {}
    for item in filters:
        name, sep, value = item.partition("=")
        if not sep or name not in FILTERS:
            raise click.BadParameter(f"expected NAME=VALUE with NAME in {FILTERS}: {item!r}")
        selected[name] = value
    settings = load_settings()
    with open_runtime(settings) as rt, rt.session() as session:
        actor = acting_user(session, tenant, username)
        result = search_service.search(
            session,
            actor,
            rt.search,
            query,
            advanced=advanced,
            page=page,
            per_page=per_page,
            sort=sort,
            filters=selected,
        )
    if as_json:
        click.echo(json.dumps(dataclasses.asdict(result), default=str, indent=2))
        return
    if result.suggestion:
        click.echo(f"did you mean: {result.suggestion}")
    shown = f"{(page - 1) * per_page + 1}-{(page - 1) * per_page + len(result.hits)}"
    click.echo(f"{result.total} hit(s); page {page} of {result.pages} ({shown})")
    for hit in result.hits:
        when = hit.date.isoformat() if hit.date else "-"
        click.echo(f"{hit.kind:8} {hit.key:>8}  {when}  {hit.file_reference or '-'}  {hit.title}")
        if hit.snippet_html:
            click.echo(f"         {_plain(hit.snippet_html)}")
    for name, counts in result.facets.items():
        if counts:
            values = ", ".join(f"{c.value} ({c.count})" for c in counts[:10])
            click.echo(f"{name}: {values}")


@click.command()
@click.option(
    "--missing",
    is_flag=True,
    help="Only add what the index lacks and remove what it should not hold, instead of "
    "rebuilding it.",
)
@click.option(
    "--workers",
    default=0,
    type=click.IntRange(0, 64),
    help="Processes building the index (0: one per CPU core).",
)
def reindex(missing: bool, workers: int) -> None:
    """Rebuild the search index from the database.

    Searches keep using the old index until the new one is complete; documents changed
    meanwhile are indexed right after. Memory stays bounded however large the archive.
    """
    settings = load_settings()
    started = time.monotonic()
    with open_runtime(settings) as rt:
        count = indexer.reindex(rt, missing_only=missing, workers=workers)
        drift = indexer.index_drift(rt)
    seconds = time.monotonic() - started
    what = "repaired" if missing else "rebuilt"
    click.echo(f"index {what}: {count} entries in {seconds:.1f} s; {drift.indexed} in the index")


COMMANDS: list[click.Command] = [search, reindex]
