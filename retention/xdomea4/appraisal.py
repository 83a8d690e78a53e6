"""The file plan exchanged and appraised ahead of time (issue 27).

- ``export_plan`` / ``import_plan``: the plan as xdomea 0301 (besides CSV); an imported 0301
  goes through the CSV import's checks and confirmation (all or nothing), its schedules matched
  by action and period to the tenant's own; a 0302 is written when the sender asks for it.
- ``send_for_appraisal``: the plan as 0511 to the archive (receipt 0512).
- ``receive``: the archive's 0512, or its appraisal catalogue 0513 — A / B / V per file-plan
  unit, kept as ``NodeAppraisal`` and answered with 0514 (and 0515 when asked).
- ``proposed_appraisal`` / ``apply_to_request`` / ``set_item_appraisal``: the catalogue as the
  proposed appraisal on a disposal request's items (nearest unit up the plan), which a records
  officer may change; the offer 0501 carries it as the Bewertungsvorschlag.
"""

from __future__ import annotations

import io
import json
import uuid as uuidlib
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from eakte import audit
from eakte.csv_export import csv_writer
from eakte.db import transaction
from eakte.errors import BadInput, Conflict, XdomeaRejected
from eakte.models import FilePlanNode, RetentionSchedule, Tenant, User
from eakte.models.base import utcnow
from eakte.permissions import Action, require
from eakte.services import fileplan as plan_service
from eakte.services.cases import effective_schedule
from eakte.services.guard import audited_refusals
from retention.disposal import find_request
from retention.models import DisposalItem, ItemAction, ItemState
from retention.xdomea4 import containers
from retention.xdomea4 import fileplan as messages
from retention.xdomea4.disposal import ObjectResult
from retention.xdomea4.header import Head, ReadHead
from retention.xdomea4.models import NodeAppraisal, XdomeaMessage
from retention.xdomea4.transfer import _archive

DECISIONS = ("A", "B", "V")


def _units(session: Session, tenant_id: int) -> list[messages.Unit]:
    nodes = list(session.scalars(select(FilePlanNode).where(FilePlanNode.tenant_id == tenant_id)))
    by_parent: dict[int | None, list[FilePlanNode]] = {}
    for node in nodes:
        by_parent.setdefault(node.parent_id, []).append(node)

    def build(parent_id: int | None) -> list[messages.Unit]:
        units = []
        for node in sorted(by_parent.get(parent_id, []), key=lambda n: n.code):
            schedule = effective_schedule(session, node)
            units.append(
                messages.Unit(
                    str(node.uuid),
                    node.code,
                    node.title,
                    schedule.action if schedule else "B",
                    schedule.period_years if schedule else None,
                    build(node.id),
                )
            )
        return units

    return build(None)


def _head(session: Session, actor: User, reader: str, process_id: str | None = None) -> Head:
    tenant = session.get_one(Tenant, actor.tenant_id)
    return Head(process_id or str(uuidlib.uuid4()), tenant.name, reader)


def _write(out_dir: Path, head: Head, kind: str, xml: bytes) -> tuple[Path, str]:
    path = Path(out_dir) / containers.container_name(head.process_id, kind, 1)
    member = containers.message_name(head.process_id, kind, 1)
    return path, containers.write(path, [(member, containers.bytes_writer(xml), True)])


def _record(
    session: Session, actor: User, head: Head | ReadHead, kind: str, direction: str, **values
):
    session.add(
        XdomeaMessage(
            uuid=head.message_uuid,
            tenant_id=actor.tenant_id,
            process_id=head.process_id,
            direction=direction,
            message_type=kind,
            user_id=actor.id,
            **values,
        )
    )


def export_plan(session: Session, actor: User, out_dir: Path, *, reader: str = "") -> Path:
    """The tenant's file plan as a 0301 container."""
    require(session, actor, Action.view)
    with transaction(session):
        head = _head(session, actor, reader or "Empfänger")
        tenant = session.get_one(Tenant, actor.tenant_id)
        xml = messages.plan(
            head,
            f"Aktenplan {tenant.name}",
            utcnow().date().isoformat(),
            _units(session, actor.tenant_id),
        )
        path, digest = _write(out_dir, head, messages.PLAN, xml)
        _record(session, actor, head, messages.PLAN, "out", file_name=path.name, sha256=digest)
    return path


@dataclass
class PlanImport:
    created: int
    updated: int
    reply: bytes = b""


