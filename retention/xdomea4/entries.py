"""What leaves of a case in xdomea 4.0.0 (disposal and Abgabe): eAkte's records mapped to
``retention.xdomea4.model`` — metadata, dates, processes, documents with their versions and
files, and each object's history from the audit trail. Reads only."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from eakte.models import (
    AuditEvent,
    Case,
    Document,
    DocumentStatus,
    FilePlanNode,
    FileVersion,
    OrgUnit,
    Process,
    RetentionSchedule,
)
from retention.xdomea4.model import CaseObj, DocumentObj, FileObj, History, ProcessObj, VersionObj

HISTORY_LIMIT = 500  # audit events per object in a message; the rest stays in eAkte's trail


def history(session: Session, object_uuid: str) -> list[History]:
    events = session.scalars(
        select(AuditEvent)
        .where(AuditEvent.object_uuid == object_uuid, AuditEvent.outcome == "ok")
        .order_by(AuditEvent.id)
        .limit(HISTORY_LIMIT)
    )
    return [History(e.username or "eAkte", e.at, e.action) for e in events]


def _versions(files: list[FileVersion]) -> list[VersionObj]:
    """Each original opens a version; a rendition is a second format of the version before."""
    versions: list[VersionObj] = []
    for v in files:
        entry = FileObj(
            uuid=str(v.uuid),
            kind=v.kind,
            filename=v.filename,
            mime=v.mime,
            sha256=v.sha256,
            size=v.size,
            created_at=v.created_at,
            s3_key=v.s3_key,
            s3_version_id=v.s3_version_id,
        )
        if v.kind == "original" or not versions:
            versions.append(VersionObj(len(versions) + 1))
        versions[-1].files.append(entry)
    return versions


def case_obj(session: Session, case: Case, *, content: bool, with_history: bool = True) -> CaseObj:
    node = session.get_one(FilePlanNode, case.node_id)
    schedule = session.get_one(RetentionSchedule, case.schedule_id)
    unit = session.get(OrgUnit, case.org_unit_id) if case.org_unit_id else None
    entry = CaseObj(
        uuid=str(case.uuid),
        reference=case.file_reference,
        title=case.title,
        node_code=node.code,
        node_title=node.title,
        org_unit=f"{unit.code} {unit.name}" if unit else "",
        description=case.description,
        created=case.created_at.date(),
        closed=case.closed_at,
        retention_end=case.retention_end,
        period_years=schedule.period_years,
        action=schedule.action,
        history=history(session, str(case.uuid)) if with_history else [],
    )
    if not content:
        return entry
    for process in session.scalars(
        select(Process).where(Process.case_id == case.id).order_by(Process.number)
    ):
        item = ProcessObj(
            str(process.uuid),
            process.number,
            process.title,
            f"{case.file_reference}/{process.number}",
            process.closed_at,
            history=history(session, str(process.uuid)) if with_history else [],
        )
        documents = session.scalars(
            select(Document)
            .where(
                Document.process_id == process.id,
                Document.status != DocumentStatus.destroyed.value,
            )
            .order_by(Document.id)
        )
        for number, document in enumerate(documents, start=1):
            files = list(
                session.scalars(
                    select(FileVersion)
                    .where(FileVersion.document_id == document.id)
                    .order_by(FileVersion.id)
                )
            )
            item.documents.append(
                DocumentObj(
                    uuid=str(document.uuid),
                    number=number,
                    title=document.title,
                    received=document.received_date,
                    doc_type=document.doc_type,
                    correspondent=document.correspondent,
                    versions=_versions(files),
                    history=history(session, str(document.uuid)) if with_history else [],
                )
            )
        entry.processes.append(item)
    return entry
