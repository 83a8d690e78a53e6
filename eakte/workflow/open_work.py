"""R31: what keeps a case from being closed (zdA): open routes and Wiedervorlagen on it, its
processes or its documents. Called by ``eakte.services.cases.close_case``."""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from eakte.errors import OpenWorkBlocksClosure
from eakte.models import Case, Document, Process, User
from eakte.models.workflow import OPEN_ROUTE, Route, StepStatus, Wiedervorlage

SHOWN = 10  # the message names this many of each; the rest is counted


def open_work(session: Session, case: Case) -> tuple[list[Route], list[Wiedervorlage]]:
    processes = select(Process.id).where(Process.case_id == case.id)
    documents = select(Document.id).where(Document.process_id.in_(processes))
    routes = session.scalars(
        select(Route)
        .where(
            Route.status.in_(OPEN_ROUTE),
            or_(
                Route.case_id == case.id,
                Route.process_id.in_(processes),
                Route.document_id.in_(documents),
            ),
        )
        .order_by(Route.id)
    ).all()
    wvs = session.scalars(
        select(Wiedervorlage)
        .where(
            Wiedervorlage.done_at.is_(None),
            or_(
                Wiedervorlage.case_id == case.id,
                Wiedervorlage.process_id.in_(processes),
                Wiedervorlage.document_id.in_(documents),
            ),
        )
        .order_by(Wiedervorlage.due, Wiedervorlage.id)
    ).all()
    return list(routes), list(wvs)


def _name(session: Session, user_id: int | None) -> str:
    user = session.get(User, user_id) if user_id is not None else None
    return (user.display_name or user.username) if user else "?"


def _where(session: Session, route: Route) -> str:
    if route.status != "active":
        return "zurück bei " + _name(session, route.author_id)
    current = [s for s in route.steps if s.status == StepStatus.current.value]
    names = [
        _name(session, s.addressee_user_id) if s.addressee_user_id else "Organisationseinheit"
        for s in current
    ]
    return "bei " + ", ".join(names) if names else "offen"


def ensure_closable(session: Session, case: Case) -> None:
    routes, wvs = open_work(session, case)
    if not routes and not wvs:
        return
    parts_de, parts_en = [], []
    if routes:
        shown = "; ".join(f"„{r.title}“ ({_where(session, r)})" for r in routes[:SHOWN])
        more = f" und {len(routes) - SHOWN} weitere" if len(routes) > SHOWN else ""
        parts_de.append(f"offene Laufwege: {shown}{more}")
        parts_en.append(f"{len(routes)} open route(s) {[str(r.uuid) for r in routes[:SHOWN]]}")
    if wvs:
        shown = "; ".join(
            f"{w.due.strftime('%d.%m.%Y')} für {_name(session, w.user_id)}"
            + (f" ({w.note[:60]})" if w.note else "")
            for w in wvs[:SHOWN]
        )
        more = f" und {len(wvs) - SHOWN} weitere" if len(wvs) > SHOWN else ""
        parts_de.append(f"offene Wiedervorlagen: {shown}{more}")
        parts_en.append(f"{len(wvs)} open Wiedervorlage(n)")
    raise OpenWorkBlocksClosure(
        f"case {case.file_reference} has open work: {', '.join(parts_en)}",
        f"Die Akte {case.file_reference} kann nicht zdA verfügt werden – "
        + "; ".join(parts_de)
        + ". Bitte erst abschließen oder zurückziehen.",
    )
