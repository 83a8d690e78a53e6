"""Query and form parameters of the web views, checked at the edge: a value that is
malformed or out of range is answered 400 with a German message (``BadParameter``), never
passed on to become a database overflow or a 500."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from flask import request
from flask_wtf import FlaskForm

from eakte.errors import BadParameter

MAX_PAGE = 100_000  # far beyond any list; keeps offsets well inside 64-bit integers
PAGE = "seite"


def _shown(value: str) -> str:
    return repr(value[:40])  # logs get a short, quoted piece of what was sent


def int_arg(name: str, default: int, low: int, high: int, source=None) -> int:
    """The integer parameter ``name`` (``default`` when absent), within [low, high]."""
    raw = (request.args if source is None else source).get(name, "")
    if raw == "":
        return default
    if not (raw.isascii() and raw.isdigit()) or not low <= int(raw) <= high:
        raise BadParameter(f"parameter {name}={_shown(raw)} is not a number from {low} to {high}")
    return int(raw)


def page_arg(name: str = PAGE) -> int:
    """The page of a list, from 1."""
    return int_arg(name, 1, 1, MAX_PAGE)


def choice_arg(name: str, choices: Iterable[str], default: str) -> str:
    raw = request.args.get(name, "")
    if raw == "":
        return default
    if raw not in choices:
        raise BadParameter(f"parameter {name}={_shown(raw)} is not one of the choices")
    return raw


def uuid_list(name: str) -> list[str]:
    """Form values that must each be a UUID (ids of objects picked on a page)."""
    values = request.form.getlist(name)
    for value in values:
        try:
            uuid.UUID(value)
        except ValueError:
            raise BadParameter(f"form field {name}={_shown(value)} is not a UUID") from None
    return values


def checked(form: FlaskForm) -> FlaskForm:
    """A filter form read from the query string, raising unless every field is valid."""
    if not form.validate():
        fields = ", ".join(sorted(form.errors))
        raise BadParameter(f"query parameter(s) not valid: {fields}")
    return form
