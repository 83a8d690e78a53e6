"""Records officers and xdomea (issue 27): each archive's xdomea version, the messages sent
and received with their receipts, containers from other systems taken in and their reports.
Views call the retention services only; they check the permissions."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import IntegerField, SelectField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from retention.xdomea4 import imports, takein, transfer
from web.context import actor
from web.db import db, runtime
from web.forms import PageForm
from web.reindex import index_soon

bp = Blueprint("xdomea", __name__, url_prefix="/xdomea")


class ArchiveForm(PageForm):
    name = StringField(_l("Archive"), validators=[DataRequired(), Length(max=200)])
    version = SelectField(_l("xdomea version"), choices=list(transfer.VERSIONS))
    max_mb = IntegerField(
        _l("Split transfers above (MB)"), validators=[Optional(), NumberRange(1, 1_000_000)]
    )


class TakeInForm(PageForm):
    container = FileField(_l("Container (0401 or 0503, ZIP)"), validators=[FileRequired()])
    node = StringField(_l("File plan code"), validators=[DataRequired(), Length(max=64)])


@bp.route("/", methods=["GET", "POST"])
def overview():
    form = ArchiveForm(prefix="archive")
    if form.submit_ok():
        transfer.set_archive(
            db(),
            actor(),
            form.name.data,
            version=form.version.data,
            max_message_bytes=form.max_mb.data * 1024 * 1024 if form.max_mb.data else None,
        )
        flash(_("Archive saved."), "info")
        return redirect(url_for("xdomea.overview"))
    return render_template(
        "xdomea/overview.html",
        form=form,
        take_in_form=TakeInForm(prefix="takein"),
        archives=transfer.list_archives(db(), actor()),
        messages=transfer.list_messages(db(), actor()),
        imports=imports.list_imports(db(), actor()),
    )


@bp.post("/uebernahme")
def take_in():
    form = TakeInForm(prefix="takein")
    if not form.submit_ok():
        flash(_("Please choose a container and a file plan code."), "error")
        return redirect(url_for("xdomea.overview"))
    upload = form.container.data
    rt = runtime()
    with tempfile.TemporaryDirectory() as tmp:
        # The container is checked and taken in from a file: a ZIP is read by its directory.
        name = Path(upload.filename or "container.zip").name or "container.zip"
        path = Path(tmp) / name
        upload.save(path)
        result = takein.take_in(
            db(),
            actor(),
            rt.store,
            path,
            node=form.node.data.strip(),
            settings=rt.settings,
            enqueue=rt.jobs.enqueue,
        )
    if result.problems:
        flash(_("The container was refused; nothing was taken in."), "error")
    else:
        index_soon()
        flash(_("%(n)s case(s) taken in.", n=len(result.cases)), "info")
    return redirect(url_for("xdomea.report", import_id=result.record.uuid))


@bp.get("/uebernahmen/<uuid:import_id>")
def report(import_id):
    record = imports.get_import(db(), actor(), str(import_id))
    return render_template(
        "xdomea/report.html", record=record, lines=json.loads(record.report or "[]")
    )
