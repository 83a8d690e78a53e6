"""Taking in a 0401 or 0503 container from another system (issue 27): the way a town brings
its files over from the system it is leaving, or receives files handed to it.

Everything is checked before anything is stored: the schema, each primary document named in
the message present in the container under a ``<UUID>.<ext>`` name, and its sha256 equal to
the hash the message gives. A container failing any check is refused with a report naming
every problem, and nothing of it is stored.

A checked container becomes cases under the file-plan node a records officer chose: a new
reference of this installation, the old one kept as the former reference, the dates as they
were (opened, closed, received), every document through the normal intake (its hash checked
again as it is stored), the history kept as the case's provenance. Progress is recorded per
object, so a run stopped by a crash continues where it stopped when started again with the
same container; a finished one is not taken in twice. A 0402 confirmation is written at the
end.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from eakte import audit
from eakte.config import Settings
from eakte.db import transaction
from eakte.errors import Conflict, NoRetentionSchedule, XdomeaRejected
from eakte.ingest.intake_context import DocumentMetadata
from eakte.models import Case, CaseStatus, Document, FileVersion, Process, Tenant, User, VersionKind
from eakte.models.base import utcnow
from eakte.permissions import Action, require
from eakte.ports import retention_port
from eakte.references import DEFAULT_PATTERN
from eakte.services.cases import _free_reference, effective_schedule, find_node
from eakte.services.documents import version_for
from eakte.services.guard import audited_refusals
from eakte.services.intake import Enqueue, IncomingFile, Target, intake
from eakte.services.objects import store_object
from retention.xdomea4 import abgabe, containers
from retention.xdomea4.disposal import ObjectResult
from retention.xdomea4.header import Head
from retention.xdomea4.model import CaseObj, DocumentObj, FileObj
from retention.xdomea4.models import ImportedObject, ImportState, XdomeaImport, XdomeaMessage
from storage.blobstore import BlobStore

MAX_PROBLEMS = 1000  # named in a report; the rest are counted


@dataclass
class Checked:
    handed: abgabe.Handed | None
    problems: list[str] = field(default_factory=list)


def check(path: Path) -> Checked:
    """Every problem of the container, nothing stored."""
    try:
        with containers.Container(path) as box:
            try:
                handed = abgabe.read_handover(box.message(), box.message_name)
            except XdomeaRejected as exc:
                return Checked(None, [str(exc)])
            problems = list(handed.problems)
            seen: set[str] = set()
            for case in handed.cases:
                for entry in case.files():
                    name = entry.package_name
                    if name in seen:
                        problems.append(f"{name}: named twice in the message")
                        continue
                    seen.add(name)
                    if not box.safe_member(name):
                        problems.append(f"{name}: not a primary document name <UUID>.<ext>")
                    elif not box.has(name):
                        problems.append(f"{name}: primary document missing from the container")
                    elif entry.sha256:
                        digest, size = box.hash_of(name)
                        entry.size = size
                        if digest != entry.sha256:
                            problems.append(
                                f"{name}: sha256 {digest} does not match the message's "
                                f"{entry.sha256}"
                            )
            if not handed.cases:
                problems.append("the message holds no file or process to take in")
            return Checked(handed, problems)
    except XdomeaRejected as exc:
        return Checked(None, [str(exc)])


@dataclass
class TakeIn:
    record: XdomeaImport
    problems: list[str] = field(default_factory=list)
    cases: list[str] = field(default_factory=list)  # the new references
    reply: bytes = b""  # the 0402
    reply_name: str = ""


@audited_refusals
def take_in(
    session: Session,
    actor: User,
    store: BlobStore,
    path: Path,
    *,
    node: str,
    settings: Settings,
    enqueue: Enqueue | None = None,
) -> TakeIn:
    """Check, then take in the container's cases under ``node`` (resuming an interrupted
    run of the same container). A refused container comes back with ``problems`` and the
    record in state ``refused``; nothing of it is stored."""
    require(session, actor, Action.manage_schedules)  # dates and closures as they were
    require(
        session, actor, Action.ingest
    )  # documents go through intake: checked before, not midway
    digest = containers.file_sha256(path)
    with transaction(session):
        plan_node = find_node(session, actor, node)
        require(session, actor, Action.create_case, plan_node)
        if effective_schedule(session, plan_node) is None:
            raise NoRetentionSchedule(f"file plan node {plan_node.code} has no retention schedule")
        node_id = plan_node.id
        earlier = session.scalar(
            select(XdomeaImport).where(
                XdomeaImport.tenant_id == actor.tenant_id,
                XdomeaImport.container_sha256 == digest,
                XdomeaImport.state != ImportState.refused.value,
            )
        )
        if earlier is not None and earlier.state == ImportState.done:
            raise Conflict(f"{path.name} was taken in before (import {earlier.uuid})")
        if earlier is not None and earlier.node_id != node_id:
            raise Conflict(f"{path.name} is being taken in under another file-plan node")
    checked = check(path)
    if checked.problems or checked.handed is None:
        with transaction(session):
            record = XdomeaImport(
                tenant_id=actor.tenant_id,
                container_sha256=digest,
                file_name=path.name[:300],
                node_id=node_id,
                state=ImportState.refused.value,
                report=json.dumps(checked.problems[:MAX_PROBLEMS], ensure_ascii=False),
                user_id=actor.id,
                finished_at=utcnow(),
            )
            if checked.handed is not None:
                record.message_uuid = checked.handed.head.message_uuid
                record.process_id = checked.handed.head.process_id
                record.message_type = checked.handed.head.message_type
            session.add(record)
            session.flush()
            audit.record(
                session,
                actor,
                "xdomea_import",
                record,
                outcome="refused",
                file=path.name,
                sha256=digest,
                problems=checked.problems[:20],
            )
        return TakeIn(record, checked.problems)
    handed = checked.handed
    with transaction(session):
        if earlier is None:
            record = XdomeaImport(
                tenant_id=actor.tenant_id,
                container_sha256=digest,
                file_name=path.name[:300],
                message_uuid=handed.head.message_uuid,
                process_id=handed.head.process_id,
                message_type=handed.head.message_type,
                node_id=node_id,
                state=ImportState.importing.value,
                user_id=actor.id,
            )
            session.add(record)
            session.flush()
            audit.record(
                session,
                actor,
                "xdomea_import",
                record,
                file=path.name,
                sha256=digest,
                cases=len(handed.cases),
                started=True,
            )
        else:
            record = session.get_one(XdomeaImport, earlier.id)
        record_id = record.id
    result = TakeIn(record)
    results: list[ObjectResult] = []
    with containers.Container(path) as box:
        for case in handed.cases:
            reference = _take_case(session, actor, store, box, record_id, case, settings, enqueue)
            result.cases.append(reference)
            results.append(ObjectResult(case.uuid, True))
    with transaction(session):
        record = session.get_one(XdomeaImport, record_id)
        tenant = session.get_one(Tenant, actor.tenant_id)
        head = Head(handed.head.process_id, tenant.name, handed.head.author or "Absender")
        result.reply = abgabe.import_confirmation(head, handed.head.message_uuid, results)
        result.reply_name = containers.message_name(head.process_id, abgabe.IMPORTED, 1)
        record.state, record.finished_at = ImportState.done.value, utcnow()
        record.report = json.dumps(
            [
                {"former": c.reference, "reference": r}
                for c, r in zip(handed.cases, result.cases, strict=True)
            ],
            ensure_ascii=False,
        )
        session.add(
            XdomeaMessage(
                uuid=head.message_uuid,
                tenant_id=actor.tenant_id,
                process_id=head.process_id,
                direction="out",
                message_type=abgabe.IMPORTED,
                origin_uuid=handed.head.message_uuid,
                file_name=result.reply_name,
                objects=json.dumps([c.uuid for c in handed.cases]),
                user_id=actor.id,
            )
        )
        audit.record(
            session,
            actor,
            "xdomea_import",
            record,
            file=path.name,
            cases=result.cases,
            finished=True,
        )
        result.record = record
    return result


def _progress(session: Session, record_id: int) -> tuple[XdomeaImport, dict[str, int]]:
    record = session.get_one(XdomeaImport, record_id)
    return record, json.loads(record.progress or "{}")


def _at(day) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _take_case(
    session: Session,
    actor: User,
    store: BlobStore,
    box: containers.Container,
    record_id: int,
    case: CaseObj,
    settings: Settings,
    enqueue: Enqueue | None,
) -> str:
    """One case: created with its processes in one transaction (with the progress), its
    documents through intake (idempotent by their source key), then closed as it was."""
    with transaction(session):
        record, progress = _progress(session, record_id)
        done = progress.get(f"done:{case.uuid}")
        if done:
            return session.get_one(Case, done).file_reference
        case_id = progress.get(f"case:{case.uuid}")
        if case_id is None:
            case_id = _create_case(session, actor, record, case, progress)
            record.progress = json.dumps(progress)
        reference = session.get_one(Case, case_id).file_reference
    for process in case.processes:
        process_id = progress[f"process:{process.uuid}:{process.number}"]
        for document in process.documents:
            _take_document(
                session, actor, store, box, record_id, process_id, document, settings, enqueue
            )
    with transaction(session):
        record, progress = _progress(session, record_id)
        row = session.get_one(Case, case_id)
        if case.closed is not None:
            row.status, row.closed_at = CaseStatus.closed.value, case.closed
            for process_row in session.scalars(select(Process).where(Process.case_id == case_id)):
                process_row.status = CaseStatus.closed.value
                process_row.closed_at = process_row.closed_at or case.closed
            retention_port(session).on_case_closed(session, row)
        session.add(
            ImportedObject(
                import_id=record_id,
                case_id=case_id,
                foreign_uuid=case.uuid,
                former_reference=case.reference[:300],
                history=json.dumps(
                    [
                        {
                            "actor": h.actor,
                            "at": h.at.isoformat(),
                            "action": h.action,
                            "note": h.note,
                        }
                        for h in case.history
                    ],
                    ensure_ascii=False,
                ),
                metadata_json=json.dumps(
                    {
                        "node": [case.node_code, case.node_title],
                        "org_unit": case.org_unit,
                        "retention": [
                            case.period_years,
                            case.action,
                            case.retention_end.isoformat() if case.retention_end else None,
                        ],
                        "source": record.file_name,
                    },
                    ensure_ascii=False,
                ),
            )
        )
        progress[f"done:{case.uuid}"] = case_id
        record.progress = json.dumps(progress)
        audit.record(
            session,
            actor,
            "xdomea_import",
            row,
            former_reference=case.reference,
            foreign_uuid=case.uuid,
            container=record.file_name,
            closed_at=case.closed.isoformat() if case.closed else None,
        )
    return reference


def _create_case(
    session: Session, actor: User, record: XdomeaImport, case: CaseObj, progress: dict[str, int]
) -> int:
    assert record.node_id is not None
    node = find_node(session, actor, record.node_id)
    schedule = effective_schedule(session, node)
    assert schedule is not None  # checked before
    year = (case.created or case.closed or utcnow().date()).year
    row = Case(
        tenant_id=actor.tenant_id,
        node_id=node.id,
        org_unit_id=node.org_unit_id or actor.org_unit_id,
        file_reference=_free_reference(session, actor.tenant_id, node, DEFAULT_PATTERN, year),
        title=(case.title or case.reference or "Übernommene Akte")[:500],
        description=case.description,
        schedule_id=schedule.id,
        created_by_id=actor.id,
    )
    if case.created:
        row.created_at = _at(case.created)
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor,
        "create",
        row,
        file_reference=row.file_reference,
        former_reference=case.reference,
        node=node.code,
        taken_in=record.file_name,
    )
    for number, process in enumerate(case.processes, start=1):
        item = Process(
            tenant_id=actor.tenant_id,
            case_id=row.id,
            number=number,
            title=(process.title or f"Vorgang {number}")[:500],
            closed_at=process.closed,
        )
        session.add(item)
        session.flush()
        progress[f"process:{process.uuid}:{process.number}"] = item.id
    progress[f"case:{case.uuid}"] = row.id
    return row.id


def _take_document(
    session: Session,
    actor: User,
    store: BlobStore,
    box: containers.Container,
    record_id: int,
    process_id: int,
    document: DocumentObj,
    settings: Settings,
    enqueue: Enqueue | None,
) -> None:
    files = document.files()
    if not files:
        return
    first = next((f for f in files if f.kind == "original"), files[0])
    record = session.get_one(XdomeaImport, record_id)
    source = f"xdomea {record.file_name}"[:300]
    key_base = f"xdomea:{record.container_sha256}"
    with box.open(first.package_name) as fh:
        data = fh.read()
    result = intake(
        session,
        actor,
        store,
        IncomingFile(
            data,
            first.filename or first.package_name,
            metadata=DocumentMetadata(
                title=document.title,
                doc_type=document.doc_type,
                correspondent=document.correspondent,
                received_date=document.received,
            ),
            target=Target(process=process_id),
            method="import",
            source=source,
            source_key=f"{key_base}:{first.uuid}",
        ),
        settings=settings,
        enqueue=enqueue,
    )
    stored_doc = result.document
    if stored_doc is None or stored_doc.sha256 != first.sha256:
        raise XdomeaRejected(
            f"{first.package_name}: intake did not take it in as it came "
            f"({result.reason or 'another hash'}); the import stops here and can be resumed"
        )
    for entry in files:
        if entry is first:
            continue
        _add_file(session, store, box, stored_doc.id, entry)


def _add_file(
    session: Session, store: BlobStore, box: containers.Container, document_id: int, entry: FileObj
) -> None:
    """A further format or version of a document, stored as it came (hash checked by the
    store against the message's)."""
    with transaction(session):
        known = session.scalar(
            select(FileVersion.id).where(
                FileVersion.document_id == document_id, FileVersion.sha256 == entry.sha256
            )
        )
        document = session.get_one(Document, document_id)
        tenant = session.get_one(Tenant, document.tenant_id)
    if known is not None:
        return
    with box.open(entry.package_name) as fh:
        data = fh.read()
    stored = store_object(
        session,
        store,
        tenant_id=tenant.id,
        key=f"{tenant.slug}/documents/{document.uuid}/{entry.package_name}",
        stream=io.BytesIO(data),
        content_type=entry.mime or "application/octet-stream",
        sha256=entry.sha256,
    )
    with transaction(session):
        document = session.get_one(Document, document_id)
        kind = VersionKind.rendition if entry.kind == "rendition" else VersionKind.original
        document.versions.append(version_for(stored, kind, entry.filename))
