"""Paper archive migration (Altaktenübernahme, issue 21): old files brought in as they were.

Scanning staff prepare a migration manifest (``eakte.ingest.migration_manifest``) for the org
units they scan for; a records officer, another person, approves it; scanning staff run it.
Running acts under that approval: it creates the cases with their old references (R2: the
case row keeps the reference taken forever), real dates and closure (R7: retention runs from
the real closure; R25: the closed cases' objects are marked for their locks), files the
documents the run took into its org unit's inbox, and says in the audit trail who prepared,
approved and ran it. Scanners get no ``manage_schedules``: only an approved manifest lets
their run set these dates, and only the ones it names.

Running the approved cases is in :mod:`eakte.services.migration_run`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from eakte import audit
from eakte.config import Settings
from eakte.db import transaction
from eakte.errors import (
    BadInput,
    Conflict,
    MigrationFourEyes,
    MigrationNeedsApproval,
    NotFound,
)
from eakte.ingest.migration_manifest import DocumentSpec, MigrationPlan, read_migration
from eakte.ingest.reasons import Rejected
from eakte.models import Case, Document, OrgUnit, User
from eakte.models.base import utcnow
from eakte.models.migration import MigrationRun, MigrationStatus
from eakte.permissions import Action, can, require
from eakte.services import scanning
from eakte.services.fileplan import decode_csv
from eakte.services.guard import audited_refusals, load
from eakte.services.intake import (
    DocumentMetadata,
    Enqueue,
    IncomingFile,
    IntakeResult,
    Target,
    intake,
)
from storage.blobstore import BlobStore

NAME_LIMIT = 40  # a box's batch is named "<run> / <box>" (at most 200 characters)


def source_key(run: MigrationRun, file: str) -> str:
    """What identifies a file of a run across attempts: intake finds it instead of adding it
    twice, and the run finds the document it became."""
    return f"migration:{run.uuid}:{file}"


def may_scan_for(session: Session, user: User, org_unit_id: int) -> bool:
    """Whether ``user`` takes scans into that org unit's inbox (the units they scan for)."""
    probe = Document(tenant_id=user.tenant_id, inbox_org_unit_id=org_unit_id, process_id=None)
    return can(session, user, Action.ingest, probe)


@audited_refusals
def prepare(
    session: Session,
    actor: User,
    name: str,
    manifest: bytes,
    plan_map: bytes = b"",
    *,
    org_unit: str | None = None,
    files: set[str] | None = None,
    device: str = "",
    dpi: int | None = None,
    colour_mode: str = "",
) -> MigrationRun:
    """Check the manifest whole (and the files, when given) and keep it for approval."""
    name = name.strip()
    if not name or len(name) > NAME_LIMIT:
        raise BadInput(f"a migration needs a name of at most {NAME_LIMIT} characters")
    with transaction(session):
        require(session, actor, Action.migrate)
        unit = _unit(session, actor, org_unit)
        if session.scalar(
            select(MigrationRun.id).where(
                MigrationRun.tenant_id == actor.tenant_id, MigrationRun.name == name
            )
        ):
            raise Conflict(f"a migration named {name!r} exists")
        plan = read_migration(
            session,
            actor.tenant_id,
            manifest,
            plan_map,
            default_unit_id=unit.id,
            may_scan_for=lambda unit_id: may_scan_for(session, actor, unit_id),
            files=files,
        )
        run = MigrationRun(
            tenant_id=actor.tenant_id,
            name=name,
            org_unit_id=unit.id,
            manifest=decode_csv(manifest),
            plan_map=decode_csv(plan_map) if plan_map.strip() else "",
            sha256=hashlib.sha256(manifest + b"\0" + plan_map).hexdigest(),
            device=device[:200],
            dpi=dpi,
            colour_mode=colour_mode,
            case_count=len(plan.cases),
            document_count=len(plan.documents),
            prepared_by_id=actor.id,
        )
        session.add(run)
        session.flush()
        audit.record(
            session,
            actor,
            "migration_prepare",
            run,
            name=name,
            org_unit=unit.code,
            sha256=run.sha256,
            cases=run.case_count,
            documents=run.document_count,
        )
    return run


