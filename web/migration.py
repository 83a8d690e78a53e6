"""Paper archive migrations (issue 21): scanning staff upload a manifest with a box of scans,
a records officer approves, scanning staff run it."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired, MultipleFileField
from wtforms import SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

from eakte.errors import ManifestInvalid
from eakte.services import listing, migration, migration_run
from retention.locks import sync_object_locks
from web.context import actor
from web.db import db, runtime
from web.forms import ActionForm, ReasonForm, ScanProfileForm
from web.reindex import index_soon

bp = Blueprint("migration", __name__, url_prefix="/altakten")


class PrepareForm(ScanProfileForm):
    name = StringField(_l("Name of the migration"), validators=[DataRequired(), Length(max=40)])
    manifest = FileField(_l("Migration manifest (CSV)"), validators=[FileRequired()])
    plan_map = FileField(_l("Old file-plan codes to today's (CSV, optional)"))
    org_unit = SelectField(_l("Scanned for"))
    files = MultipleFileField(_l("The box of scans"), validators=[DataRequired()])


@bp.route("/", methods=["GET", "POST"])
def runs():
    form = PrepareForm(prefix="prepare")
    form.org_unit.choices = [
        SelectChoice(u.code, f"{u.code} {u.name}") for u in listing.inbox_units(db(), actor())
    ]
    problems: list[str] = []
    if form.submit_ok():
        uploads = {u.filename: u for u in form.files.data if u and u.filename}
        try:
            run = migration.prepare(
                db(),
                actor(),
                form.name.data,
                form.manifest.data.read(),
                form.plan_map.data.read() if form.plan_map.data else b"",
                org_unit=form.org_unit.data,
                files=set(uploads),
                device=form.device.data or "",
                dpi=form.dpi.data,
                colour_mode=form.colour_mode.data or "",
            )
        except ManifestInvalid as exc:
            problems = exc.problems
        else:
            plan = migration.plan_of(db(), actor(), run)
            batches = migration.open_box_batches(db(), actor(), run, plan)
            for spec in plan.documents:
                migration.intake_file(
                    db(),
                    actor(),
                    runtime().store,
                    run,
                    spec,
                    uploads[spec.file].stream,
                    batch_id=batches[spec.box],
                    settings=runtime().settings,
                    enqueue=runtime().jobs.enqueue,
                )
            flash(_("Migration prepared; a records officer has to approve it."), "info")
            return redirect(url_for("migration.show", run_id=run.uuid))
    return render_template(
        "migration/runs.html",
        form=form,
        problems=problems,
        runs=migration.list_runs(db(), actor()),
        may_prepare="scanner" in actor().roles,
    )


@bp.get("/<uuid:run_id>")
def show(run_id):
    run = migration.get_run(db(), actor(), str(run_id))
    return render_template(
        "migration/run.html",
        run=run,
        cases=migration.cases_of(db(), actor(), run),
        action_form=ActionForm(),
        reject_form=ReasonForm(prefix="reject"),
    )


@bp.post("/<uuid:run_id>/freigeben")
def approve(run_id):
    if ActionForm().validate_on_submit():
        migration.decide(db(), actor(), str(run_id), True)
        flash(_("Migration approved."), "info")
    return redirect(url_for("migration.show", run_id=run_id))


@bp.post("/<uuid:run_id>/ablehnen")
def reject(run_id):
    form = ReasonForm(prefix="reject")
    if form.validate_on_submit():
        migration.decide(db(), actor(), str(run_id), False, form.reason.data)
        flash(_("Migration rejected."), "info")
    return redirect(url_for("migration.show", run_id=run_id))


@bp.post("/<uuid:run_id>/ausfuehren")
def execute(run_id):
    if ActionForm().validate_on_submit():
        run, plan = migration.start(db(), actor(), str(run_id))
        report = migration_run.run_cases(db(), actor(), run, plan)
        index_soon()
        # R25 now; the worker's periodic run retries whatever S3 refuses here.
        sync_object_locks(db(), runtime().store, case_ids=report.case_ids)
        if report.done:
            flash(_("Migration done: %(n)s case(s) brought in.", n=report.cases), "info")
        else:
            flash(
                _(
                    "%(n)s case(s) could not be brought in yet (scans missing); run it again.",
                    n=len(report.failed),
                ),
                "error",
            )
    return redirect(url_for("migration.show", run_id=run_id))
