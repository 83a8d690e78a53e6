"""Notices to mail (outbox): written in the transaction of the change they report, delivered
later by the sender (``eakte.workflow.mailer``). German text for the clerk, a link into eAkte,
never document content (a title may name a person, so not even the title: the reference and
the kind of work only)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from eakte.models import OrgUnit, User
from eakte.models.workflow import Instruction, MailAddress, Notice, Route, RouteStep
from eakte.workflow import clock

INSTRUCTION_DE = {
    Instruction.kenntnis.value: "zur Kenntnis",
    Instruction.mitzeichnung.value: "zur Mitzeichnung",
    Instruction.stellungnahme.value: "zur Stellungnahme",
    Instruction.bearbeitung.value: "zur Bearbeitung",
    Instruction.schlusszeichnung.value: "zur Schlusszeichnung",
}
DESK_PATH = "/schreibtisch"


def _recipients(session: Session, step: RouteStep) -> list[int]:
    if step.addressee_user_id is not None:
        return [step.addressee_user_id]
    return list(
        session.scalars(
            select(User.id).where(User.org_unit_id == step.addressee_unit_id, User.active)
        )
    )


def _has_address(session: Session, user_id: int) -> bool:
    return session.get(MailAddress, user_id) is not None


def add(session: Session, tenant_id: int, user_id: int, kind: str, subject: str, body: str) -> None:
    """Queue one mail, if the user gave an address (no address: the desk is enough)."""
    if _has_address(session, user_id):
        session.add(
            Notice(
                tenant_id=tenant_id,
                user_id=user_id,
                kind=kind,
                subject=subject,
                body=body,
                created_at=clock.now(session),  # the workflow's day (one digest per day)
            )
        )


def arrival(session: Session, route: Route, step: RouteStep) -> None:
    what = INSTRUCTION_DE.get(step.instruction, step.instruction)
    deadline = f"\nFrist: {step.deadline.strftime('%d.%m.%Y')}" if step.deadline else ""
    unit = ""
    if step.addressee_unit_id is not None:
        org = session.get(OrgUnit, step.addressee_unit_id)
        unit = f" (an {org.name})" if org else ""
    for user_id in _recipients(session, step):
        add(
            session,
            route.tenant_id,
            user_id,
            "arrival",
            f"eAkte: neuer Vorgang {what}",
            f"Ihnen wurde ein Laufweg {what} zugeleitet{unit}.{deadline}\n\n"
            f"Schreibtisch: {{base_url}}{DESK_PATH}\n"
            f"Laufweg: {{base_url}}/laufwege/{route.uuid}\n",
        )


def returned(session: Session, route: Route) -> None:
    add(
        session,
        route.tenant_id,
        route.author_id,
        "returned",
        "eAkte: Laufweg nicht mitgezeichnet",
        "Ein von Ihnen gestarteter Laufweg wurde nicht mitgezeichnet und liegt wieder bei "
        f"Ihnen.\n\nLaufweg: {{base_url}}/laufwege/{route.uuid}\n",
    )


def set_address(session: Session, actor: User, address: str, user: User | None = None) -> None:
    """Where ``user``'s (default: the actor's) notices go; '' stops them. Users set their
    own; an admin anyone's."""
    from eakte import audit
    from eakte.db import transaction
    from eakte.errors import BadInput
    from eakte.permissions import Action, require

    target = user or actor
    address = address.strip()
    if address and (len(address) > 320 or "@" not in address or any(c in address for c in "\r\n ")):
        raise BadInput("not a mail address")
    with transaction(session):
        if target.id != actor.id:
            require(session, actor, Action.manage_users)
        row = session.get(MailAddress, target.id)
        if not address:
            if row is not None:
                session.delete(row)
        elif row is None:
            session.add(MailAddress(user_id=target.id, address=address))
        else:
            row.address = address
        audit.record(session, actor, "mail_address", target, set=bool(address))
