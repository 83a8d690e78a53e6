"""Documents: registration in an inbox, filing into a process, refiling, metadata, restriction,
viewing and downloading — each checked, each in its own transaction, each audited."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from eakte import audit
from eakte.db import transaction
from eakte.errors import BadInput, Conflict
from eakte.models import (
    Document,
    DocumentStatus,
    FileVersion,
    Process,
    StoredObject,
    User,
    VersionKind,
)
from eakte.models.base import utcnow
from eakte.permissions import Action, require
from eakte.services import mail
from eakte.services.cases import ensure_may_move_retention, ensure_open
from eakte.services.guard import audited_refusals, changes, load
from storage.blobstore import BlobStore
from storage.streams import ObjectReader

DOCUMENT_FIELDS = {"title", "doc_type", "correspondent", "received_date"}


def register_original(
    session: Session,
    actor: User | None,
    stored: StoredObject,
    *,
    title: str,
    filename: str,
    inbox_org_unit_id: int | None,
    source: str,
    doc_type: str = "",
    correspondent: str = "",
    received_date: date | None = None,
    scan_batch_id: int | None = None,
    **document_fields,
) -> Document:
    """A new document in an inbox, its original already in S3; inside the caller's
    transaction (the ingest pipeline owns it). ``document_fields`` are further columns set at
    creation (ingest: ``uuid``, ``source_key``, ``flags``, ``duplicate_of_id``, ``process_id``)."""
    document = Document(
        **document_fields,
        tenant_id=stored.tenant_id,
        inbox_org_unit_id=inbox_org_unit_id,
        scan_batch_id=scan_batch_id,
        title=title,
        doc_type=doc_type,
        correspondent=correspondent,
        received_date=received_date or utcnow().date(),
        status=DocumentStatus.received.value,
        sha256=stored.sha256,
        source=source,
    )
    document.versions.append(version_for(stored, VersionKind.original, filename))
    session.add(document)
    session.flush()
    audit.record(
        session,
        actor,
        "create",
        document,
        tenant_id=stored.tenant_id,
        sha256=stored.sha256,
        source=source,
        filename=filename,
    )
    return document


def version_for(stored: StoredObject, kind: VersionKind, filename: str) -> FileVersion:
    return FileVersion(
        kind=kind.value,
        stored_object_id=stored.id,
        s3_key=stored.key,
        s3_version_id=stored.version_id,
        sha256=stored.sha256,
        size=stored.size,
        mime=stored.content_type,
        filename=filename,
    )


@audited_refusals
def get_document(session: Session, actor: User, ident: int | str) -> Document:
    with transaction(session):
        document = load(session, actor, Document, ident)
        require(session, actor, Action.view, document)
        audit.record(session, actor, "view", document)
    return document


@audited_refusals
def open_version(
    session: Session, actor: User, store: BlobStore, version_ident: int | str
) -> tuple[FileVersion, ObjectReader]:
    """A verified stream of one file version (R18: the hash is checked while reading).
    The download is logged (R20)."""
    with transaction(session):
        version = load(session, actor, FileVersion, version_ident)
        document = version.document  # other tenants' documents fail the check as not found
        require(session, actor, Action.download, document)
        audit.record(session, actor, "download", document, version=str(version.uuid))
    return version, store.open(version.s3_key, version.s3_version_id, version.sha256)


@audited_refusals
def file_document(
    session: Session, actor: User, document_ident: int | str, process_ident: int | str
) -> Document:
    """From the inbox into a process of an open case."""
    with transaction(session):
        document = load(session, actor, Document, document_ident)
        require(session, actor, Action.file, document)
        if document.process_id is not None:
            raise Conflict("the document is already filed; refile it instead")
        process = load(session, actor, Process, process_ident)
        require(session, actor, Action.file, process)
        ensure_open(process)
        _file_into(session, actor, document, process)
        mail.file_attachments_along(session, actor, document, process, _file_into)
    return document


def _file_into(
    session: Session, actor: User, document: Document, process: Process, **note: Any
) -> None:
    """Within the caller's transaction: the document into the process, audited."""
    document.process = process
    document.inbox_org_unit_id = None
    document.index_dirty = True
    audit.record(
        session,
        actor,
        "file",
        document,
        case=process.case.file_reference,
        process=process.number,
        **note,
    )


@audited_refusals
def refile_document(
    session: Session,
    actor: User,
    document_ident: int | str,
    process_ident: int | str,
    reason: str,
) -> Document:
    """Move a filed document to another process; both cases must be open (R4)."""
    if not reason.strip():
        raise BadInput("refiling needs a reason")
    with transaction(session):
        document = load(session, actor, Document, document_ident)
        require(session, actor, Action.file, document)
        if document.process is None:
            raise Conflict("the document is in the inbox; file it instead")
        ensure_open(document.process)
        target = load(session, actor, Process, process_ident)
        require(session, actor, Action.file, target)
        ensure_open(target)
        source = document.process
        ensure_may_move_retention(session, actor, source.case, target.case)
        document.process = target
        document.index_dirty = True
        audit.record(
            session,
            actor,
            "refile",
            document,
            reason=reason,
            changes={
                "process": [
                    f"{source.case.file_reference}/{source.number}",
                    f"{target.case.file_reference}/{target.number}",
                ]
            },
        )
    return document


@audited_refusals
def update_document(session: Session, actor: User, document_ident: int | str, **values) -> Document:
    """R23: changed metadata is logged with old and new values."""
    with transaction(session):
        document = load(session, actor, Document, document_ident)
        require(session, actor, Action.edit, document)
        if document.process is not None:
            ensure_open(document.process)
        if "title" in values and not str(values["title"]).strip():
            raise BadInput("a document needs a title")
        diff = changes(document, values, DOCUMENT_FIELDS)
        if diff:
            document.updated_at = utcnow()
            document.index_dirty = True
            audit.record(session, actor, "change", document, changes=diff)
    return document


@audited_refusals
def discard_document(
    session: Session, actor: User, document_ident: int | str, reason: str
) -> Document:
    """Set an inbox document aside (a wrong upload, a stray scan): it leaves the inbox and the
    search, and its objects run out after their COMPLIANCE floor — nobody can delete them
    earlier, and a mistake is found in the audit trail with the reason."""
    if not reason.strip():
        raise BadInput("discarding a document needs a reason")
    with transaction(session):
        document = load(session, actor, Document, document_ident)
        require(session, actor, Action.edit, document)
        if document.process_id is not None:
            raise Conflict("only a document in the inbox can be discarded; a filed one is a record")
        if document.status == DocumentStatus.discarded:
            raise Conflict("the document is already discarded")
        document.status = DocumentStatus.discarded.value
        document.updated_at = utcnow()
        document.index_dirty = True
        audit.record(session, actor, "discard", document, reason=reason)
    return document


@audited_refusals
def restrict_document(
    session: Session, actor: User, document_ident: int | str, restricted: bool, reason: str
) -> Document:
    if not reason.strip():
        raise BadInput("a restriction needs a reason")
    with transaction(session):
        document = load(session, actor, Document, document_ident)
        require(session, actor, Action.restrict, document)
        if document.restricted != restricted:
            document.restricted = restricted
            document.updated_at = utcnow()
            document.index_dirty = True
            audit.record(
                session,
                actor,
                "restrict" if restricted else "unrestrict",
                document,
                reason=reason,
            )
    return document
