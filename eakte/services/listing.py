"""Read-side lists for the UI and API: inbox, recent cases, cases under a node, the file plan
tree. Filtered in SQL by what the user may open (``permissions.visibility``), so counts and
pages never include anything else (R22)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, Select, and_, false, func, or_, select, true
from sqlalchemy.orm import Session

from eakte.models import Case, Document, FilePlanNode, OrgUnit, Process, ScanBatch, User
from eakte.models.ingest import QuarantinedFile
from eakte.permissions import Action, Visibility, require, unit_scope, visibility

PAGE_SIZE = 50


def case_filter(vis: Visibility) -> ColumnElement[bool]:
    if vis.nothing or vis.inbox_only:
        return false()
    clauses = [Case.tenant_id == vis.tenant_id, Case.disposal_state == ""]
    if vis.unit_ids is not None:
        clauses.append(Case.org_unit_id.in_(vis.unit_ids))
    if not vis.restricted:
        clauses.append(Case.restricted.is_(False))
    return and_(*clauses)


def inbox_filter(vis: Visibility) -> ColumnElement[bool]:
    """Documents not yet filed, in the inboxes the user reaches."""
    if vis.nothing:
        return false()
    clauses = [Document.tenant_id == vis.tenant_id, Document.process_id.is_(None)]
    if vis.unit_ids is not None:
        clauses.append(Document.inbox_org_unit_id.in_(vis.unit_ids))
    if not vis.restricted:
        clauses.append(Document.restricted.is_(False))
    return and_(*clauses)


@dataclass(frozen=True)
class Page:
    items: list
    total: int
    page: int
    page_size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


def paginate(session: Session, stmt: Select, page: int, page_size: int = PAGE_SIZE) -> Page:
    page = max(1, page)
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    items = list(session.scalars(stmt.limit(page_size).offset((page - 1) * page_size)))
    return Page(items, total or 0, page, page_size)


def inbox(session: Session, actor: User, page: int = 1) -> Page:
    vis = visibility(session, actor)
    stmt = (
        select(Document)
        .where(inbox_filter(vis), Document.status.not_in(("destroyed", "discarded")))
        .order_by(Document.created_at.desc(), Document.id.desc())
    )
    return paginate(session, stmt, page)


def recent_cases(session: Session, actor: User, limit: int = 10) -> list[Case]:
    vis = visibility(session, actor)
    stmt = select(Case).where(case_filter(vis)).order_by(Case.created_at.desc()).limit(limit)
    return list(session.scalars(stmt))


def cases_under(session: Session, actor: User, node: FilePlanNode, page: int = 1) -> Page:
    vis = visibility(session, actor)
    stmt = (
        select(Case)
        .where(case_filter(vis), Case.node_id == node.id)
        .order_by(Case.created_at.desc(), Case.id.desc())
    )
    return paginate(session, stmt, page)


def documents_of_process(session: Session, actor: User, process: Process) -> list[Document]:
    vis = visibility(session, actor)
    stmt = select(Document).where(Document.process_id == process.id)
    if not vis.restricted:
        stmt = stmt.where(Document.restricted.is_(False))
    return list(session.scalars(stmt.order_by(Document.received_date, Document.id)))


@dataclass
class TreeNode:
    node: FilePlanNode
    case_count: int
    children: list[TreeNode]


def fileplan_tree(session: Session, actor: User) -> list[TreeNode]:
    """The tenant's file plan with the number of cases the user may see under each node."""
    vis = visibility(session, actor)
    nodes = session.scalars(
        select(FilePlanNode)
        .where(FilePlanNode.tenant_id == actor.tenant_id)
        .order_by(FilePlanNode.code)
    ).all()
    counts = dict(
        session.execute(
            select(Case.node_id, func.count(Case.id)).where(case_filter(vis)).group_by(Case.node_id)
        ).all()
    )
    by_parent: dict[int | None, list[FilePlanNode]] = {}
    for node in nodes:
        by_parent.setdefault(node.parent_id, []).append(node)

    def build(parent_id: int | None) -> list[TreeNode]:
        return [TreeNode(n, counts.get(n.id, 0), build(n.id)) for n in by_parent.get(parent_id, [])]

    return build(None)


