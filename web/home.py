"""The start page: the inbox of the user's org units and recent cases."""

from __future__ import annotations

from flask import Blueprint, render_template

from eakte.services import listing, saved_searches
from web.context import actor
from web.db import db, runtime
from web.params import page_arg

bp = Blueprint("home", __name__)


@bp.get("/")
def index():
    session, user = db(), actor()
    return render_template(
        "home.html",
        inbox=listing.inbox(session, user, page_arg()),
        recent=listing.recent_cases(session, user),
        saved=saved_searches.with_counts(
            session, user, runtime().search, saved_searches.visible(session, user)[:10]
        ),
    )
