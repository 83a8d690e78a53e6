"""Which legal holds cover an object (R12), for the services that must refuse under one.

A hold on a file-plan node covers every node beneath it and their cases; a hold on a case covers
its processes and documents; a hold on a process covers its documents. The services of eakte/
call ``ensure_not_held`` before content changes; ``retention/`` uses the same lookups before it
destroys or transfers anything. No role is exempt.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, false, or_, select
from sqlalchemy.orm import Session

from eakte.errors import LegalHoldActive, MoveUnderHold
from eakte.models import Case, Document, FilePlanNode, Process
from eakte.models.retention import Hold


def node_ancestry(session: Session, node_id: int | None) -> list[int]:
    """The node and its ancestors, nearest first."""
    found: list[int] = []
    while node_id is not None and node_id not in found:
        found.append(node_id)
        node_id = session.scalar(select(FilePlanNode.parent_id).where(FilePlanNode.id == node_id))
    return found


def node_subtree(session: Session, tenant_id: int, root_ids: set[int]) -> set[int]:
    """The nodes and every node beneath them."""
    children: dict[int | None, list[int]] = {}
    rows = session.execute(
        select(FilePlanNode.id, FilePlanNode.parent_id).where(FilePlanNode.tenant_id == tenant_id)
    )
    for node_id, parent_id in rows:
        children.setdefault(parent_id, []).append(node_id)
    found, stack = set(), list(root_ids)
    while stack:
        node = stack.pop()
        if node not in found:
            found.add(node)
            stack.extend(children.get(node, ()))
    return found


def _active() -> ColumnElement[bool]:
    return Hold.released_at.is_(None)


def holds_covering(session: Session, obj: Any) -> list[Hold]:
    """Active holds on ``obj`` or anything above it (case, process, document or node)."""
    process_id = case = None
    if isinstance(obj, Document):
        if obj.process_id is None:
            return []  # an inbox document belongs to no case yet
        process_id, case = obj.process_id, obj.process.case
    elif isinstance(obj, Process):
        process_id, case = obj.id, obj.case
    elif isinstance(obj, Case):
        case = obj
    elif isinstance(obj, FilePlanNode):
        return _node_holds(session, obj.id)
    else:
        return []
    targets = [Hold.case_id == case.id, Hold.node_id.in_(node_ancestry(session, case.node_id))]
    if process_id is not None:
        targets.append(Hold.process_id == process_id)
    return list(session.scalars(select(Hold).where(_active(), or_(*targets)).order_by(Hold.id)))


def _node_holds(session: Session, node_id: int) -> list[Hold]:
    ancestry = node_ancestry(session, node_id)
    return list(
        session.scalars(select(Hold).where(_active(), Hold.node_id.in_(ancestry)).order_by(Hold.id))
    )


def case_tree_holds(session: Session, case: Case) -> list[Hold]:
    """Holds that stop destroying or transferring the case as a whole: on the case, on any
    of its processes, or on a node above it."""
    processes = select(Process.id).where(Process.case_id == case.id)
    return list(
        session.scalars(
            select(Hold)
            .where(
                _active(),
                or_(
                    Hold.case_id == case.id,
                    Hold.process_id.in_(processes),
                    Hold.node_id.in_(node_ancestry(session, case.node_id)),
                ),
            )
            .order_by(Hold.id)
        )
    )


def ensure_not_held(session: Session, obj: Any) -> None:
    """Raise ``LegalHoldActive`` if an active hold covers ``obj``."""
    holds = holds_covering(session, obj)
    if holds:
        raise LegalHoldActive(_describe(obj, holds))


def ensure_movable(session: Session, obj: Any) -> None:
    """Raise ``MoveUnderHold`` if a hold covers ``obj`` where it is (a node, case or process).

    A move calls it twice: before (nothing leaves a hold's scope) and after the change, before
    the commit (nothing enters one). While a hold stands, its scope is what its authority
    ordered: neither what it protects nor, through S3 legal holds and the disposal list, what
    else it blocks changes under it.
    """
    holds = holds_covering(session, obj)
    if holds:
        raise MoveUnderHold(_describe(obj, holds))


def ensure_case_tree_not_held(session: Session, case: Case) -> None:
    holds = case_tree_holds(session, case)
    if holds:
        raise LegalHoldActive(_describe(case, holds))


def _describe(obj: Any, holds: list[Hold]) -> str:
    if isinstance(obj, FilePlanNode):
        name = f"file plan node {obj.code}"
    else:
        name = getattr(obj, "file_reference", None) or f"{type(obj).__name__} {obj.uuid}"
    listed = "; ".join(f"{h.uuid} ({h.authority}: {h.reason})" for h in holds)
    return f"{name} is under legal hold: {listed}"


def held_case_clause(session: Session, tenant_id: int) -> ColumnElement[bool]:
    """SQL condition "this case is under a hold" (on it, a process in it or a node above)."""
    held_nodes = set(
        session.scalars(
            select(Hold.node_id).where(
                _active(), Hold.tenant_id == tenant_id, Hold.node_id.is_not(None)
            )
        )
    )
    case_held = Case.id.in_(
        select(Hold.case_id).where(
            _active(), Hold.tenant_id == tenant_id, Hold.case_id.is_not(None)
        )
    )
    process_held = Case.id.in_(
        select(Process.case_id)
        .join(Hold, Hold.process_id == Process.id)
        .where(_active(), Hold.tenant_id == tenant_id)
    )
    node_held = (
        Case.node_id.in_(node_subtree(session, tenant_id, held_nodes)) if held_nodes else false()
    )
    return or_(case_held, process_held, node_held)
