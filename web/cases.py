"""Case pages and the actions on a case: create, edit, add a process, close, reopen, restrict,
move the case or a process, and (records officers) the event date."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from wtforms.fields.choices import SelectChoice

from eakte import audit
from eakte.permissions import Action, can
from eakte.services import cases, listing
from retention import schedules
from retention.locks import sync_object_locks
from web.context import actor
from web.db import db, runtime
from web.forms import (
    ActionForm,
    CaseCreateForm,
    CaseEditForm,
    EventDateForm,
    MoveCaseForm,
    MoveProcessForm,
    ProcessForm,
    ReasonForm,
)
from web.reindex import index_soon

bp = Blueprint("cases", __name__, url_prefix="/akten")


@bp.post("/")
def create():
    form = CaseCreateForm()
    if not form.validate_on_submit():
        flash(_("Please give the case a title."), "error")
        return redirect(url_for("fileplan.node", code=form.node.data or ""))
    case = cases.create_case(
        db(),
        actor(),
        form.node.data,
        form.title.data,
        description=form.description.data or "",
        pattern=runtime().settings.file_reference_pattern,
    )
    index_soon()
    flash(_("Case %(ref)s created.", ref=case.file_reference), "info")
    return redirect(url_for("cases.show", case_id=case.uuid))


@bp.get("/<uuid:case_id>")
def show(case_id):
    session, user = db(), actor()
    case = cases.get_case(session, user, str(case_id))
    processes = [(p, listing.documents_of_process(session, user, p)) for p in case.processes]
    return render_template(
        "cases/show.html",
        case=case,
        processes=processes,
        history=audit.history(session, str(case.uuid)),
        edit_form=CaseEditForm(obj=case),
        event_form=EventDateForm(obj=case),
        move_form=MoveCaseForm(),
        move_process_form=_move_process_form(case),
        process_form=ProcessForm(),
        reopen_form=ReasonForm(prefix="reopen"),
        restrict_form=ReasonForm(prefix="restrict"),
        action_form=ActionForm(),
        allowed={a: can(session, user, a, case) for a in Action},
    )


@bp.post("/<uuid:case_id>/bearbeiten")
def edit(case_id):
    form = CaseEditForm()
    if form.validate_on_submit():
        cases.update_case(
            db(),
            actor(),
            str(case_id),
            title=form.title.data,
            description=form.description.data or "",
        )
        index_soon()
        flash(_("Changes saved."), "info")
    else:
        flash(_("Please check your input."), "error")
    return redirect(url_for("cases.show", case_id=case_id))


@bp.post("/<uuid:case_id>/ereignisdatum")
def event_date(case_id):
    form = EventDateForm()
    if form.validate_on_submit():
        case = schedules.set_event_date(db(), actor(), str(case_id), form.event_date.data)
        sync_object_locks(db(), runtime().store, case_ids=[case.id])  # a moved end, at once
        flash(_("Changes saved."), "info")
    else:
        flash(_("Please check your input."), "error")
    return redirect(url_for("cases.show", case_id=case_id))


@bp.post("/<uuid:case_id>/verschieben")
def move(case_id):
    form = MoveCaseForm()
    if form.validate_on_submit():
        case = cases.move_case(db(), actor(), str(case_id), form.node.data.strip())
        index_soon()
        flash(_("Case moved to %(code)s.", code=case.node.code), "info")
    else:
        flash(_("Please check your input."), "error")
    return redirect(url_for("cases.show", case_id=case_id))


@bp.post("/<uuid:case_id>/vorgang-verschieben")
def move_process(case_id):
    form = MoveProcessForm()
    if form.validate_on_submit():
        process = cases.move_process(
            db(), actor(), form.process_uuid.data, form.reference.data.strip()
        )
        index_soon()
        flash(_("Process moved; it is now process %(n)s.", n=process.number), "info")
        return redirect(url_for("cases.show", case_id=process.case.uuid))
    flash(_("Please check your input."), "error")
    return redirect(url_for("cases.show", case_id=case_id))


def _move_process_form(case) -> MoveProcessForm:
    form = MoveProcessForm()
    form.process_uuid.choices = [
        SelectChoice(str(p.uuid), f"{p.number}: {p.title}")
        for p in case.processes
        if not p.is_closed
    ]
    return form


@bp.post("/<uuid:case_id>/vorgaenge")
def add_process(case_id):
    form = ProcessForm()
    if form.validate_on_submit():
        process = cases.add_process(db(), actor(), str(case_id), form.title.data)
        flash(_("Process %(n)s added.", n=process.number), "info")
    else:
        flash(_("Please give the process a title."), "error")
    return redirect(url_for("cases.show", case_id=case_id))


@bp.post("/<uuid:case_id>/schliessen")
def close(case_id):
    if ActionForm().validate_on_submit():
        case = cases.close_case(db(), actor(), str(case_id))
        index_soon()
        # R25 at once rather than at the next periodic run (which retries what fails here).
        sync_object_locks(db(), runtime().store, case_ids=[case.id])
        flash(_("Case %(ref)s closed (zdA).", ref=case.file_reference), "info")
    return redirect(url_for("cases.show", case_id=case_id))


@bp.post("/<uuid:case_id>/wiedereroeffnen")
def reopen(case_id):
    form = ReasonForm(prefix="reopen")
    if form.validate_on_submit():
        case = cases.reopen_case(db(), actor(), str(case_id), form.reason.data)
        index_soon()
        sync_object_locks(db(), runtime().store, case_ids=[case.id])
        flash(_("Case reopened."), "info")
    else:
        flash(_("Reopening needs a reason."), "error")
    return redirect(url_for("cases.show", case_id=case_id))


@bp.post("/<uuid:case_id>/sperren")
def restrict(case_id):
    form = ReasonForm(prefix="restrict")
    if form.validate_on_submit():
        case = cases.restrict_case(db(), actor(), str(case_id), True, form.reason.data)
        index_soon()
        flash(_("Personal data restricted."), "info")
        if not can(db(), actor(), Action.view, case):
            return redirect(url_for("home.index"))
    else:
        flash(_("A restriction needs a reason."), "error")
    return redirect(url_for("cases.show", case_id=case_id))
