"""Recognition in the UI (issue 18): suggested metadata and filing on the document page (a
partial the page includes), and the pages below the quality thresholds in the batch check."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, request, url_for
from flask_babel import gettext as _

from eakte.errors import BadInput
from eakte.permissions import Action, can
from eakte.services import page_quality, suggestions
from web.context import actor
from web.db import db
from web.forms import ActionForm

bp = Blueprint("suggest", __name__, url_prefix="/erkennung")


@bp.app_template_global()
def recognition_for(document) -> dict:
    """For ``suggest/_document.html``: the suggestions the signed-in user may act on."""
    session, user = db(), actor()
    out: dict = {"metadata": [], "filing": None, "can_edit": False, "form": ActionForm()}
    if document.status != "ready":
        return out
    out["metadata"] = suggestions.metadata_of(session, user, str(document.uuid))
    out["can_edit"] = can(session, user, Action.edit, document)
    if document.process_id is None and can(session, user, Action.file, document):
        out["filing"] = suggestions.filing_for(session, user, str(document.uuid))
    return out


@bp.app_template_global()
def page_quality_of(batch) -> dict:
    """For ``suggest/_batch_quality.html``: the batch's assessed pages, low ones first."""
    session = db()
    return {
        "summary": page_quality.summary(session, batch),
        "pages": page_quality.batch_pages(session, batch),
        "form": ActionForm(),
    }


@bp.post("/dokument/<uuid:document_id>/metadaten")
def accept_metadata(document_id):
    if ActionForm().validate_on_submit():
        values = {f: request.form.get(f, "").strip() for f in suggestions.FIELDS}
        values = {k: v for k, v in values.items() if v or k != "title"}
        suggestions.accept_metadata(db(), actor(), str(document_id), values)
        flash(_("Metadata saved."), "info")
    return redirect(url_for("documents.show", document_id=document_id))


@bp.post("/dokument/<uuid:document_id>/ablegen/<uuid:case_id>")
def file_suggested(document_id, case_id):
    if ActionForm().validate_on_submit():
        suggestions.file_suggested(db(), actor(), str(document_id), str(case_id))
        flash(_("Document filed."), "info")
    return redirect(url_for("documents.show", document_id=document_id))


@bp.post("/stapel/<uuid:batch_id>/seite-akzeptieren")
def accept_page(batch_id):
    if ActionForm().validate_on_submit():
        try:
            page = int(request.form.get("page", ""))
        except ValueError:
            raise BadInput("no page given") from None
        document = request.form.get("document", "")
        page_quality.accept_page(db(), actor(), document, page, request.form.get("note", ""))
        flash(_("Page accepted."), "info")
    return redirect(url_for("scanning.batch", batch_id=batch_id))
