"""Per-request database session and the runtime, as the views see them."""

from __future__ import annotations

from flask import current_app, g
from sqlalchemy.orm import Session

from eakte.runtime import Runtime


def runtime() -> Runtime:
    return current_app.extensions["eakte.runtime"]


def db() -> Session:
    """The request's session, closed at teardown (see ``security.init_app``)."""
    if "db" not in g:
        g.db = runtime().session()
    return g.db


def close_db(_exc: BaseException | None = None) -> None:
    session = g.pop("db", None)
    if session is not None:
        session.close()
