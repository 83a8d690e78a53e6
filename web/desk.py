"""The desk (Schreibtisch) and the route, decision and Wiedervorlage forms (issue 16).

Views only read the form and call ``eakte.workflow``'s services, which check permissions and
write the audit trail. The panel on case and document pages (``workflow/_panel.html``) gets its
rows from ``workflow_panel``, a template global, so those pages need one include line each."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import or_, select

from eakte.errors import BadParameter, PermissionDenied
from eakte.models import Case, Document, Process
from eakte.models.workflow import (
    OPEN_ROUTE,
    Decision,
    Instruction,
    Route,
    RouteStep,
    StepStatus,
    Wiedervorlage,
)
from eakte.permissions import Action, acting_for, can, require
from eakte.services.guard import load
from eakte.workflow import clock, routes, vermerk, wiedervorlagen
from eakte.workflow.desk import counts, desk
from eakte.workflow.routes import ALLOWED, StepSpec
from web.context import actor
from web.db import db
from web.forms import ActionForm
from web.params import choice_arg

bp = Blueprint("desk", __name__)

PAGE_ROWS = 50  # rows per list on the page (the counts above each list are exact)
STEP_ROWS = 6  # rows of the route form; more steps: start another route or change it later
INSTRUCTION_LABELS = {
    "kenntnis": "zur Kenntnis",
    "mitzeichnung": "zur Mitzeichnung",
    "stellungnahme": "zur Stellungnahme",
    "bearbeitung": "zur Bearbeitung",
    "schlusszeichnung": "zur Schlusszeichnung",
}
DECISION_LABELS = {
    "mitgezeichnet": "mitgezeichnet",
    "mitgezeichnet_mit_aenderungen": "mitgezeichnet mit Änderungen",
    "nicht_mitgezeichnet": "nicht mitgezeichnet",
    "zur_kenntnis_genommen": "zur Kenntnis genommen",
    "erledigt": "erledigt",
    "schlussgezeichnet": "schlussgezeichnet",
}
STATUS_LABELS = {
    "future": "geplant",
    "current": "aktuell",
    "done": "erledigt",
    "skipped": "entfallen",
    "active": "läuft",
    "returned": "zurück beim Absender",
    "recalled": "zurückgezogen",
    "completed": "abgeschlossen",
}


def _date_param(raw: str, name: str) -> date | None:
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise BadParameter(f"parameter {name} is not a date") from None


@bp.app_context_processor
def _workflow_globals() -> dict[str, Any]:
    return {
        "desk_counts": _nav_counts,
        "workflow_panel": workflow_panel,
        "instruction_labels": INSTRUCTION_LABELS,
        "decision_labels": DECISION_LABELS,
        "workflow_status_labels": STATUS_LABELS,
    }


def _nav_counts() -> int:
    """Routed to me now + Wiedervorlagen due, for the navigation entry."""
    if not current_user.is_authenticated:
        return 0
    found = g.get("desk_counts")  # the desk page counted already
    if found is None:
        found = g.desk_counts = counts(db(), actor())
    return int(found["routed"] + found["wiedervorlagen"])


@bp.get("/schreibtisch")
def index():
    session, user = db(), actor()
    order = choice_arg("sortierung", ("deadline", "-deadline"), "deadline")
    due_by = _date_param(request.args.get("bis", ""), "bis")
    for_user = request.args.get("fuer") or None
    found = desk(session, user, for_user=for_user, due_by=due_by, order=order, limit=PAGE_ROWS)
    if for_user is None:
        g.desk_counts = found.counts  # the navigation's count, without asking again
    return render_template(
        "workflow/desk.html",
        desk=found,
        order=order,
        due_by=due_by,
        for_user=for_user,
        action_form=ActionForm(),
    )


def _back(default: str) -> Any:
    target = request.form.get("next", "")
    if target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return redirect(target)
    return redirect(default)


def _step_specs() -> list[StepSpec]:
    session, user = db(), actor()
    specs = []
    for row in range(STEP_ROWS):
        who = request.form.get(f"step-{row}-who", "").strip()
        if not who:
            continue
        group = request.form.get(f"step-{row}-group", "1")
        if not (group.isascii() and group.isdigit()) or not 1 <= int(group) <= 99:
            raise BadParameter(f"form field step-{row}-group is not a number from 1 to 99")
        try:
            instruction = Instruction(request.form.get(f"step-{row}-instruction", ""))
        except ValueError:
            raise BadParameter(f"form field step-{row}-instruction is not valid") from None
        deadline = _date_param(request.form.get(f"step-{row}-deadline", ""), "deadline")
        user_id, unit_id = routes.resolve_addressee(session, user, who)
        note = request.form.get(f"step-{row}-note", "")[:4000]
        specs.append(StepSpec(int(group), instruction, user_id, unit_id, deadline, note))
    return specs


@bp.post("/laufwege")
def start():
    if not ActionForm().validate_on_submit():
        raise BadParameter("form without a valid CSRF token")
    kind = request.form.get("kind", "")
    ident = request.form.get("object", "")
    if kind not in ("document", "process"):
        raise BadParameter("form field kind is not valid")
    route = routes.start_route(
        db(),
        actor(),
        steps=_step_specs(),
        document=ident if kind == "document" else None,
        process=ident if kind == "process" else None,
        title=request.form.get("title", "")[:500],
    )
    flash(_("Route started."), "info")
    return _back(url_for("desk.show_route", route_id=route.uuid))


@bp.get("/laufwege/<uuid:route_id>")
def show_route(route_id):
    session, user = db(), actor()
    route = routes.get_route(session, user, str(route_id))
    return render_template(
        "workflow/route.html",
        route=route,
        obj=routes.route_object(session, route),
        steps=[_step_view(session, user, step) for step in route.steps],
        is_author=route.author_id == user.id,
        action_form=ActionForm(),
    )


def _step_view(session, user, step: RouteStep) -> dict[str, Any]:
    from eakte.models import OrgUnit, User

    addressee = (
        session.get(User, step.addressee_user_id)
        if step.addressee_user_id
        else session.get(OrgUnit, step.addressee_unit_id)
    )
    decided_by = session.get(User, step.decided_by_id) if step.decided_by_id else None
    behalf = session.get(User, step.on_behalf_of_id) if step.on_behalf_of_id else None
    return {
        "step": step,
        "addressee": getattr(addressee, "display_name", None)
        or getattr(addressee, "username", None)
        or getattr(addressee, "name", "?"),
        "decided_by": decided_by.display_name or decided_by.username if decided_by else "",
        "on_behalf_of": behalf.display_name or behalf.username if behalf else "",
        "decisions": sorted(d.value for d in ALLOWED[Instruction(step.instruction)])
        if step.status == StepStatus.current.value and _may_decide(session, user, step)
        else [],
    }


def _may_decide(session, user, step: RouteStep) -> bool:
    try:
        acting_for(session, user, step.addressee_user_id, step.addressee_unit_id)
    except PermissionDenied:  # only "may not"; the service checks again when posted
        return False
    return True


@bp.post("/laufwege/schritte/<uuid:step_id>/entscheidung")
def decide(step_id):
    if not ActionForm().validate_on_submit():
        raise BadParameter("form without a valid CSRF token")
    decision = request.form.get("decision", "")
    if decision not in {d.value for d in Decision}:
        raise BadParameter("form field decision is not valid")
    step = routes.decide(
        db(), actor(), str(step_id), decision, request.form.get("comment", "")[:4000]
    )
    flash(_("Decision recorded."), "info")
    return _back(url_for("desk.show_route", route_id=step.route.uuid))


@bp.post("/laufwege/<uuid:route_id>/zurueckziehen")
def recall(route_id):
    if not ActionForm().validate_on_submit():
        raise BadParameter("form without a valid CSRF token")
    routes.recall(db(), actor(), str(route_id), request.form.get("reason", "")[:4000])
    flash(_("Route recalled."), "info")
    return _back(url_for("desk.show_route", route_id=route_id))


@bp.post("/wiedervorlagen")
def add_wv():
    if not ActionForm().validate_on_submit():
        raise BadParameter("form without a valid CSRF token")
    kind = request.form.get("kind", "")
    if kind not in ("case", "process", "document"):
        raise BadParameter("form field kind is not valid")
    due = _date_param(request.form.get("due", ""), "due")
    if due is None:
        flash(_("Please give a date."), "error")
        return _back(url_for("desk.index"))
    wiedervorlagen.add(
        db(),
        actor(),
        due=due,
        note=request.form.get("note", "")[:4000],
        user=request.form.get("user") or None,
        **{kind: request.form.get("object", "")},
    )
    flash(_("Wiedervorlage added."), "info")
    return _back(url_for("desk.index"))


@bp.post("/wiedervorlagen/<uuid:wv_id>/erledigt")
def wv_done(wv_id):
    if not ActionForm().validate_on_submit():
        raise BadParameter("form without a valid CSRF token")
    wiedervorlagen.done(db(), actor(), str(wv_id))
    flash(_("Wiedervorlage done."), "info")
    return _back(url_for("desk.index"))


def workflow_panel(obj: Case | Process | Document) -> dict[str, Any]:
    """Routes and open Wiedervorlagen on a case, process or document page, and what the user
    may do there."""
    session, user = db(), actor()
    if isinstance(obj, Case):
        on_route = Route.case_id == obj.id
        on_wv = Wiedervorlage.case_id == obj.id
    elif isinstance(obj, Process):
        on_route = Route.process_id == obj.id
        on_wv = Wiedervorlage.process_id == obj.id
    else:
        on_route = Route.document_id == obj.id
        on_wv = Wiedervorlage.document_id == obj.id
    found = session.scalars(select(Route).where(on_route).order_by(Route.id.desc()).limit(20)).all()
    wvs = session.scalars(
        select(Wiedervorlage)
        .where(
            on_wv,
            Wiedervorlage.done_at.is_(None),
            or_(Wiedervorlage.user_id == user.id, Wiedervorlage.created_by_id == user.id),
        )
        .order_by(Wiedervorlage.due)
        .limit(20)
    ).all()
    kind = {Case: "case", Process: "process", Document: "document"}[type(obj)]
    closed = (
        obj.is_closed
        if isinstance(obj, Case)
        else (obj.case.is_closed if isinstance(obj, Process) else False)
    )
    return {
        "kind": kind,
        "routes": found,
        "open_routes": [r for r in found if r.status in OPEN_ROUTE],
        "wiedervorlagen": wvs,
        "may_route": not closed and can(session, user, Action.route, obj),
        # on a case page a route goes on one of its open processes
        "processes": [p for p in obj.processes if not p.is_closed] if isinstance(obj, Case) else [],
        "may_wv": not closed and can(session, user, Action.view, obj),
        "step_rows": range(STEP_ROWS),
        "instructions": [i.value for i in Instruction],
        "today": clock.today(session),
    }


@bp.route("/vorgaenge/<uuid:process_id>/vermerk", methods=["GET", "POST"])
def write_note(process_id):
    """Aktenvermerk or Verfügung: a text form with the case's data filled in."""
    from web.db import runtime

    session, user = db(), actor()
    process = load(session, user, Process, str(process_id))
    require(session, user, Action.edit, process)
    kind = request.values.get("art", "aktenvermerk")
    if kind not in vermerk.KINDS:
        raise BadParameter("parameter art is not valid")
    if request.method == "POST":
        if not ActionForm().validate_on_submit():
            raise BadParameter("form without a valid CSRF token")
        rt = runtime()
        document = vermerk.write(
            session,
            user,
            rt.store,
            rt.settings,
            process.id,
            request.form.get("text", ""),
            kind=kind,
            enqueue=rt.jobs.enqueue,
        )
        flash(_("The note was saved; it is being converted to PDF/A."), "info")
        return redirect(url_for("documents.show", document_id=document.uuid))
    return render_template(
        "workflow/note.html",
        process=process,
        kind=kind,
        kind_label=vermerk.KINDS[kind],
        text=vermerk.template(session, user, process, kind),
    )