def import_plan(
    session: Session, actor: User, data: bytes, name: str = "", *, confirm: str = ""
) -> PlanImport:
    """A 0301 into the tenant's plan, through the CSV import's checks (all or nothing)."""
    require(session, actor, Action.manage_fileplan)
    incoming = messages.read(_xml(data, name), name)
    if incoming.head.message_type != messages.PLAN:
        raise XdomeaRejected(
            f"{name or 'the message'} is a {incoming.head.message_type}, not a 0301"
        )
    schedules = list(
        session.scalars(
            select(RetentionSchedule).where(RetentionSchedule.tenant_id == actor.tenant_id)
        )
    )
    session.rollback()  # the import owns its transaction
    out = io.StringIO(newline="")
    writer = csv_writer(out)
    writer.writerow([*plan_service.CSV_COLUMNS, "schedule"])
    for unit in incoming.units:
        same = [
            s.name
            for s in schedules
            if (s.action, s.period_years) == (unit.action, unit.period_years)
        ]
        writer.writerow([unit.code, unit.title, unit.parent, same[0] if len(same) == 1 else ""])
    result = plan_service.import_csv(
        session, actor, out.getvalue().encode(), name or "xdomea 0301", confirm=confirm
    )
    reply = b""
    if incoming.wants_receipt:
        with transaction(session):
            head = _head(session, actor, incoming.head.author, incoming.head.process_id)
            reply = messages.receipt(messages.PLAN_RECEIVED, head, incoming.head.message_uuid)
            _record(
                session,
                actor,
                head,
                messages.PLAN_RECEIVED,
                "out",
                origin_uuid=incoming.head.message_uuid,
            )
    return PlanImport(result.created, result.updated, reply)


def _xml(data: bytes, name: str) -> bytes:
    if data[:4] == b"PK\x03\x04":
        from retention.xdomea.reader import unpack  # bounded: one XML, inflated as a stream

        return unpack(data, name)
    return data


@audited_refusals
def send_for_appraisal(session: Session, actor: User, out_dir: Path, *, archive: str) -> Path:
    """The plan as 0511 to the archive, each unit with its UUID for the catalogue to name."""
    require(session, actor, Action.dispose)
    with transaction(session):
        target = _archive(session, actor, archive)
        head = _head(session, actor, archive)
        tenant = session.get_one(Tenant, actor.tenant_id)
        units = _units(session, actor.tenant_id)
        xml = messages.for_appraisal(
            head, str(tenant.uuid), f"Aktenplan {tenant.name}", utcnow().date().isoformat(), units
        )
        path, digest = _write(out_dir, head, messages.FOR_APPRAISAL, xml)
        _record(
            session,
            actor,
            head,
            messages.FOR_APPRAISAL,
            "out",
            archive_id=target.id,
            file_name=path.name,
            sha256=digest,
        )
        audit.record(
            session,
            actor,
            "export",
            message=messages.FOR_APPRAISAL,
            tenant_id=actor.tenant_id,
            archive=archive,
            file=path.name,
        )
    return path


@dataclass
class CatalogueResult:
    message_type: str
    applied: dict[str, str]  # node code -> decision
    unknown: list[str]
    replies: list[tuple[str, bytes]]