@audited_refusals
def decide(
    session: Session, actor: User, ident: int | str, approve: bool, note: str = ""
) -> MigrationRun:
    """A records officer approves (or rejects) a prepared migration; never its preparer.

    Approving checks the manifest again against the file plan as it is now."""
    if not approve and not note.strip():
        raise BadInput("rejecting a migration needs a reason")
    with transaction(session):
        run = find_run(session, actor, ident)
        require(session, actor, Action.manage_schedules)
        if run.status != MigrationStatus.prepared:
            raise Conflict(f"migration {run.name} is {run.status}, not prepared")
        if run.prepared_by_id == actor.id:
            raise MigrationFourEyes(f"{actor.username} prepared migration {run.name}")
        if approve:
            preparer = session.get(User, run.prepared_by_id)
            if preparer is None:
                raise NotFound(f"the preparer of migration {run.name} is gone")
            plan_of(session, preparer, run)
        run.status = (MigrationStatus.approved if approve else MigrationStatus.rejected).value
        run.decided_by_id, run.decided_at, run.decision_note = actor.id, utcnow(), note
        audit.record(
            session,
            actor,
            "migration_approve" if approve else "migration_reject",
            run,
            sha256=run.sha256,
            prepared_by=username_of(session, run.prepared_by_id),
            note=note,
        )
    return run


def find_run(session: Session, actor: User, ident: int | str) -> MigrationRun:
    """A migration by name, UUID or id."""
    if isinstance(ident, str):
        run = session.scalar(
            select(MigrationRun).where(
                MigrationRun.tenant_id == actor.tenant_id, MigrationRun.name == ident
            )
        )
        if run is not None:
            return run
    return load(session, actor, MigrationRun, ident)


def get_run(session: Session, actor: User, ident: int | str) -> MigrationRun:
    """A migration, for scanning staff and records officers."""
    _require_may_see(session, actor)
    return find_run(session, actor, ident)


def list_runs(session: Session, actor: User) -> list[MigrationRun]:
    """For scanning staff and records officers: every migration of the tenant, newest first."""
    _require_may_see(session, actor)
    return list(
        session.scalars(
            select(MigrationRun)
            .where(MigrationRun.tenant_id == actor.tenant_id)
            .order_by(MigrationRun.id.desc())
        )
    )


@dataclass(frozen=True)
class MigratedCase:
    """A case a run brought in, as the run's page lists it."""

    uuid: object
    file_reference: str
    title: str  # empty where the actor may not open the case
    box: str
    created_at: datetime
    closed_at: object
    retention_end: object
    may_open: bool


def cases_of(session: Session, actor: User, run: MigrationRun) -> list[MigratedCase]:
    """The cases a run brought in, for whoever may see the run (scanning staff and records
    officers). Reference, title, box and dates are the manifest's, which they saw; a case
    restricted since (R24) shows no title to who may not see restricted records, and only a
    case the viewer may open is linked (R22)."""
    _require_may_see(session, actor)
    cases = session.scalars(
        select(Case)
        .where(Case.migration_run_id == run.id, Case.tenant_id == actor.tenant_id)
        .order_by(Case.file_reference)
    )
    lines = []
    for case in cases:
        may_open = can(session, actor, Action.view, case)
        lines.append(
            MigratedCase(
                uuid=case.uuid,
                file_reference=case.file_reference,
                title=case.title if may_open or not case.restricted else "",
                box=case.migration_box,
                created_at=case.created_at,
                closed_at=case.closed_at,
                retention_end=case.retention_end,
                may_open=may_open,
            )
        )
    return lines


