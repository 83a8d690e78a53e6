"""Applications delivered by online-service portals (OZG): metadata plus files that create or
fill a case. Retrying the same delivery (same ``external_id``) changes nothing."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, BinaryIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from eakte.config import Settings
from eakte.errors import BadInput
from eakte.models import Case, Document, Process, User
from eakte.services import cases
from eakte.services.intake import DocumentMetadata, Enqueue, IncomingFile, Outcome, Target, intake
from storage.blobstore import BlobStore


@dataclass
class Delivery:
    case: Case
    process: Process
    existing: bool = False
    documents: list[dict[str, Any]] = field(default_factory=list)


def _text(meta: dict, key: str, limit: int) -> str:
    value = meta.get(key, "")
    if not isinstance(value, str) or len(value) > limit:
        raise BadInput(f"{key} must be text of at most {limit} characters")
    return value.strip()


def _date(meta: dict, key: str) -> date | None:
    value = meta.get(key)
    if value in (None, ""):
        return None
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise BadInput(f"{key} must be a date like 2026-11-20, not {value!r}") from None


def _source_key(source: str, external_id: str, index: int) -> str:
    return f"{source}:{external_id}:{index}"


def deliver_application(
    session: Session,
    user: User,
    store: BlobStore,
    settings: Settings,
    meta: dict[str, Any],
    files: Sequence[tuple[str, BinaryIO]],
    *,
    source: str,
    enqueue: Enqueue | None = None,
) -> Delivery:
    """Create or fill a case and take in every file, each through the intake service."""
    external_id = _text(meta, "external_id", 200)
    if external_id:
        done = session.scalar(
            select(Document).where(
                Document.tenant_id == user.tenant_id,
                Document.source_key == _source_key(source, external_id, 0),
            )
        )
        if done is not None and done.process is not None:
            return _existing(session, user, done, source, external_id, len(files))
    case_meta = meta.get("case") or {}
    if not isinstance(case_meta, dict):
        raise BadInput("case must be an object")
    if case_meta.get("file_reference"):
        case = cases.find_case(session, user, _text(case_meta, "file_reference", 120))
    else:
        case = cases.create_case(
            session,
            user,
            _text(case_meta, "file_plan", 64),
            _text(case_meta, "title", 500),
            description=_text(case_meta, "description", 5000),
            pattern=settings.file_reference_pattern,
        )
    process_meta = meta.get("process") or {}
    if not isinstance(process_meta, dict):
        raise BadInput("process must be an object")
    number = process_meta.get("number")
    if number is not None:
        process = next((p for p in case.processes if p.number == number), None)
        if process is None:
            raise BadInput(f"case {case.file_reference} has no process {number}")
    else:
        title = _text(process_meta, "title", 500) or "Antrag"
        process = cases.add_process(session, user, case.id, title)
    docs_meta = meta.get("documents") or []
    if not isinstance(docs_meta, list):
        raise BadInput("documents must be a list")
    delivery = Delivery(case, process)
    for index, (filename, stream) in enumerate(files):
        entry = (
            docs_meta[index]
            if index < len(docs_meta) and isinstance(docs_meta[index], dict)
            else {}
        )
        result = intake(
            session,
            user,
            store,
            IncomingFile(
                stream,
                filename,
                metadata=DocumentMetadata(
                    title=_text(entry, "title", 500),
                    doc_type=_text(entry, "doc_type", 100),
                    correspondent=_text(entry, "correspondent", 300),
                    received_date=_date(entry, "received_date"),
                ),
                target=Target(process=process.id),
                method="api",
                source=source,
                source_key=_source_key(source, external_id, index) if external_id else None,
            ),
            settings=settings,
            enqueue=enqueue,
        )
        delivery.documents.append(
            {
                "filename": filename,
                "outcome": result.outcome.value,
                "uuid": str(result.document.uuid) if result.document is not None else None,
                "reason": result.reason_code if result.outcome == Outcome.quarantined else "",
            }
        )
    return delivery


def _existing(session, user, first: Document, source, external_id, count) -> Delivery:
    process = first.process
    assert process is not None  # a delivery's documents are filed when they are taken in
    case = cases.get_case(session, user, process.case_id)
    delivery = Delivery(case, process, existing=True)
    for index in range(count):
        doc = session.scalar(
            select(Document).where(
                Document.tenant_id == user.tenant_id,
                Document.source_key == _source_key(source, external_id, index),
            )
        )
        delivery.documents.append(
            {
                "filename": "",
                "outcome": Outcome.existing.value,
                "uuid": str(doc.uuid) if doc else None,
                "reason": "",
            }
        )
    return delivery
