"""The containers taken in (or refused) and their reports, for the records officer."""

from __future__ import annotations

import uuid as uuidlib

from sqlalchemy import select
from sqlalchemy.orm import Session

from eakte.errors import NotFound
from eakte.models import User
from eakte.permissions import Action, require
from retention.xdomea4.models import XdomeaImport


def list_imports(session: Session, actor: User, limit: int = 200) -> list[XdomeaImport]:
    require(session, actor, Action.dispose)
    return list(
        session.scalars(
            select(XdomeaImport)
            .where(XdomeaImport.tenant_id == actor.tenant_id)
            .order_by(XdomeaImport.id.desc())
            .limit(limit)
        )
    )


def get_import(session: Session, actor: User, ident: str) -> XdomeaImport:
    """One import of the actor's tenant, with its report (``NotFound`` otherwise)."""
    require(session, actor, Action.dispose)
    try:
        key = uuidlib.UUID(ident)
    except ValueError:
        raise NotFound(f"import {ident!r} not found") from None
    found = session.scalar(
        select(XdomeaImport).where(
            XdomeaImport.tenant_id == actor.tenant_id, XdomeaImport.uuid == key
        )
    )
    if found is None:
        raise NotFound(f"import {ident!r} not found")
    return found
