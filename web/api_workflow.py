"""/api/v1 for the clerk's daily work (issue 16): the desk, routes, steps and their decisions,
Wiedervorlagen. Reading needs scope ``read``, changing scope ``workflow``; the token's user is
the actor, so the permission and audit rules of the services apply."""

from __future__ import annotations

import uuid as uuidlib
from datetime import date
from typing import Any

from flask import g, jsonify, request

from eakte.errors import BadInput
from eakte.models import Document, OrgUnit, Process, User
from eakte.models.api import Scope
from eakte.models.workflow import Instruction, Route, RouteStep, Wiedervorlage
from eakte.workflow import routes, wiedervorlagen
from eakte.workflow.desk import Desk, desk
from eakte.workflow.routes import StepSpec
from web.api import bp, scoped
from web.db import db
from web.params import choice_arg

MAX_BODY_STEPS = routes.MAX_STEPS


def _body() -> dict[str, Any]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise BadInput("the request body must be a JSON object")
    return body


def _text(body: dict, name: str, default: str = "", limit: int = 4000) -> str:
    value = body.get(name, default)
    if value is None:
        return default
    if not isinstance(value, str) or len(value) > limit:
        raise BadInput(f"{name} must be a text of at most {limit} characters")
    return value


def _day(value: Any, name: str) -> date | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise BadInput(f"{name} must be a date (YYYY-MM-DD)")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise BadInput(f"{name} must be a date (YYYY-MM-DD)") from None


def _uuid(value: Any, name: str) -> str | None:
    if value is None:
        return None
    try:
        return str(uuidlib.UUID(str(value)))
    except ValueError:
        raise BadInput(f"{name} must be a UUID") from None


def _date_arg(name: str) -> date | None:
    return _day(request.args.get(name) or None, name)


@bp.get("/desk")
@scoped(Scope.read)
def get_desk():
    found = desk(
        db(),
        g.api_user,
        due_by=_date_arg("due_by"),
        order=choice_arg("order", ("deadline", "-deadline"), "deadline"),
    )
    return jsonify(desk_json(found))


def desk_json(found: Desk) -> dict[str, Any]:
    return {
        "user": found.username,
        "today": found.today.isoformat(),
        "counts": found.counts,
        "routed": [
            {
                "step": row.step_uuid,
                "route": row.route_uuid,
                "title": row.title,
                "instruction": row.instruction,
                "deadline": row.deadline.isoformat() if row.deadline else None,
                "overdue": row.overdue,
                "file_reference": row.file_reference,
                "author": row.author,
            }
            for row in found.routed
        ],
        "wiedervorlagen": [
            {
                "uuid": row.uuid,
                "due": row.due.isoformat(),
                "overdue": row.overdue,
                "note": row.note,
                "file_reference": row.file_reference,
            }
            for row in found.wiedervorlagen
        ],
        "assigned": [{"uuid": row.uuid, "title": row.title} for row in found.assigned],
        "my_routes": [
            {
                "uuid": row.uuid,
                "title": row.title,
                "status": row.status,
                "where": row.where,
                "deadline": row.deadline.isoformat() if row.deadline else None,
            }
            for row in found.my_routes
        ],
        "standing_in_for": [desk_json(other) for other in found.standing_in_for],
    }


def _steps(body: dict) -> list[StepSpec]:
    raw = body.get("steps")
    if not isinstance(raw, list) or not raw or len(raw) > MAX_BODY_STEPS:
        raise BadInput(f"steps must be a list of 1 to {MAX_BODY_STEPS} steps")
    specs = []
    for item in raw:
        if not isinstance(item, dict):
            raise BadInput("each step must be an object")
        group = item.get("group")
        if not isinstance(group, int) or isinstance(group, bool) or not 1 <= group <= 1000:
            raise BadInput("a step's group must be a number from 1 to 1000")
        try:
            instruction = Instruction(str(item.get("instruction")))
        except ValueError:
            raise BadInput("unknown instruction") from None
        user, unit = item.get("user"), item.get("unit")
        if (user is None) == (unit is None) or not isinstance(user or unit, str):
            raise BadInput("a step goes to one user (user name) or one unit (code)")
        user_id, unit_id = routes.resolve_addressee(
            db(), g.api_user, user if user is not None else f"unit:{unit}"
        )
        specs.append(
            StepSpec(
                group,
                instruction,
                user_id,
                unit_id,
                _day(item.get("deadline"), "deadline"),
                _text(item, "note"),
            )
        )
    return specs


