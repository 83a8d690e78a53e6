"""Scanning staff: import a batch, watch it being processed, check its quality (R15-R17),
replace pages, the quarantine with its reasons, retrying failed documents."""

from __future__ import annotations

import tempfile
from pathlib import Path

from flask import Blueprint, flash, jsonify, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired, MultipleFileField
from wtforms import IntegerField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange

from eakte.ingest.reasons import USER_MESSAGES, Reason
from eakte.models.base import utcnow
from eakte.services import listing, scanning
from eakte.services.intake import (
    IncomingFile,
    Target,
    list_quarantine,
    resolve_quarantined,
    retry_document,
)
from eakte.services.scan_split import intake_scan
from web.context import actor
from web.db import db, runtime
from web.forms import ActionForm, PageForm, ReasonForm, ScanProfileForm

bp = Blueprint("scanning", __name__, url_prefix="/scanstelle")


class BatchForm(ScanProfileForm):
    name = StringField(_l("Batch name"), validators=[DataRequired(), Length(max=200)])
    inbox = SelectField(_l("Into the inbox of"))
    files = MultipleFileField(_l("Scanned files"), validators=[DataRequired()])


class ReplaceForm(PageForm):
    document = SelectField(_l("Document"))
    page = IntegerField(_l("Page"), validators=[DataRequired(), NumberRange(1, 100_000)])
    scan = FileField(_l("Re-scanned page"), validators=[FileRequired()])
    reason = StringField(_l("Reason"), validators=[DataRequired(), Length(max=1000)])


@bp.route("/", methods=["GET", "POST"])
def batches():
    form = BatchForm(prefix="batch")
    form.inbox.choices = [
        SelectChoice(u.code, f"{u.code} {u.name}") for u in listing.inbox_units(db(), actor())
    ]
    if form.submit_ok():
        batch = scanning.open_batch(
            db(),
            actor(),
            form.name.data,
            device=form.device.data or "",
            dpi=form.dpi.data,
            colour_mode=form.colour_mode.data or "",
            transfer_note=f"web upload by {actor().username}",
            org_unit=form.inbox.data,
        )
        for upload in form.files.data:
            if upload and upload.filename:
                intake_scan(  # separator and cover sheets (issue 17)
                    db(),
                    actor(),
                    runtime().store,
                    IncomingFile(
                        upload.stream,
                        upload.filename,
                        target=Target(org_unit=form.inbox.data),
                        method="scan",
                        source=f"batch:{batch.name}",
                        scan_batch_id=batch.id,
                    ),
                    settings=runtime().settings,
                    enqueue=runtime().jobs.enqueue,
                )
        return redirect(url_for("scanning.batch", batch_id=batch.uuid))
    return render_template(
        "scanning/batches.html", form=form, rows=listing.scan_batches(db(), actor())
    )


def _row(batch_id) -> listing.BatchRow:
    summary = scanning.batch_summary(db(), actor(), str(batch_id))
    return listing.BatchRow(summary.batch, summary.documents, summary.quarantined)


@bp.get("/stapel/<uuid:batch_id>")
def batch(batch_id):
    row = _row(batch_id)
    documents = listing.batch_documents(db(), actor(), row.batch.id)
    replace_form = ReplaceForm(prefix="replace")
    replace_form.document.choices = [
        SelectChoice(str(d.uuid), d.title) for d in documents if d.status == "ready"
    ]
    return render_template(
        "scanning/batch.html",
        row=row,
        documents=documents,
        progress=_progress(row),
        action_form=ActionForm(),
        fail_form=ReasonForm(prefix="fail"),
        replace_form=replace_form,
    )


@bp.get("/stapel/<uuid:batch_id>.json")
def batch_progress(batch_id):
    """For the live progress on the batch page (polled by static/progress.js)."""
    return jsonify(_progress(_row(batch_id)))


def _progress(row: listing.BatchRow) -> dict:
    created = row.batch.created_at
    if created.tzinfo is None:
        from datetime import UTC

        created = created.replace(tzinfo=UTC)
    seconds = max(1.0, (utcnow() - created).total_seconds())
    ready = row.counts.get("ready", 0)
    return {
        "total": row.total,
        "ready": ready,
        "failed": row.counts.get("failed", 0),
        "quarantined": row.quarantined,
        "waiting": row.counts.get("received", 0) + row.counts.get("processing", 0),
        "complete": row.total > 0 and row.done == row.total,
        "per_minute": round(60 * ready / seconds, 1),
    }


@bp.post("/stapel/<uuid:batch_id>/qk-bestanden")
def qc_pass(batch_id):
    if ActionForm().validate_on_submit():
        scanning.pass_qc(db(), actor(), str(batch_id))
        flash(_("Quality check passed."), "info")
    return redirect(url_for("scanning.batch", batch_id=batch_id))


@bp.post("/stapel/<uuid:batch_id>/qk-mangel")
def qc_fail(batch_id):
    form = ReasonForm(prefix="fail")
    if form.validate_on_submit():
        scanning.fail_qc(db(), actor(), str(batch_id), form.reason.data)
        flash(_("Quality check failed; replace the affected pages."), "info")
    return redirect(url_for("scanning.batch", batch_id=batch_id))


@bp.post("/stapel/<uuid:batch_id>/seite-ersetzen")
def replace(batch_id):
    form = ReplaceForm(prefix="replace")
    form.document.choices = [SelectChoice(form.document.data, "")] if form.document.data else []
    if form.submit_ok():
        with tempfile.TemporaryDirectory(dir=runtime().settings.data_dir) as tmp:
            path = Path(tmp) / "scan"
            form.scan.data.save(path)
            scanning.replace_page(
                db(),
                actor(),
                runtime().store,
                form.document.data,
                form.page.data,
                path,
                reason=form.reason.data,
                settings=runtime().settings,
                enqueue=runtime().jobs.enqueue,
            )
        flash(_("Page replaced; the document is processed again."), "info")
    else:
        flash(_("Please check your input."), "error")
    return redirect(url_for("scanning.batch", batch_id=batch_id))


@bp.post("/dokument/<uuid:document_id>/erneut")
def retry(document_id):
    if ActionForm().validate_on_submit():
        retry_document(db(), actor(), str(document_id), enqueue=runtime().jobs.enqueue)
        flash(_("The document is processed again."), "info")
    return redirect(url_for("documents.show", document_id=document_id))


@bp.route("/quarantaene", methods=["GET"])
def quarantine():
    entries = list_quarantine(db(), actor())
    messages = {
        e.id: _(USER_MESSAGES.get(Reason(e.reason_code), "The file could not be read."))
        for e in entries
        if e.reason_code in Reason.__members__
    }
    return render_template(
        "scanning/quarantine.html",
        entries=entries,
        messages=messages,
        resolve_form=ReasonForm(prefix="resolve"),
    )


@bp.post("/quarantaene/<uuid:entry_id>/erledigt")
def resolve(entry_id):
    form = ReasonForm(prefix="resolve")
    if form.validate_on_submit():
        resolve_quarantined(db(), actor(), str(entry_id), form.reason.data)
        flash(_("Marked as dealt with; the file stays in the quarantine archive."), "info")
    return redirect(url_for("scanning.quarantine"))
