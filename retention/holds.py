"""R12: legal holds on a case, a process or a file-plan node.

Which holds cover an object: a hold on a file-plan node covers every node beneath it and their
cases; a hold on a case covers its processes and documents; a hold on a process covers its
documents. The core's services refuse content changes and moves beneath one through the
retention port (``retention.port``); destruction and transfer use the same lookups. No role is
exempt.

A hold is recorded (reason, authority, who, when) and takes effect in the database at once:
from its commit on, content changes, destruction and transfer beneath it are refused for every
role. After the commit every object version beneath it gets an S3 legal hold, so that even a
destruction already running cannot remove what is not yet gone; releasing the last hold over an
object clears it again. The S3 step is idempotent: a failure leaves the hold ``s3_pending`` and
the periodic retention job completes it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, false, or_, select
from sqlalchemy.orm import Session

from eakte import audit
from eakte.db import transaction
from eakte.errors import BadInput, Conflict, LegalHoldActive, MoveUnderHold
from eakte.models import Case, Document, DocumentStatus, FilePlanNode, FileVersion, Process, User
from eakte.models.base import utcnow
from eakte.permissions import Action, require
from eakte.services.cases import find_case, find_node
from eakte.services.fileplan import node_ancestry, node_subtree
from eakte.services.guard import audited_refusals, load
from retention.locks import ensure_floor
from retention.models import Hold, HoldTarget
from retention.objects import case_document_ids, key_versions
from storage.blobstore import BlobStore
from storage.errors import ObjectNotFound, StorageError


@dataclass
class HoldSyncReport:
    holds: int = 0
    versions_changed: int = 0
    failed: list[str] = field(default_factory=list)


def _target(session: Session, actor: User, target_type: str, ident: str | int):
    if target_type == HoldTarget.case:
        return find_case(session, actor, ident)
    if target_type == HoldTarget.process:
        return load(session, actor, Process, ident)
    if target_type == HoldTarget.node:
        return find_node(session, actor, ident)
    raise BadInput(f"a hold is placed on a case, process or node, not {target_type!r}")


@audited_refusals
def place_hold(
    session: Session,
    actor: User,
    target_type: str,
    target: str | int,
    *,
    reason: str,
    authority: str,
    store: BlobStore | None = None,
) -> Hold:
    """Place a hold; with ``store`` the S3 legal holds are set right after the commit."""
    reason, authority = reason.strip(), authority.strip()
    if not reason or not authority:
        raise BadInput("a legal hold needs a reason and the authority that ordered it")
    with transaction(session):
        obj = _target(session, actor, target_type, target)
        require(session, actor, Action.place_hold, obj)
        hold = Hold(
            tenant_id=actor.tenant_id,
            target_type=target_type,
            case_id=obj.id if target_type == HoldTarget.case else None,
            process_id=obj.id if target_type == HoldTarget.process else None,
            node_id=obj.id if target_type == HoldTarget.node else None,
            reason=reason,
            authority=authority,
            placed_by_id=actor.id,
            placed_at=utcnow(),
            s3_pending=True,
        )
        session.add(hold)
        session.flush()
        audit.record(
            session,
            actor,
            "hold",
            obj,
            hold=str(hold.uuid),
            reason=reason,
            authority=authority,
        )
    if store is not None:
        sync_holds(session, store, hold_ids=[hold.id])
    return hold


@audited_refusals
def release_hold(
    session: Session,
    actor: User,
    hold_ident: str | int,
    *,
    reason: str,
    store: BlobStore | None = None,
) -> Hold:
    """Release one hold (logged); S3 legal holds go only where no other hold remains."""
    if not reason.strip():
        raise BadInput("releasing a legal hold needs a reason")
    with transaction(session):
        hold = load(session, actor, Hold, hold_ident)
        target = _hold_target(session, hold)
        require(session, actor, Action.place_hold, target)
        if not hold.active:
            raise Conflict(f"hold {hold.uuid} was already released")
        hold.released_at, hold.released_by_id = utcnow(), actor.id
        hold.release_reason = reason.strip()
        hold.s3_pending = True
        audit.record(session, actor, "hold_release", target, hold=str(hold.uuid), reason=reason)
    if store is not None:
        sync_holds(session, store, hold_ids=[hold.id])
    return hold


def list_holds(session: Session, actor: User, *, include_released: bool = False) -> list[Hold]:
    require(session, actor, Action.place_hold)
    query = select(Hold).where(Hold.tenant_id == actor.tenant_id).order_by(Hold.id)
    if not include_released:
        query = query.where(Hold.released_at.is_(None))
    return list(session.scalars(query))


def _hold_target(session: Session, hold: Hold):
    if hold.case_id is not None:
        return session.get_one(Case, hold.case_id)
    if hold.process_id is not None:
        return session.get_one(Process, hold.process_id)
    return session.get_one(FilePlanNode, hold.node_id)


def describe_target(session: Session, hold: Hold) -> str:
    target = _hold_target(session, hold)
    if hold.target_type == HoldTarget.case:
        return f"case {target.file_reference}"
    if hold.target_type == HoldTarget.process:
        return f"process {target.case.file_reference}/{target.number}"
    return f"node {target.code}"


def hold_scope_case_ids(session: Session, hold: Hold) -> list[int]:
    """The cases beneath a hold (a process hold: the case holding the process)."""
    if hold.case_id is not None:
        return [hold.case_id]
    if hold.process_id is not None:
        return [session.get_one(Process, hold.process_id).case_id]
    if hold.node_id is None:
        return []  # not reached: a hold names a case, a process or a node
    nodes = node_subtree(session, hold.tenant_id, {hold.node_id})
    return list(session.scalars(select(Case.id).where(Case.node_id.in_(nodes)).order_by(Case.id)))


def desired_key_holds(session: Session, case_ids: list[int]) -> dict[str, bool]:
    """For every S3 key of the documents of these cases: must it carry a legal hold?

    A key is held if any live document using it is under an active hold (documents may
    share bytes, and holds may overlap: the last one released clears it).
    """
    wanted: dict[str, bool] = {}
    for case_id in case_ids:
        for document_id in case_document_ids(session, case_id):
            keys = session.scalars(
                select(FileVersion.s3_key).where(FileVersion.document_id == document_id)
            )
            for key in keys:
                if key not in wanted:
                    wanted[key] = _key_held(session, key)
    return wanted


def _key_held(session: Session, key: str) -> bool:
    documents = session.scalars(
        select(Document)
        .join(FileVersion, FileVersion.document_id == Document.id)
        .where(FileVersion.s3_key == key, Document.status != DocumentStatus.destroyed.value)
    )
    return any(holds_covering(session, document) for document in documents)


def apply_key_holds(store: BlobStore, wanted: dict[str, bool]) -> int:
    """Set or clear the S3 legal holds; a held version also gets at least the floor, so that
    releasing the hold (by eAkte, or by anyone with its key) leaves it locked for a while."""
    changed = 0
    for key, held in wanted.items():
        for info in key_versions(store, key):
            try:
                if held:
                    ensure_floor(store, key, info.version_id)
                if store.get_legal_hold(key, info.version_id) != held:
                    store.set_legal_hold(key, info.version_id, held)
                    changed += 1
            except ObjectNotFound:
                continue  # destroyed meanwhile: nothing left to hold
    return changed


def sync_holds(
    session: Session, store: BlobStore, *, hold_ids: list[int] | None = None
) -> HoldSyncReport:
    """Bring the S3 legal holds beneath pending holds (or the given ones) in line."""
    query = select(Hold.id).order_by(Hold.id)
    query = query.where(Hold.id.in_(hold_ids)) if hold_ids else query.where(Hold.s3_pending)
    report = HoldSyncReport()
    for hold_id in list(session.scalars(query)):
        hold = session.get_one(Hold, hold_id)
        wanted = desired_key_holds(session, hold_scope_case_ids(session, hold))
        session.rollback()  # no transaction stays open while S3 is called
        try:
            report.versions_changed += apply_key_holds(store, wanted)
        except StorageError as exc:
            report.failed.append(f"hold {hold.uuid}: {exc}")
            continue
        with transaction(session):
            session.get_one(Hold, hold_id).s3_pending = False
        report.holds += 1
    return report


def mark_all_for_sync(session: Session) -> int:
    """Nightly: re-check every active hold (renditions may have arrived beneath one since)."""
    with transaction(session):
        holds = list(session.scalars(select(Hold).where(Hold.released_at.is_(None))))
        for hold in holds:
            hold.s3_pending = True
    return len(holds)


# Which holds cover an object (the lookups the port and the workflows share).


def _active() -> ColumnElement[bool]:
    return Hold.released_at.is_(None)


def holds_covering(session: Session, obj: Any) -> list[Hold]:
    """Active holds on ``obj`` or anything above it (case, process, document or node)."""
    process_id = case = None
    if isinstance(obj, Document):
        if obj.process_id is None or obj.process is None:
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
    held_nodes = {
        node_id
        for node_id in session.scalars(
            select(Hold.node_id).where(
                _active(), Hold.tenant_id == tenant_id, Hold.node_id.is_not(None)
            )
        )
        if node_id is not None
    }
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