@audited_refusals
def start(
    session: Session, actor: User, ident: int | str, files: set[str] | None = None
) -> tuple[MigrationRun, MigrationPlan]:
    """Begin (or resume) an approved run: who runs it may scan for its units, and its approver
    is still a records officer. Returns the run and its plan, checked again (with ``files``:
    the files at hand)."""
    with transaction(session):
        run = find_run(session, actor, ident)
        require(session, actor, Action.migrate)
        if run.status == MigrationStatus.done:
            raise Conflict(f"migration {run.name} is done")
        if run.status != MigrationStatus.approved:
            raise MigrationNeedsApproval(f"migration {run.name} is {run.status}, not approved")
        approver = session.get(User, run.decided_by_id)
        if approver is None or not can(session, approver, Action.manage_schedules):
            raise MigrationNeedsApproval(f"the approver of {run.name} is no records officer now")
        plan = plan_of(session, actor, run, files)
        if run.run_by_id is None:
            run.run_by_id, run.started_at = actor.id, utcnow()
        audit.record(session, actor, "migration_start", run, approved_by=approver.username)
    return run, plan


def open_box_batches(
    session: Session, actor: User, run: MigrationRun, plan: MigrationPlan
) -> dict[str, int]:
    """TR-RESISCAN (R15, R16): each box or shelf is a scan batch with its transfer note."""
    prepared = username_of(session, run.prepared_by_id)
    batches = {}
    for box in plan.boxes.values():
        note = (
            f"paper archive migration {run.name}, box/shelf {box.name}: {box.files} file(s) "
            f"listed in the manifest (sha256 {run.sha256}); prepared by {prepared}, "
            f"taken in by {actor.username}"
        )
        batch = scanning.open_batch(
            session,
            actor,
            f"{run.name} / {box.name}",
            device=box.device or run.device,
            dpi=box.dpi or run.dpi,
            colour_mode=box.colour_mode or run.colour_mode,
            transfer_note=note,
        )
        batches[box.name] = batch.id
    return batches


def intake_file(
    session: Session,
    actor: User,
    store: BlobStore,
    run: MigrationRun,
    spec: DocumentSpec,
    data: Path | BinaryIO,
    *,
    batch_id: int,
    settings: Settings,
    enqueue: Enqueue | None,
    problem: Rejected | None = None,
) -> IntakeResult:
    """One scan of the run into its org unit's inbox, in its box's batch, under the run's
    source key: taken in once however often the run is repeated; the run files it later."""
    return intake(
        session,
        actor,
        store,
        IncomingFile(
            data,
            spec.file.rsplit("/", 1)[-1],
            metadata=DocumentMetadata(
                title=spec.title,
                doc_type=spec.doc_type,
                correspondent=spec.sender,
                received_date=spec.received,
            ),
            target=Target(org_unit=run.org_unit_id),
            method="migration",
            source=f"migration {run.name}: {spec.file}",
            source_key=source_key(run, spec.file),
            scan_batch_id=batch_id,
            problem=problem,
        ),
        settings=settings,
        enqueue=enqueue,
    )


def plan_of(
    session: Session, user: User, run: MigrationRun, files: set[str] | None = None
) -> MigrationPlan:
    """The run's manifest, checked again as ``user`` (their units, the plan as it is now)."""
    return read_migration(
        session,
        run.tenant_id,
        run.manifest.encode(),
        run.plan_map.encode(),
        default_unit_id=run.org_unit_id,
        may_scan_for=lambda unit_id: may_scan_for(session, user, unit_id),
        files=files,
        run_id=run.id,
    )


def _require_may_see(session: Session, actor: User) -> None:
    if not can(session, actor, Action.manage_schedules):
        require(session, actor, Action.migrate)


def _unit(session: Session, actor: User, code: str | None) -> OrgUnit:
    query = select(OrgUnit).where(OrgUnit.tenant_id == actor.tenant_id)
    if code:
        unit = session.scalar(query.where(OrgUnit.code == code))
    else:
        unit = session.get(OrgUnit, actor.org_unit_id) if actor.org_unit_id else None
    if unit is None:
        raise NotFound(f"org unit {code!r} not found" if code else "name the org unit")
    if not may_scan_for(session, actor, unit.id):
        raise NotFound(f"org unit {unit.code!r} not found for {actor.username}")
    return unit


def username_of(session: Session, user_id: int | None) -> str:
    """The user's name, or "" for none."""
    user = session.get(User, user_id) if user_id else None
    return user.username if user else ""
