"""The Geschäftsgang in the 0503 transfer (R31, issue 16): every route on a process or a
document as xdomea 3.1.0 ``InternerGeschaeftsgang`` with its ``Beteiligungsschritt`` elements.

xdomea allows one Geschäftsgang per object; an object with several routes (one recalled, a new
one after a later version) gets them all in it, numbered on in order ("1", "2", …: the standard
numbers steps continuously), each step's Verfügung naming its route and parallel group. Its ID
is derived from the object's UUID, so a repeated export names the same Geschäftsgang."""

from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from eakte.models import OrgUnit, User
from eakte.models.workflow import Route, RouteStep
from retention.xdomea import NAMESPACE

STATUS_CODES = {"future": "001", "current": "002", "done": "003", "skipped": "004"}
STATUS_LIST = ("urn:xoev-de:xdomea:codeliste:beteiligungsstatus", "1.1")
INSTRUCTIONS = {
    "kenntnis": "zur Kenntnis",
    "mitzeichnung": "zur Mitzeichnung",
    "stellungnahme": "zur Stellungnahme",
    "bearbeitung": "zur Bearbeitung",
    "schlusszeichnung": "zur Schlusszeichnung",
}
DECISIONS = {
    "mitgezeichnet": "mitgezeichnet",
    "mitgezeichnet_mit_aenderungen": "mitgezeichnet mit Änderungen",
    "nicht_mitgezeichnet": "nicht mitgezeichnet",
    "zur_kenntnis_genommen": "zur Kenntnis genommen",
    "erledigt": "erledigt",
    "schlussgezeichnet": "schlussgezeichnet",
}
GANG_NAMESPACE = uuid.UUID("6f1b0c52-5a57-4a36-9d0e-3c8f3b6f1a16")  # eAkte's Geschäftsgang ids


@dataclass(frozen=True)
class Contact:
    person: str  # a user's display name ('' for an org unit)
    unit: str  # the org unit's name


@dataclass(frozen=True)
class StepEntry:
    route_number: int
    route_uuid: str
    route_title: str
    route_status: str
    group: int
    status: str
    instruction: str
    author: Contact
    addressee: Contact
    created: datetime
    deadline: date | None
    note: str
    decision: str
    comment: str
    decided_by: Contact | None
    decided_at: datetime | None
    on_behalf_of: str  # the absent person's name when a deputy decided (i. V.)
    signed_sha256: str


def _contact(session: Session, user_id: int | None, unit_id: int | None) -> Contact:
    user = session.get(User, user_id) if user_id is not None else None
    unit_key = user.org_unit_id if user is not None else unit_id
    unit = session.get(OrgUnit, unit_key) if unit_key is not None else None
    person = (user.display_name or user.username) if user is not None else ""
    return Contact(person, unit.name if unit is not None else "")


def steps_for(
    session: Session, *, process_id: int | None = None, document_id: int | None = None
) -> list[StepEntry]:
    """All steps of every route on a process (the process itself) or on a document."""
    if document_id is not None:
        where = Route.document_id == document_id
    else:
        where = (Route.process_id == process_id) & Route.document_id.is_(None)
    entries: list[StepEntry] = []
    for number, route in enumerate(
        session.scalars(select(Route).where(where).order_by(Route.id)), start=1
    ):
        author = _contact(session, route.author_id, None)
        for step in session.scalars(
            select(RouteStep)
            .where(RouteStep.route_id == route.id)
            .order_by(RouteStep.group_no, RouteStep.id)
        ):
            behalf = session.get(User, step.on_behalf_of_id) if step.on_behalf_of_id else None
            entries.append(
                StepEntry(
                    route_number=number,
                    route_uuid=str(route.uuid),
                    route_title=route.title,
                    route_status=route.status,
                    group=step.group_no,
                    status=step.status,
                    instruction=step.instruction,
                    author=author,
                    addressee=_contact(session, step.addressee_user_id, step.addressee_unit_id),
                    created=route.created_at,
                    deadline=step.deadline,
                    note=step.note,
                    decision=step.decision,
                    comment=step.comment,
                    decided_by=_contact(session, step.decided_by_id, None)
                    if step.decided_by_id
                    else None,
                    decided_at=step.decided_at,
                    on_behalf_of=(behalf.display_name or behalf.username) if behalf else "",
                    signed_sha256=route.signed_sha256
                    if step.decision == "schlussgezeichnet"
                    else "",
                )
            )
    return entries


def _q(tag: str) -> str:
    return f"{{{NAMESPACE}}}{tag}"


def _el(parent: ET.Element, tag: str, text: str | None = None) -> ET.Element:
    element = ET.SubElement(parent, _q(tag))
    if text is not None:
        element.text = text
    return element


def _contact_el(parent: ET.Element, tag: str, contact: Contact) -> None:
    element = _el(parent, tag)
    if contact.unit:
        _el(_el(element, "Organisationseinheit"), "Name", contact.unit)
    if contact.person:
        _el(_el(_el(element, "Name"), "Familienname"), "Name", contact.person)


def _utc(value: datetime) -> datetime:
    return value.astimezone(UTC) if value.tzinfo else value


def write(parent: ET.Element, object_uuid: str, steps: list[StepEntry]) -> None:
    """Append ``InternerGeschaeftsgang`` to ``parent`` (a Vorgang or Dokument) if it has steps."""
    if not steps:
        return
    gang = _el(parent, "InternerGeschaeftsgang")
    _el(_el(gang, "Identifikation"), "ID", str(uuid.uuid5(GANG_NAMESPACE, object_uuid)))
    for number, step in enumerate(steps, start=1):
        element = _el(gang, "Beteiligungsschritt")
        _el(element, "Nummer", str(number))
        status = _el(element, "Status")
        status.set("listURI", STATUS_LIST[0])
        status.set("listVersionID", STATUS_LIST[1])
        ET.SubElement(status, "code").text = STATUS_CODES[step.status]
        order = _el(element, "Verfuegung")
        _contact_el(order, "Ersteller", step.author)
        _contact_el(order, "Adressat", step.addressee)
        created = _utc(step.created)
        _el(order, "Erstellungsdatum", created.date().isoformat())
        _el(order, "Erstellungsuhrzeit", created.strftime("%H:%M:%S"))
        _el(
            order,
            "Verfuegung",
            f"{INSTRUCTIONS.get(step.instruction, step.instruction)} – Laufweg "
            f"{step.route_number} „{step.route_title}“ ({step.route_uuid}, {step.route_status}), "
            f"Gruppe {step.group}",
        )
        if step.deadline is not None:
            _el(order, "TerminDatum", step.deadline.isoformat())
        if step.note:
            _el(order, "Notiz", step.note)
        if step.decided_by is not None and step.decided_at is not None:
            work = _el(element, "Bearbeitung")
            _contact_el(work, "Bearbeiter", step.decided_by)
            decided = _utc(step.decided_at)
            _el(work, "Datum", decided.date().isoformat())
            _el(work, "Uhrzeit", decided.strftime("%H:%M:%S"))
            note = DECISIONS.get(step.decision, step.decision)
            if step.on_behalf_of:
                note += f" (i. V. für {step.on_behalf_of})"
            if step.signed_sha256:
                note += f"; schlussgezeichnete Version sha256 {step.signed_sha256}"
            _el(work, "Vermerk", note)
            if step.comment:
                _el(work, "Notiz", step.comment)
