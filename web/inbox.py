"""The inbox as a work list: every letter of the user's inboxes with its thumbnail, rows
walked and picked by keyboard, and bulk actions over the picked ones (file into a process,
set type or sender, assign). The actions are done per document by ``eakte.services.bulk``."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from eakte.errors import BadParameter
from eakte.services import bulk, listing, worklist
from web.context import actor
from web.db import db
from web.forms import ActionForm
from web.params import page_arg, uuid_list
from web.reindex import index_soon

bp = Blueprint("inbox", __name__, url_prefix="/posteingang")


@bp.get("/")
def index():
    return render_template(
        "inbox/index.html",
        inbox=listing.inbox(db(), actor(), page_arg()),
        form=ActionForm(),
        people=worklist.assignable_people(db(), actor()),
        back=request.full_path.rstrip("?"),
    )


def _safe_back() -> str:
    """Where to go after a bulk action: a path of this site, never another host."""
    back = request.form.get("zurueck", "")
    if back.startswith("/") and not back.startswith("//") and "\\" not in back:
        return back[:2000]
    return url_for("inbox.index")


def _target_process(session, user) -> str | None:
    """The process chosen by the type-ahead, or — without script — the one open process of
    the one case the typed text names."""
    chosen = request.form.get("process_id", "").strip()
    if chosen:
        return chosen
    text = request.form.get("ziel", "").strip()
    processes = [
        p.uuid
        for c in worklist.find_cases(session, user, text, for_filing=True)
        for p in c.processes
    ]
    return processes[0] if text and len(processes) == 1 else None


@bp.post("/sammel")
def bulk_action():
    form = ActionForm()
    back = _safe_back()
    if not form.validate_on_submit():
        flash(_("The form has expired. Please reload the page."), "error")
        return redirect(back)
    session, user = db(), actor()
    picked = uuid_list("dokument")
    action = request.form.get("aktion", "")
    if not picked:
        flash(_("Please select at least one document."), "error")
        return redirect(back)
    if action == "ablegen":
        process = _target_process(session, user)
        if process is None:
            flash(
                _("Please choose a process from the suggestions or type one exact file reference."),
                "error",
            )
            return redirect(back)
        outcome = bulk.file_documents(session, user, picked, process)
        done = _("%(n)s documents filed.", n=len(outcome.done))
    elif action == "setzen":
        doc_type = request.form.get("doc_type", "").strip() or None
        sender = request.form.get("correspondent", "").strip() or None
        if doc_type is None and sender is None:
            flash(_("Please enter a document type or a sender."), "error")
            return redirect(back)
        outcome = bulk.set_fields(session, user, picked, doc_type=doc_type, correspondent=sender)
        done = _("%(n)s documents changed.", n=len(outcome.done))
    elif action == "zuweisen":
        chosen = request.form.get("assignee", "").strip() or None
        outcome = bulk.assign_documents(session, user, picked, chosen)
        done = _("%(n)s documents assigned.", n=len(outcome.done))
    else:
        raise BadParameter(f"unknown bulk action {action[:20]!r}")
    if outcome.done:
        index_soon()
    flash(done, "info" if outcome.done else "error")
    for refusal in outcome.refused:
        flash(
            _(
                "Not done: %(title)s – %(reason)s",
                title=refusal.title or _("(not visible)"),
                reason=_(refusal.reason),
            ),
            "error",
        )
    return redirect(back)
