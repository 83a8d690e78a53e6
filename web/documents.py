"""Document pages: metadata, previews, downloads, versions, filing from the inbox."""

from __future__ import annotations

from flask import (
    Blueprint,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _

from eakte import audit
from eakte.errors import BadParameter
from eakte.ingest import names
from eakte.permissions import Action, can
from eakte.services import assignment, documents, listing, mail, previews, thumbnails, worklist
from eakte.services.signatures import signatures_of
from web.context import actor
from web.db import db, runtime
from web.forms import ActionForm, DocumentEditForm, FileForm, ReasonForm
from web.reindex import index_soon
from web.worksurface import INBOX, context_of


def wants_json() -> bool:
    """A request sent by web/static/surface.js (a form saved without leaving the page)."""
    return request.accept_mimetypes.best == "application/json"


def _list_args() -> dict[str, str]:
    """The list the page was opened from, carried along by its forms (see web/worksurface)."""
    return {k: request.values[k][:2000] for k in ("liste", "suche", "nr") if request.values.get(k)}


bp = Blueprint("documents", __name__, url_prefix="/dokumente")


@bp.get("/<uuid:document_id>")
def show(document_id):
    session, user = db(), actor()
    document = documents.get_document(session, user, str(document_id))
    search_text = request.args.get("ablage", "").strip()
    candidates = listing.find_cases_by_reference(session, user, search_text) if search_text else []
    return render_template(
        "documents/show.html",
        context=context_of(session, user, document),
        document=document,
        pages=range(1, (document.page_count or 0) + 1)
        if previews.preview_version(document)
        else [],
        history=audit.history(session, str(document.uuid)),
        edit_form=DocumentEditForm(obj=document),
        file_form=FileForm(),
        restrict_form=ReasonForm(prefix="restrict"),
        discard_form=ReasonForm(prefix="discard"),
        search_text=search_text,
        candidates=candidates,
        signatures=signatures_of(document),
        allowed={a: can(session, user, a, document) for a in Action},
        mail=mail.links(session, user, document),
        people=worklist.assignable_people(session, user)
        if can(session, user, Action.edit, document)
        else [],
    )


@bp.get("/<uuid:document_id>/seite/<int:page>.png")
def preview(document_id, page: int):
    rt = runtime()
    path = previews.page_image(
        db(), actor(), rt.store, rt.settings.data_dir, str(document_id), page
    )
    return send_file(path, mimetype="image/png", max_age=3600)


@bp.get("/<uuid:document_id>/vorschaubild.png")
def thumbnail(document_id):
    rt = runtime()
    thumb = thumbnails.thumbnail(db(), actor(), rt.settings.data_dir, str(document_id))
    if thumb.path is None:
        if thumb.ask_worker:
            rt.jobs.render_thumbnail(thumb.document_id)
        return redirect(url_for("static", filename="thumb-wait.svg"))
    return send_file(thumb.path, mimetype="image/png", max_age=3600)


@bp.get("/version/<uuid:version_id>")
def download(version_id):
    version, stream = documents.open_version(db(), actor(), runtime().store, str(version_id))
    return send_file(
        stream,
        mimetype=version.mime or "application/octet-stream",
        as_attachment=True,
        download_name=names.sanitise(version.filename or f"{version.uuid}"),
        max_age=0,
    )


@bp.get("/ablageziele")
def targets():
    """Type-ahead for filing: open processes of open cases in the user's scope (JSON)."""
    found = worklist.find_cases(db(), actor(), request.args.get("q", ""), for_filing=True)
    items = [
        {
            "label": f"{case.file_reference} · {_('Process %(n)s', n=p.number)}",
            "detail": f"{case.title} – {p.title}",
            "value": p.uuid,
        }
        for case in found
        for p in case.processes
    ]
    return jsonify(items=items, empty=_("No open case found."))


@bp.post("/<uuid:document_id>/ablegen")
def file(document_id):
    form = FileForm()
    if form.validate_on_submit() and form.process_id.data:
        session, user = db(), actor()
        filed = documents.file_document(session, user, str(document_id), form.process_id.data)
        index_soon()
        message = _("Filed into %(ref)s.", ref=filed.process.case.file_reference)
        flash(message, "info")
        target = url_for("cases.show", case_id=filed.process.case.uuid)
        if request.form.get("weiter"):
            # the work surface goes on to the next letter of the list it came from
            following = context_of(session, user, filed, default=INBOX).next
            target = following or (url_for("inbox.index") if not _list_args() else target)
        if wants_json():
            return jsonify(ok=True, message=message, redirect=target)
        return redirect(target)
    if wants_json():
        return jsonify(ok=False, message=_("Please choose a process.")), 400
    flash(_("Please choose a process."), "error")
    return redirect(url_for("documents.show", document_id=document_id, **_list_args()))


@bp.post("/<uuid:document_id>/bearbeiten")
def edit(document_id):
    form = DocumentEditForm()
    if form.validate_on_submit():
        documents.update_document(
            db(),
            actor(),
            str(document_id),
            title=form.title.data,
            doc_type=form.doc_type.data or "",
            correspondent=form.correspondent.data or "",
            received_date=form.received_date.data,
        )
        index_soon()
        if wants_json():
            return jsonify(ok=True, message=_("Changes saved."))
        flash(_("Changes saved."), "info")
    else:
        if wants_json():
            return jsonify(ok=False, message=_("Please check your input.")), 400
        flash(_("Please check your input."), "error")
    return redirect(url_for("documents.show", document_id=document_id, **_list_args()))


@bp.post("/<uuid:document_id>/zuweisen")
def assign(document_id):
    form = ActionForm()
    if not form.validate_on_submit():
        raise BadParameter("assignment form without a valid CSRF token")
    chosen = request.form.get("assignee", "").strip()
    people = {str(p.uuid): p for p in worklist.assignable_people(db(), actor())}
    if chosen and chosen not in people:
        raise BadParameter(f"assignee {chosen[:40]!r} is not a person to assign to")
    person = people.get(chosen)
    assignment.assign_document(db(), actor(), str(document_id), person.id if person else None)
    if person:
        message = _("Assigned to %(name)s.", name=person.display_name or person.username)
    else:
        message = _("Assignment removed.")
    if wants_json():
        return jsonify(ok=True, message=message)
    flash(message, "info")
    return redirect(url_for("documents.show", document_id=document_id, **_list_args()))


@bp.post("/<uuid:document_id>/verwerfen")
def discard(document_id):
    form = ReasonForm(prefix="discard")
    if form.validate_on_submit():
        documents.discard_document(db(), actor(), str(document_id), form.reason.data)
        index_soon()
        flash(_("Document discarded; its files are kept until their lock runs out."), "info")
        return redirect(url_for("home.index"))
    flash(_("Discarding needs a reason."), "error")
    return redirect(url_for("documents.show", document_id=document_id))


@bp.post("/<uuid:document_id>/sperren")
def restrict(document_id):
    form = ReasonForm(prefix="restrict")
    if form.validate_on_submit():
        documents.restrict_document(db(), actor(), str(document_id), True, form.reason.data)
        index_soon()
        flash(_("Personal data restricted."), "info")
        return redirect(url_for("home.index"))
    flash(_("A restriction needs a reason."), "error")
    return redirect(url_for("documents.show", document_id=document_id))
