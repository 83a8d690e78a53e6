"""Running an approved paper archive migration (issue 21): the cases brought in as they were.

Each case is one transaction (created, filed and closed at once); a run that stops is run
again and continues with the cases not yet in. The run is prepared and approved in
:mod:`eakte.services.migration`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from eakte import audit
from eakte.db import transaction
from eakte.errors import Conflict, EakteError, NotFound
from eakte.ingest.migration_manifest import CaseSpec, MigrationPlan
from eakte.models import Case, CaseStatus, Document, Process, RetentionSchedule, User
from eakte.models.base import utcnow
from eakte.models.migration import MigrationRun, MigrationStatus
from eakte.ports import retention_port
from eakte.services.guard import audited_refusals
from eakte.services.migration import source_key, username_of


def documents_of(session: Session, run: MigrationRun, files: Iterable[str]) -> dict[str, int]:
    """The documents the run's files became (by file), as far as they are in."""
    keys = {source_key(run, f): f for f in files}
    found: dict[str, int] = {}
    wanted = list(keys)
    for start_at in range(0, len(wanted), 500):
        for doc_id, key in session.execute(
            select(Document.id, Document.source_key).where(
                Document.tenant_id == run.tenant_id,
                Document.source_key.in_(wanted[start_at : start_at + 500]),
            )
        ):
            if key is not None:  # only documents with one of these keys are selected
                found[keys[key]] = doc_id
    return found


@dataclass
class RunReport:
    cases: int = 0  # brought in by this call
    already_in: int = 0
    case_ids: list[int] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (reference, why)
    done: bool = False


def run_cases(session: Session, actor: User, run: MigrationRun, plan: MigrationPlan) -> RunReport:
    """Bring in every case of the plan not yet in; the run is done when all are."""
    report = RunReport()
    existing = dict(
        session.execute(
            select(Case.file_reference, Case.id).where(Case.migration_run_id == run.id)
        ).all()
    )
    session.rollback()
    pending = [spec for ref, spec in plan.cases.items() if ref not in existing]
    report.already_in = len(plan.cases) - len(pending)
    report.case_ids.extend(existing.values())
    for start_at in range(0, len(pending), 200):
        chunk = pending[start_at : start_at + 200]
        documents = documents_of(session, run, (d.file for s in chunk for d in s.documents))
        for spec in chunk:
            try:
                case = migrate_case(session, actor, run, spec, documents)
            except EakteError as exc:
                report.failed.append((spec.reference, str(exc)))
                continue
            report.cases += 1
            report.case_ids.append(case.id)
    if not report.failed:
        with transaction(session):
            run = _current(session, run)
            run.status, run.finished_at = MigrationStatus.done.value, utcnow()
            audit.record(
                session,
                actor,
                "migration_done",
                run,
                cases=len(plan.cases),
                documents=len(plan.documents),
            )
        report.done = True
    return report


@audited_refusals
def migrate_case(
    session: Session,
    actor: User,
    run: MigrationRun,
    spec: CaseSpec,
    documents: dict[str, int],
) -> Case:
    """One case as it was: old reference, real dates, processes, its documents filed from the
    run's inbox, closed on its real closure date (R7 clock, R25 locks after the commit)."""
    with transaction(session):
        missing = [d.file for d in spec.documents if d.file not in documents]
        if missing:
            raise Conflict(f"not taken in (yet): {', '.join(missing[:5])}")
        run = _current(session, run)
        names: dict[str, Any] = {
            "prepared_by": username_of(session, run.prepared_by_id),
            "approved_by": username_of(session, run.decided_by_id),
            "run_by": actor.username,
        }
        opened = spec.opened or spec.closed
        case = Case(
            tenant_id=run.tenant_id,
            node_id=spec.node_id,
            org_unit_id=spec.org_unit_id,
            file_reference=spec.reference,
            title=spec.title,
            schedule_id=spec.schedule_id,
            created_by_id=actor.id,
            migration_run_id=run.id,
            migration_box=", ".join(spec.boxes)[:200],
        )
        if opened is not None:
            case.created_at = datetime(opened.year, opened.month, opened.day, tzinfo=UTC)
        if spec.schedule_override:
            case.schedule_override_reason = (
                f"paper archive migration {run.name}: the old file names {spec.schedule_override}"
            )
        session.add(case)
        session.flush()
        schedule = session.get(RetentionSchedule, spec.schedule_id)
        audit.record(
            session,
            actor,
            "create",
            case,
            file_reference=case.file_reference,
            migrated=run.name,
            box=case.migration_box,
            opened=opened.isoformat() if opened else None,
            schedule=schedule.name if schedule is not None else None,
            **names,
        )
        processes = {}
        for number, title in enumerate(spec.processes, start=1):
            processes[title] = Process(
                tenant_id=run.tenant_id, case=case, number=number, title=title[:500]
            )
            session.add(processes[title])
        session.flush()
        for doc_spec in spec.documents:
            document = session.get(Document, documents[doc_spec.file])
            if document is None:
                raise Conflict(f"{doc_spec.file} is no longer there")
            if document.process_id is not None or document.inbox_org_unit_id != run.org_unit_id:
                raise Conflict(f"{doc_spec.file} is no longer in the migration's inbox")
            document.process_id = processes[doc_spec.process].id
            document.inbox_org_unit_id = None
            document.index_dirty = True
            audit.record(session, actor, "file", document, case=case.file_reference, **names)
        if spec.closed is not None:
            case.status, case.closed_at = CaseStatus.closed.value, spec.closed
            for process in processes.values():
                process.status, process.closed_at = CaseStatus.closed.value, spec.closed
            retention_port(session).on_case_closed(session, case)
            audit.record(
                session, actor, "close", case, closed_at=spec.closed.isoformat(), migrated=run.name
            )
    return case


def _current(session: Session, run: MigrationRun) -> MigrationRun:
    """The run as the database has it now (in the caller's transaction)."""
    current = session.get(MigrationRun, run.id)
    if current is None:
        raise NotFound(f"migration {run.name} not found")
    return current
