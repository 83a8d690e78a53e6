"""R8: the disposal list — closed cases past their retention end, not yet disposed of.

Expiry deletes nothing: due cases are listed, filterable by file-plan node (with the nodes
beneath), org unit (with the units beneath) and closure year, and exportable as CSV. R14: the
past-due report lists due cases that are neither disposed of nor held. Both read through one
query on the ``ix_case_record_due`` index, so they stay fast at 100,000 cases.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TextIO

from sqlalchemy import Select, and_, func, not_, select
from sqlalchemy.orm import Session

from eakte import audit
from eakte.csv_export import csv_writer
from eakte.db import transaction
from eakte.errors import NotFound
from eakte.models import Case, CaseStatus, FilePlanNode, OrgUnit, RetentionSchedule, User
from eakte.models.base import utcnow
from eakte.permissions import Action, org_unit_subtree, require
from eakte.services.fileplan import node_subtree
from retention.holds import held_case_clause
from retention.models import DisposalItem, DisposalRequest, ItemState, RequestStatus

CSV_COLUMNS = (
    "file_reference",
    "title",
    "node",
    "org_unit",
    "closed",
    "retention_end",
    "schedule",
    "action",
    "held",
    "request",
    "uuid",
)


@dataclass(frozen=True)
class DueFilter:
    node: str | None = None  # file-plan code; the nodes beneath count too
    org_unit: str | None = None  # org unit code; the units beneath count too
    closure_year: int | None = None
    on: date | None = None  # due on this day (default: today)


@dataclass(frozen=True)
class DueRow:
    case_id: int
    uuid: str
    file_reference: str
    title: str
    node: str
    org_unit: str
    closed: date | None
    retention_end: date
    schedule: str
    action: str
    held: bool
    request: str  # UUID of an open disposal request holding the case, or ""

    def csv_row(self) -> list[str]:
        return [
            self.file_reference,
            self.title,
            self.node,
            self.org_unit,
            self.closed.isoformat() if self.closed else "",
            self.retention_end.isoformat(),
            self.schedule,
            self.action,
            "yes" if self.held else "no",
            self.request,
            self.uuid,
        ]


@dataclass
class DuePage:
    total: int
    rows: list[DueRow]


def _conditions(session: Session, tenant_id: int, flt: DueFilter) -> list:
    on = flt.on or utcnow().date()
    conditions = [
        Case.tenant_id == tenant_id,
        Case.disposal_state == "",
        Case.status == CaseStatus.closed.value,
        Case.retention_end.is_not(None),
        Case.retention_end <= on,
    ]
    if flt.node:
        node_id = session.scalar(
            select(FilePlanNode.id).where(
                FilePlanNode.tenant_id == tenant_id, FilePlanNode.code == flt.node
            )
        )
        if node_id is None:
            raise NotFound(f"file plan node {flt.node!r} not found")
        conditions.append(Case.node_id.in_(node_subtree(session, tenant_id, {node_id})))
    if flt.org_unit:
        unit_id = session.scalar(
            select(OrgUnit.id).where(OrgUnit.tenant_id == tenant_id, OrgUnit.code == flt.org_unit)
        )
        if unit_id is None:
            raise NotFound(f"org unit {flt.org_unit!r} not found")
        conditions.append(Case.org_unit_id.in_(org_unit_subtree(session, unit_id)))
    if flt.closure_year:
        year = flt.closure_year
        conditions.append(Case.closed_at.between(date(year, 1, 1), date(year, 12, 31)))
    return conditions


def _open_request():
    return (
        select(DisposalRequest.uuid)
        .join(DisposalItem, DisposalItem.request_id == DisposalRequest.id)
        .where(
            DisposalItem.case_id == Case.id,
            DisposalRequest.status.in_(
                [RequestStatus.proposed.value, RequestStatus.approved.value]
            ),
            DisposalItem.state != ItemState.done.value,
        )
        .limit(1)
        .scalar_subquery()
    )


def _rows_query(session: Session, actor: User, conditions: list) -> Select:
    held = held_case_clause(session, actor.tenant_id)
    return (
        select(
            Case.id,
            Case.uuid,
            Case.file_reference,
            Case.title,
            FilePlanNode.code,
            OrgUnit.code,
            Case.closed_at,
            Case.retention_end,
            RetentionSchedule.name,
            RetentionSchedule.action,
            held.label("held"),
            _open_request().label("request"),
        )
        .join(FilePlanNode, FilePlanNode.id == Case.node_id)
        .join(RetentionSchedule, RetentionSchedule.id == Case.schedule_id)
        .outerjoin(OrgUnit, OrgUnit.id == Case.org_unit_id)
        .where(and_(*conditions))
        .order_by(Case.retention_end, Case.file_reference)
    )


def _row(values) -> DueRow:
    (case_id, uuid, reference, title, node, unit, closed, end, schedule, action, held, req) = values
    return DueRow(
        case_id,
        str(uuid),
        reference,
        title,
        node,
        unit or "",
        closed,
        end,
        schedule,
        action,
        bool(held),
        str(req) if req else "",
    )


def list_due(
    session: Session, actor: User, flt: DueFilter = DueFilter(), *, limit=100, offset=0
) -> DuePage:
    """One page of the disposal list and the number of due cases in all."""
    require(session, actor, Action.dispose)
    conditions = _conditions(session, actor.tenant_id, flt)
    total = session.scalar(select(func.count(Case.id)).where(and_(*conditions))) or 0
    query = _rows_query(session, actor, conditions).limit(limit).offset(offset)
    return DuePage(total, [_row(values) for values in session.execute(query)])


def iter_due(
    session: Session, actor: User, flt: DueFilter = DueFilter(), *, held: bool | None = None
) -> Iterator[DueRow]:
    """Every due case, streamed (``held``: only held / only not held cases)."""
    require(session, actor, Action.dispose)
    conditions = _conditions(session, actor.tenant_id, flt)
    if held is not None:
        clause = held_case_clause(session, actor.tenant_id)
        conditions.append(clause if held else not_(clause))
    query = _rows_query(session, actor, conditions).execution_options(yield_per=2000)
    for values in session.execute(query):
        yield _row(values)


def export_csv(session: Session, actor: User, out: TextIO, flt: DueFilter = DueFilter()) -> int:
    """The disposal list as CSV (UTF-8, ``;``); the export is logged (R20)."""
    writer = csv_writer(out)
    writer.writerow(CSV_COLUMNS)
    count = 0
    for row in iter_due(session, actor, flt):
        writer.writerow(row.csv_row())
        count += 1
    with transaction(session):
        audit.record(
            session,
            actor,
            "export",
            tenant_id=actor.tenant_id,
            what="disposal list",
            rows=count,
            node=flt.node,
            org_unit=flt.org_unit,
            closure_year=flt.closure_year,
        )
    return count


def due_counts(session: Session, tenant_id: int, on: date | None = None) -> tuple[int, int]:
    """(due, of them held) for the nightly log; no actor: the job runs as the system."""
    conditions = _conditions(session, tenant_id, DueFilter(on=on))
    total = session.scalar(select(func.count(Case.id)).where(and_(*conditions))) or 0
    held_clause = held_case_clause(session, tenant_id)
    held = session.scalar(select(func.count(Case.id)).where(and_(*conditions), held_clause)) or 0
    return total, held


@dataclass(frozen=True)
class PastDueRow:
    row: DueRow
    days_overdue: int


def past_due(
    session: Session, actor: User, *, on: date | None = None, grace_days: int = 0
) -> list[PastDueRow]:
    """R14: due for more than ``grace_days``, neither disposed of nor held — retention is also
    a maximum (DSGVO storage limitation). Oldest first; cases already in a disposal request
    are listed with that request."""
    today = on or utcnow().date()
    cutoff = today - timedelta(days=grace_days)
    return [
        PastDueRow(row, (today - row.retention_end).days)
        for row in iter_due(session, actor, DueFilter(on=cutoff), held=False)
    ]