def find_cases_by_reference(session: Session, actor: User, text: str, limit: int = 20):
    """Cases whose file reference starts with ``text`` or whose title contains it (filing)."""
    vis = visibility(session, actor)
    text = text.strip()
    if not text:
        return []
    pattern = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    stmt = (
        select(Case)
        .where(
            case_filter(vis),
            Case.status == "open",
            or_(
                Case.file_reference.like(f"{pattern}%", escape="\\"),
                Case.title.ilike(f"%{pattern}%", escape="\\"),
            ),
        )
        .order_by(Case.file_reference)
        .limit(limit)
    )
    return list(session.scalars(stmt))


def inbox_units(session: Session, actor: User) -> list[OrgUnit]:
    """The org units whose inbox the user reaches (to upload into, to filter by)."""
    vis = visibility(session, actor)
    if vis.nothing:
        return []
    stmt = select(OrgUnit).where(OrgUnit.tenant_id == actor.tenant_id).order_by(OrgUnit.code)
    if vis.unit_ids is not None:
        stmt = stmt.where(OrgUnit.id.in_(vis.unit_ids))
    return list(session.scalars(stmt))


def uuids_for_hits(session: Session, actor: User, hits) -> dict[tuple[str, int], str]:
    """(kind, id) → UUID for search hits: pages link by UUID, never by sequential id."""
    wanted: dict[str, set[int]] = {"document": set(), "case": set()}
    for hit in hits:
        wanted.setdefault(hit.kind, set()).add(hit.id)
    found: dict[tuple[str, int], str] = {}
    for kind, model in (("document", Document), ("case", Case)):
        if wanted[kind]:
            rows = session.execute(
                select(model.id, model.uuid).where(
                    model.tenant_id == actor.tenant_id, model.id.in_(wanted[kind])
                )
            )
            found.update({(kind, row_id): str(uuid) for row_id, uuid in rows})
    return found


@dataclass(frozen=True)
class BatchRow:
    batch: ScanBatch
    counts: dict[str, int]
    quarantined: int

    @property
    def total(self) -> int:
        return sum(self.counts.values()) + self.quarantined

    @property
    def done(self) -> int:
        return self.counts.get("ready", 0) + self.counts.get("failed", 0) + self.quarantined


def scan_batches(session: Session, actor: User, limit: int = 50) -> list[BatchRow]:
    """The newest scan batches of the units the user reaches, their documents counted by
    status."""
    require(session, actor, Action.ingest)
    batches = session.scalars(
        select(ScanBatch)
        .where(
            ScanBatch.tenant_id == actor.tenant_id,
            unit_scope(visibility(session, actor), ScanBatch.org_unit_id),
        )
        .order_by(ScanBatch.id.desc())
        .limit(limit)
    ).all()
    ids = [b.id for b in batches]
    counts: dict[int | None, dict[str, int]] = {i: {} for i in ids}  # None never comes: in_(ids)
    for batch_id, status, n in session.execute(
        select(Document.scan_batch_id, Document.status, func.count(Document.id))
        .where(Document.scan_batch_id.in_(ids))
        .group_by(Document.scan_batch_id, Document.status)
    ):
        counts[batch_id][status] = n
    quarantined = dict(
        session.execute(
            select(QuarantinedFile.scan_batch_id, func.count(QuarantinedFile.id))
            .where(QuarantinedFile.scan_batch_id.in_(ids))
            .group_by(QuarantinedFile.scan_batch_id)
        ).all()
    )
    return [BatchRow(b, counts[b.id], quarantined.get(b.id, 0)) for b in batches]


def batch_documents(session: Session, actor: User, batch_id: int) -> list[Document]:
    """The documents of a batch that the user may open: in a reachable inbox, or filed into a
    case the user sees; restricted ones only for those who see restricted objects (R22)."""
    require(session, actor, Action.ingest)
    vis = visibility(session, actor)
    filed = and_(case_filter(vis), true() if vis.restricted else Document.restricted.is_(False))
    return list(
        session.scalars(
            select(Document)
            .outerjoin(Process, Process.id == Document.process_id)
            .outerjoin(Case, Case.id == Process.case_id)
            .where(Document.scan_batch_id == batch_id, or_(inbox_filter(vis), filed))
            .order_by(Document.id)
        )
    )
