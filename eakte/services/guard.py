"""Service plumbing: the acting user's permission check, audited refusals, object lookup."""

from __future__ import annotations

import functools
import uuid as uuidlib
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from eakte import audit
from eakte.db import transaction
from eakte.errors import BadInput, NotFound, PermissionDenied
from eakte.models import User
from eakte.models.base import UuidMixin

T = TypeVar("T")
M = TypeVar("M", bound=UuidMixin)  # loaded by id or UUID


def audited_refusals(fn: Callable[..., T]) -> Callable[..., T]:
    """A refused action is rolled back, then recorded in the audit trail in its own transaction
    (R20: the outcome of attempts is logged too). Objects the user may not see are refused as
    "not found", so the entry names the attempt, not the object."""

    @functools.wraps(fn)
    def wrapper(session: Session, actor: User, *args: Any, **kwargs: Any) -> T:
        try:
            return fn(session, actor, *args, **kwargs)
        except (PermissionDenied, NotFound) as exc:
            if session.in_transaction():
                session.rollback()
            with transaction(session):
                audit.record(
                    session,
                    actor,
                    fn.__name__,
                    outcome="refused",
                    reason=type(exc).__name__,
                    detail=str(exc),
                )
            raise

    return wrapper


MAX_ROW_ID = 2**63 - 1  # the largest id the databases hold (BIGINT)


def row_id(ident: int | str | uuidlib.UUID) -> int | None:
    """``ident`` as a row id if it is one (an int or ASCII digits), else None. A number too
    large for the database is an id of nothing: 0 is given, which no row has."""
    if isinstance(ident, int) or (isinstance(ident, str) and ident.isascii() and ident.isdigit()):
        number = int(ident)
        return number if 0 <= number <= MAX_ROW_ID else 0
    return None


def load(session: Session, actor: User, model: type[M], ident: int | str | uuidlib.UUID) -> M:
    """An object of the actor's tenant by id or UUID; other tenants' objects do not exist."""
    number = row_id(ident)
    if number is not None:
        obj = session.get(model, number)
    else:
        try:
            key = ident if isinstance(ident, uuidlib.UUID) else uuidlib.UUID(str(ident))
        except ValueError:
            raise NotFound(f"{model.__name__} {ident!r} not found") from None
        obj = session.scalar(select(model).where(model.uuid == key))
    if obj is None or getattr(obj, "tenant_id", actor.tenant_id) != actor.tenant_id:
        raise NotFound(f"{model.__name__} {ident!r} not found")
    return obj


def changes(obj: Any, values: dict[str, Any], allowed: set[str]) -> dict[str, list[Any]]:
    """Apply ``values`` to ``obj``; return {field: [old, new]} for the audit trail (R23)."""
    unknown = set(values) - allowed
    if unknown:
        raise BadInput(f"fields cannot be changed: {', '.join(sorted(unknown))}")
    diff = {}
    for name, new in values.items():
        old = getattr(obj, name)
        if old != new:
            diff[name] = [old, new]
            setattr(obj, name, new)
    return diff