@bp.post("/routes")
@scoped(Scope.workflow)
def start_route():
    body = _body()
    started = routes.start_route(
        db(),
        g.api_user,
        steps=_steps(body),
        document=_uuid(body.get("document"), "document"),
        process=_uuid(body.get("process"), "process"),
        title=_text(body, "title", limit=500),
    )
    return jsonify(route_json(started)), 201


@bp.get("/routes/<uuid:route_id>")
@scoped(Scope.read)
def get_route(route_id):
    return jsonify(route_json(routes.get_route(db(), g.api_user, str(route_id))))


@bp.post("/routes/<uuid:route_id>/recall")
@scoped(Scope.workflow)
def recall_route(route_id):
    body = request.get_json(silent=True) or {}
    reason = _text(body, "reason") if isinstance(body, dict) else ""
    return jsonify(route_json(routes.recall(db(), g.api_user, str(route_id), reason)))


@bp.post("/steps/<uuid:step_id>/decision")
@scoped(Scope.workflow)
def decide_step(step_id):
    body = _body()
    decision = _text(body, "decision", limit=40)
    step = routes.decide(db(), g.api_user, str(step_id), decision, _text(body, "comment"))
    return jsonify(route_json(step.route))


def _username(user_id: int | None) -> str | None:
    user = db().get(User, user_id) if user_id is not None else None
    return user.username if user else None


def route_json(route: Route) -> dict[str, Any]:
    session = db()
    obj: Document | Process | None = routes.route_object(session, route)
    return {
        "uuid": str(route.uuid),
        "title": route.title,
        "status": route.status,
        "author": _username(route.author_id),
        "object": {
            "kind": "document" if isinstance(obj, Document) else "process",
            "uuid": str(obj.uuid) if obj is not None else None,
        },
        "signed_sha256": route.signed_sha256 or None,
        "steps": [step_json(step) for step in route.steps],
    }


def step_json(step: RouteStep) -> dict[str, Any]:
    unit = db().get(OrgUnit, step.addressee_unit_id) if step.addressee_unit_id else None
    return {
        "uuid": str(step.uuid),
        "group": step.group_no,
        "status": step.status,
        "instruction": step.instruction,
        "user": _username(step.addressee_user_id),
        "unit": unit.code if unit else None,
        "deadline": step.deadline.isoformat() if step.deadline else None,
        "note": step.note,
        "decision": step.decision or None,
        "comment": step.comment,
        "decided_at": step.decided_at.isoformat() if step.decided_at else None,
        "decided_by": _username(step.decided_by_id),
        "on_behalf_of": _username(step.on_behalf_of_id),
    }


@bp.get("/wiedervorlagen")
@scoped(Scope.read)
def list_wiedervorlagen():
    rows = wiedervorlagen.list_for(db(), g.api_user, due_by=_date_arg("due_by"))
    return jsonify([wv_json(row) for row in rows])


@bp.post("/wiedervorlagen")
@scoped(Scope.workflow)
def add_wiedervorlage():
    body = _body()
    due = _day(body.get("due"), "due")
    if due is None:
        raise BadInput("due is required")
    targets = {name: _uuid(body.get(name), name) for name in ("case", "process", "document")}
    user = body.get("user")
    if user is not None and not isinstance(user, str):
        raise BadInput("user must be a user name")
    added = wiedervorlagen.add(
        db(), g.api_user, due=due, note=_text(body, "note"), user=user, **targets
    )
    return jsonify(wv_json(added)), 201


@bp.post("/wiedervorlagen/<uuid:wv_id>/done")
@scoped(Scope.workflow)
def wiedervorlage_done(wv_id):
    body = request.get_json(silent=True) or {}
    note = _text(body, "note") if isinstance(body, dict) else ""
    return jsonify(wv_json(wiedervorlagen.done(db(), g.api_user, str(wv_id), note)))


def wv_json(wv: Wiedervorlage) -> dict[str, Any]:
    return {
        "uuid": str(wv.uuid),
        "due": wv.due.isoformat(),
        "note": wv.note,
        "user": _username(wv.user_id),
        "done": wv.done_at is not None,
    }
