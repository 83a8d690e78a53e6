"""What the archive gets of a case (R13, R16): eAkte's records mapped to the xdomea model —
the message header, the case's metadata and, for a transfer, its processes, documents, files
and each scanned document's TR-RESISCAN transfer note. Reads only; ``retention.transfer`` runs
the exchange.
"""

from __future__ import annotations

from importlib import metadata

from sqlalchemy import select
from sqlalchemy.orm import Session

from eakte.models import (
    Case,
    Document,
    DocumentStatus,
    FilePlanNode,
    FileVersion,
    OrgUnit,
    Process,
    RetentionSchedule,
    ScanBatch,
    Tenant,
    User,
)
from eakte.models.base import utcnow
from retention.models import DisposalRequest
from retention.xdomea import geschaeftsgang
from retention.xdomea.model import CaseEntry, DocumentEntry, FileEntry, Header, ProcessEntry


def header_for(session: Session, actor: User, request: DisposalRequest, archive: str) -> Header:
    tenant = session.get_one(Tenant, request.tenant_id)
    unit = session.get(OrgUnit, actor.org_unit_id) if actor.org_unit_id else None
    return Header(
        process_id=request.xdomea_process_id,
        created_at=utcnow(),
        sender=tenant.name,
        sender_unit=unit.name if unit else "",
        recipient=archive,
        product_version=_product_version(),
    )


def _product_version() -> str:
    try:
        return metadata.version("eakte")
    except metadata.PackageNotFoundError:
        return ""


def case_entry(session: Session, case: Case, *, with_content: bool) -> CaseEntry:
    node = session.get_one(FilePlanNode, case.node_id)
    schedule = session.get_one(RetentionSchedule, case.schedule_id)
    unit = session.get(OrgUnit, case.org_unit_id) if case.org_unit_id else None
    entry = CaseEntry(
        uuid=str(case.uuid),
        file_reference=case.file_reference,
        title=case.title,
        node_code=node.code,
        node_title=node.title,
        org_unit=f"{unit.code} {unit.name}" if unit else "",
        created=case.created_at.date(),
        closed=case.closed_at,
        retention_end=case.retention_end,
        period_years=schedule.period_years,
        action=schedule.action,
    )
    if not with_content:
        return entry
    for process in session.scalars(
        select(Process).where(Process.case_id == case.id).order_by(Process.number)
    ):
        process_entry = ProcessEntry(
            str(process.uuid), process.number, process.title, process.closed_at
        )
        process_entry.geschaeftsgang = geschaeftsgang.steps_for(session, process_id=process.id)
        documents = session.scalars(
            select(Document)
            .where(
                Document.process_id == process.id,
                Document.status != DocumentStatus.destroyed.value,
            )
            .order_by(Document.id)
        )
        for number, document in enumerate(documents, start=1):
            files = [
                FileEntry(
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
                for v in session.scalars(
                    select(FileVersion)
                    .where(FileVersion.document_id == document.id)
                    .order_by(FileVersion.id)
                )
            ]
            process_entry.documents.append(
                DocumentEntry(
                    str(document.uuid),
                    number,
                    document.title,
                    document.received_date,
                    document.doc_type,
                    files,
                    transfer_note(session, document),
                    geschaeftsgang.steps_for(session, document_id=document.id),
                )
            )
        entry.processes.append(process_entry)
    return entry


def transfer_note(session: Session, document: Document) -> list[tuple[str, str]]:
    """TR-RESISCAN: the scan batch a document came in with, as the archive reads it."""
    batch = session.get(ScanBatch, document.scan_batch_id) if document.scan_batch_id else None
    if batch is None:
        return []
    checker = session.get(User, batch.qc_by_id) if batch.qc_by_id else None
    values = [
        ("Scanstapel", batch.name),
        ("Scanoperator", batch.operator),
        ("Scangerät", batch.device),
        ("Auflösung (dpi)", str(batch.dpi or "")),
        ("Farbmodus", batch.colour_mode),
        ("Scandatum", batch.scanned_at.date().isoformat() if batch.scanned_at else ""),
        ("Seiten des Dokuments", str(document.page_count or "")),
        ("Seiten des Stapels", str(batch.page_count)),
        ("Qualitätskontrolle", batch.qc_status),
        ("Qualitätskontrolle durch", checker.username if checker else ""),
        ("Transfervermerk", batch.transfer_note),
    ]
    return [(name, value) for name, value in values if value]
