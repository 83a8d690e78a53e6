"""Records management: file plan maintenance, retention schedules, audit trail, verify report."""

from __future__ import annotations

import base64
import binascii

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import DateField, HiddenField, IntegerField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from eakte.errors import BadInput, ChangesNeedConfirmation
from eakte.permissions import Action, require
from eakte.services import fileplan
from eakte.services.audit_trail import ACTIONS, AuditFilter, search_audit
from eakte.services.fileplan import FilePlanImportError
from eakte.verify import load_report
from retention import schedules as schedule_service
from web.context import actor
from web.db import db, runtime
from web.filters import ACTION_LABELS
from web.forms import NONE, ActionForm, PageForm
from web.params import checked, page_arg

bp = Blueprint("records", __name__, url_prefix="/registratur")


class ImportForm(PageForm):
    csv_file = FileField(_l("CSV file"), validators=[FileRequired()])


class NodeForm(PageForm):
    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=64)])
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=300)])
    parent = StringField(_l("Parent code"), validators=[Optional(), Length(max=64)])
    schedule = SelectField(_l("Retention schedule"), validators=[Optional()])


class ConfirmImportForm(PageForm):
    """Re-submits the very file whose changes were listed (base64, URL-encoded, so only the
    upload limit applies); the token binds the confirmation to this file and to the plan as it
    was shown (a different file or plan needs a new one)."""

    csv_data = HiddenField(validators=[DataRequired()])
    source_name = HiddenField()
    token = HiddenField(validators=[DataRequired(), Length(min=64, max=64)])


class MoveNodeForm(PageForm):
    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=64)])
    parent = StringField(
        _l("New parent code (empty: top level)"), validators=[Optional(), Length(max=64)]
    )


class ScheduleForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    legal_basis = StringField(_l("Legal basis"), validators=[Optional(), Length(max=500)])
    period_years = IntegerField(
        _l("Period in years (empty: permanent)"), validators=[Optional(), NumberRange(0, 500)]
    )
    action = SelectField(
        _l("Then"),
        choices=[
            SelectChoice("A", _l("A – offer to the archive")),
            SelectChoice("V", _l("V – destroy")),
            SelectChoice("B", _l("B – the archive appraises")),
        ],
    )
    trigger_event = StringField(
        _l("Start at event (empty: at closure)"), validators=[Optional(), Length(max=200)]
    )


class AuditFilterForm(FlaskForm):
    class Meta:
        csrf = False  # a GET search form changes nothing

    username = StringField(_l("User"), validators=[Optional(), Length(max=80)])
    action = SelectField(
        _l("Action"),
        choices=[NONE, *[SelectChoice(a, ACTION_LABELS.get(a, a)) for a in ACTIONS]],
        validators=[Optional()],
    )
    object_uuid = StringField(_l("Object UUID"), validators=[Optional(), Length(max=36)])
    since = DateField(_l("From"), validators=[Optional()])
    until = DateField(_l("To"), validators=[Optional()])


@bp.route("/aktenplan", methods=["GET", "POST"])
def fileplan_admin():
    require(db(), actor(), Action.manage_fileplan)
    import_form, node_form = ImportForm(prefix="import"), NodeForm(prefix="node")
    confirm_form, move_form = ConfirmImportForm(prefix="confirm"), MoveNodeForm(prefix="move")
    node_form.schedule.choices = [NONE] + [
        SelectChoice(s.name) for s in schedule_service.list_schedules(db(), actor())
    ]
    problems: list[str] = []
    try:
        if import_form.submit_ok():
            upload = import_form.csv_file.data
            return _import(upload.read(), upload.filename or "")
        if confirm_form.submit_ok():
            return _import(
                _decoded(confirm_form.csv_data.data),
                confirm_form.source_name.data or "",
                confirm_form.token.data,
            )
    except FilePlanImportError as exc:
        problems = [
            _("line %(n)s", n=p.line) + ": " + _(p.message, **p.params) for p in exc.problems
        ]
    if node_form.submit_ok():
        fileplan.create_node(
            db(),
            actor(),
            node_form.code.data,
            node_form.title.data,
            parent_code=node_form.parent.data or None,
            schedule_name=node_form.schedule.data or None,
        )
        flash(_("Node %(code)s created.", code=node_form.code.data), "info")
        return redirect(url_for("records.fileplan_admin"))
    if move_form.submit_ok():
        node = fileplan.move_node(db(), actor(), move_form.code.data, move_form.parent.data or None)
        flash(_("Node %(code)s moved.", code=node.code), "info")
        return redirect(url_for("records.fileplan_admin"))
    return render_template(
        "records/fileplan.html",
        import_form=import_form,
        node_form=node_form,
        move_form=move_form,
        problems=problems,
    )


def _import(data: bytes, source_name: str, token: str = ""):
    """Import; a file that changes existing nodes gets the page that lists the changes and
    re-submits the same file with the token of exactly these changes."""
    try:
        result = fileplan.import_csv(db(), actor(), data, source_name=source_name, confirm=token)
    except ChangesNeedConfirmation as exc:
        form = ConfirmImportForm(
            prefix="confirm",
            formdata=None,
            csv_data=base64.b64encode(data).decode("ascii"),
            source_name=source_name,
            token=exc.token,
        )
        return render_template(
            "records/fileplan_confirm.html", changes=exc.changes, form=form, repeated=bool(token)
        )
    flash(
        _("File plan imported: %(c)s created, %(u)s updated.", c=result.created, u=result.updated),
        "info",
    )
    return redirect(url_for("records.fileplan_admin"))


def _decoded(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise BadInput("the confirmed file plan is not valid base64") from None


@bp.get("/aktenplan.csv")
def fileplan_export():
    data = fileplan.export_csv(db(), actor())
    return Response(
        data,
        mimetype="text/csv; charset=utf-8",
        headers={"Content-Disposition": "attachment; filename=aktenplan.csv"},
    )


@bp.route("/fristen", methods=["GET", "POST"])
def schedules():
    form = ScheduleForm()
    if form.validate_on_submit():
        schedule_service.create_schedule(
            db(),
            actor(),
            form.name.data,
            period_years=form.period_years.data,
            action=form.action.data,
            legal_basis=form.legal_basis.data or "",
            trigger="event" if form.trigger_event.data else "closure",
            trigger_event=form.trigger_event.data or "",
        )
        flash(_("Schedule %(name)s created.", name=form.name.data), "info")
        return redirect(url_for("records.schedules"))
    require(db(), actor(), Action.manage_schedules)
    return render_template(
        "records/schedules.html",
        form=form,
        schedules=schedule_service.list_schedules(db(), actor()),
    )


@bp.get("/protokoll")
def audit_trail():
    form = checked(AuditFilterForm(request.args))
    flt = AuditFilter(
        username=form.username.data or "",
        action=form.action.data or "",
        object_uuid=form.object_uuid.data or "",
        since=form.since.data,
        until=form.until.data,
    )
    page = search_audit(db(), actor(), flt, page_arg())
    return render_template(
        "records/audit.html",
        form=form,
        page=page,
        query={k: v for k, v in request.args.items() if k != "seite"},
    )


@bp.route("/pruefung", methods=["GET", "POST"])
def verify_report():
    require(db(), actor(), Action.view_audit)
    form = ActionForm()
    if form.validate_on_submit():
        runtime().jobs.verify_now()
        flash(_("The check has been started; the report appears here when it is done."), "info")
        return redirect(url_for("records.verify_report"))
    return render_template(
        "records/verify.html", form=form, report=load_report(runtime().settings.data_dir)
    )