@audited_refusals
def receive(session: Session, actor: User, data: bytes, *, name: str = "") -> CatalogueResult:
    """The archive's 0512 (receipt of the 0511) or 0513 (appraisal catalogue)."""
    require(session, actor, Action.dispose)
    incoming = messages.read(_xml(data, name), name)
    kind = incoming.head.message_type
    if kind not in (messages.FOR_APPRAISAL_RECEIVED, messages.CATALOGUE):
        raise XdomeaRejected(f"{name or 'the message'} is a {kind}, not a 0512 or 0513")
    with transaction(session):
        origin = session.scalar(
            select(XdomeaMessage).where(
                XdomeaMessage.tenant_id == actor.tenant_id,
                XdomeaMessage.uuid == incoming.head.origin_uuid,
                XdomeaMessage.message_type == messages.FOR_APPRAISAL,
                XdomeaMessage.direction == "out",
            )
        )
        if origin is None:
            raise XdomeaRejected(f"the {kind} answers {incoming.head.origin_uuid}, no 0511 of ours")
        if session.scalar(
            select(XdomeaMessage.id).where(XdomeaMessage.uuid == incoming.head.message_uuid)
        ):
            raise XdomeaRejected(f"message {incoming.head.message_uuid} was received before")
        result = CatalogueResult(kind, {}, [], [])
        if kind == messages.FOR_APPRAISAL_RECEIVED:
            origin.receipt_uuid = incoming.head.message_uuid
        else:
            results = []
            for unit_uuid, decision in incoming.decisions.items():
                node = _node_by_uuid(session, actor.tenant_id, unit_uuid)
                if node is None or decision not in DECISIONS:
                    result.unknown.append(unit_uuid)
                    why = "unbekannte Aktenplaneinheit" if node is None else f"Bewertung {decision}"
                    results.append(ObjectResult(unit_uuid, False, errors=[why]))
                    continue
                row = session.scalar(
                    select(NodeAppraisal).where(
                        NodeAppraisal.tenant_id == actor.tenant_id, NodeAppraisal.node_id == node.id
                    )
                )
                if row is None:
                    row = NodeAppraisal(tenant_id=actor.tenant_id, node_id=node.id)
                    session.add(row)
                row.decision, row.message_uuid, row.updated_at = (
                    decision,
                    incoming.head.message_uuid,
                    utcnow(),
                )
                result.applied[node.code] = decision
                results.append(ObjectResult(unit_uuid, True))
            head = _head(session, actor, incoming.head.author, incoming.head.process_id)
            result.replies.append(
                ("0514", messages.catalogue_imported(head, incoming.head.message_uuid, results))
            )
            _record(
                session,
                actor,
                head,
                messages.CATALOGUE_IMPORTED,
                "out",
                origin_uuid=incoming.head.message_uuid,
            )
            if incoming.wants_receipt:
                head = _head(session, actor, incoming.head.author, incoming.head.process_id)
                result.replies.append(
                    (
                        "0515",
                        messages.receipt(
                            messages.CATALOGUE_RECEIVED, head, incoming.head.message_uuid
                        ),
                    )
                )
                _record(
                    session,
                    actor,
                    head,
                    messages.CATALOGUE_RECEIVED,
                    "out",
                    origin_uuid=incoming.head.message_uuid,
                )
        _record(
            session,
            actor,
            incoming.head,
            kind,
            "in",
            origin_uuid=origin.uuid,
            file_name=name,
            outcome=json.dumps({"applied": result.applied, "unknown": result.unknown}),
        )
        audit.record(
            session,
            actor,
            "xdomea_receive",
            message=kind,
            tenant_id=actor.tenant_id,
            applied=result.applied,
            unknown=result.unknown,
        )
    return result


def _node_by_uuid(session: Session, tenant_id: int, value: str) -> FilePlanNode | None:
    try:
        ident = uuidlib.UUID(value)
    except ValueError:
        return None
    return session.scalar(
        select(FilePlanNode).where(FilePlanNode.tenant_id == tenant_id, FilePlanNode.uuid == ident)
    )


def proposed_appraisal(session: Session, tenant_id: int, node_id: int) -> str:
    """The catalogue's decision for the nearest unit up the plan from ``node_id``; ''."""
    for ancestor in plan_service.node_ancestry(session, node_id):
        decision = session.scalar(
            select(NodeAppraisal.decision).where(
                NodeAppraisal.tenant_id == tenant_id, NodeAppraisal.node_id == ancestor
            )
        )
        if decision:
            return decision
    return ""


def apply_to_request(session: Session, actor: User, request_ident: str | int) -> dict[str, str]:
    """The catalogue's proposals on the request's archive items not yet decided (file
    reference -> proposal); an officer's own choice is kept."""
    require(session, actor, Action.dispose)
    with transaction(session):
        request = find_request(session, actor, request_ident)
        applied = {}
        for item in request.items:
            if (
                item.action != ItemAction.archive
                or item.state not in (ItemState.pending, ItemState.offered)
                or item.appraisal
            ):
                continue
            proposal = proposed_appraisal(session, request.tenant_id, item.case.node_id)
            if proposal:
                item.appraisal, item.updated_at = proposal, utcnow()
                applied[item.case.file_reference] = proposal
        if applied:
            audit.record(session, actor, "appraisal_proposal", request, proposals=applied)
    return applied


@audited_refusals
def set_item_appraisal(
    session: Session, actor: User, request_ident: str | int, case_reference: str, decision: str
) -> DisposalItem:
    """A records officer's own proposal for one case before the archive decides."""
    require(session, actor, Action.dispose)
    if decision not in DECISIONS:
        raise BadInput(f"appraisal {decision!r}: A, B or V")
    with transaction(session):
        request = find_request(session, actor, request_ident)
        item = next((i for i in request.items if i.case.file_reference == case_reference), None)
        if item is None:
            raise Conflict(f"{case_reference} is not part of disposal request {request.uuid}")
        if item.state not in (ItemState.pending, ItemState.offered):
            raise Conflict(f"{case_reference} was appraised by the archive already ({item.state})")
        old = item.appraisal
        item.appraisal, item.updated_at = decision, utcnow()
        audit.record(
            session,
            actor,
            "appraisal_proposal",
            request,
            case=case_reference,
            old=old,
            new=decision,
        )
    return item
