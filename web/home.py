"""The start page: the inbox of the user's org units and recent cases."""

from __future__ import annotations

from flask import Blueprint, render_template, request

from eakte.services import listing
from web.context import actor
from web.db import db

bp = Blueprint("home", __name__)


@bp.get("/")
def index():
    session, user = db(), actor()
    return render_template(
        "home.html",
        inbox=listing.inbox(session, user, request.args.get("seite", 1, type=int)),
        recent=listing.recent_cases(session, user),
    )
