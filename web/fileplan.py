"""The file plan tree and the cases under a node."""

from __future__ import annotations

from flask import Blueprint, render_template

from eakte.permissions import Action, can
from eakte.services import listing
from eakte.services.cases import effective_schedule, find_node
from web.context import actor
from web.db import db
from web.forms import CaseCreateForm
from web.params import page_arg

bp = Blueprint("fileplan", __name__, url_prefix="/aktenplan")


@bp.get("/")
def tree():
    return render_template("fileplan/tree.html", tree=listing.fileplan_tree(db(), actor()))


@bp.get("/<path:code>")
def node(code: str):
    plan_node = find_node(db(), actor(), code)
    page = listing.cases_under(db(), actor(), plan_node, page_arg())
    form = CaseCreateForm(node=plan_node.code)
    return render_template(
        "fileplan/node.html",
        node=plan_node,
        page=page,
        schedule=effective_schedule(db(), plan_node),
        form=form,
        may_create=can(db(), actor(), Action.create_case, plan_node),
    )
