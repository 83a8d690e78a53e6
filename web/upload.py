"""Upload: several files at once (drag and drop, progress) into an inbox or straight into a
process. Every file goes through the one intake service; its answer is shown per file."""

from __future__ import annotations

from flask import Blueprint, jsonify, render_template, request, url_for
from flask_babel import gettext as _

from eakte.ingest.reasons import USER_MESSAGES, Reason
from eakte.permissions import Action, require
from eakte.services import cases, listing
from eakte.services.intake import IncomingFile, IntakeResult, Outcome, Target, intake
from web.context import actor
from web.db import db, runtime
from web.forms import ActionForm

bp = Blueprint("upload", __name__, url_prefix="/hochladen")


def _inboxes() -> list[tuple[str, str]]:
    return [(u.code, f"{u.code} {u.name}") for u in listing.inbox_units(db(), actor())]


@bp.get("/")
def form():
    require(db(), actor(), Action.ingest)
    process_uuid = request.args.get("vorgang", "")
    process = cases.get_process(db(), actor(), process_uuid) if process_uuid else None
    return render_template(
        "upload/form.html",
        inboxes=_inboxes(),
        process=process,
        form=ActionForm(),
        max_mb=runtime().settings.max_upload_mb,
    )


@bp.post("/")
def upload():
    """One or more files; answers JSON for the page's script, else the result page."""
    require(db(), actor(), Action.ingest)  # CSRF is checked for every POST by CSRFProtect
    target = Target(
        process=request.form.get("process") or None, org_unit=request.form.get("inbox") or None
    )
    results = []
    for upload_file in request.files.getlist("files"):
        if not upload_file or not upload_file.filename:
            continue
        result = intake(
            db(),
            actor(),
            runtime().store,
            IncomingFile(
                upload_file.stream,
                upload_file.filename,
                target=target,
                method="upload",
                source=f"web:{actor().username}",
            ),
            settings=runtime().settings,
            enqueue=runtime().jobs.enqueue,
        )
        results.append(_describe(upload_file.filename, result))
    if request.accept_mimetypes.best == "application/json":
        return jsonify(results=results)
    return render_template("upload/result.html", results=results)


def _describe(filename: str, result: IntakeResult) -> dict:
    entry = {"filename": filename, "outcome": result.outcome.value}
    if result.document is not None:
        entry["document"] = url_for("documents.show", document_id=result.document.uuid)
    if result.outcome == Outcome.quarantined:
        message = USER_MESSAGES.get(Reason(result.reason_code)) if result.reason_code else None
        entry["message"] = _(message) if message else _("The file could not be read.")
    else:
        entry["message"] = {
            Outcome.accepted: _("Received; text recognition follows."),
            Outcome.duplicate: _("The same file is already here; it was linked, not stored twice."),
            Outcome.existing: _("This file was taken in before."),
        }[result.outcome]
    return entry
