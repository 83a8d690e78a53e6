"""The search page: a simple box or the query language, filters, facets, highlighted snippets.
Results come from the permission-aware search service; nothing here filters after the fact."""

from __future__ import annotations

from urllib.parse import urlencode

from flask import Blueprint, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _

from eakte.services import listing, saved_searches, worklist
from eakte.services.search import SORTS, search
from indexing.errors import SearchQueryInvalid
from web.context import actor
from web.db import db, runtime
from web.forms import ActionForm
from web.params import choice_arg, page_arg
from web.worksurface import search_args

bp = Blueprint("search", __name__, url_prefix="/suche")
FILTERS = ("node", "doctype", "year", "status", "kind")


@bp.get("/")
def results():
    text = request.args.get("q", "").strip()
    advanced = request.args.get("erweitert") == "1"
    sort = choice_arg("sortierung", SORTS, "relevance")
    filters = {k: request.args[k] for k in FILTERS if request.args.get(k)}
    page = page_arg()
    result, error, links = None, None, {}
    if text:
        try:
            result = search(
                db(),
                actor(),
                runtime().search,
                text,
                advanced=advanced,
                page=page,
                sort=sort,
                filters=filters,
            )
        except SearchQueryInvalid as exc:
            error = exc.user_message
        else:
            links = listing.uuids_for_hits(db(), actor(), result.hits)
    query = {k: v for k, v in request.args.items() if k != "seite" and v}
    return render_template(
        "search/results.html",
        text=text,
        advanced=advanced,
        sort=sort,
        filters=filters,
        result=result,
        error=error,
        links=links,
        query=query,
        sorts=SORTS,
        hit_args=search_args,
        people=worklist.assignable_people(db(), actor()) if result and result.hits else [],
        back=request.full_path.rstrip("?"),
        saved=saved_searches.visible(db(), actor()),
        save_form=ActionForm(),
        query_string=urlencode(query),
    )


@bp.get("/vorschlaege")
def suggest():
    """Type-ahead of the header search: cases the user sees, by file reference or title."""
    found = worklist.find_cases(db(), actor(), request.args.get("q", ""), for_filing=False)
    items = [
        {
            "label": c.file_reference,
            "detail": c.title,
            "href": url_for("cases.show", case_id=c.uuid),
        }
        for c in found
    ]
    return jsonify(items=items, empty=_("No case found; Enter searches the full text."))


@bp.post("/gespeichert")
def save():
    form = ActionForm()
    if form.validate_on_submit():
        query = request.form.get("abfrage", "")
        saved_searches.save(
            db(),
            actor(),
            request.form.get("name", ""),
            query,
            shared=request.form.get("geteilt") == "1",
        )
        flash(_("Search saved."), "info")
        return redirect(url_for("search.results") + "?" + query[: saved_searches.MAX_QUERY])
    flash(_("The form has expired. Please reload the page."), "error")
    return redirect(url_for("search.results"))


@bp.post("/gespeichert/<uuid:search_id>/loeschen")
def delete_saved(search_id):
    if ActionForm().validate_on_submit():
        saved_searches.delete(db(), actor(), str(search_id))
        flash(_("Saved search deleted."), "info")
    return redirect(url_for("search.results"))
