"""R13: handing cases over to the public archive with xdomea 3.1.0.

The flow of an approved request's archive items (schedule A or B):

1. ``export_offer`` writes the offer list 0501 (metadata only)           → items ``offered``
2. ``receive`` reads the archive's appraisal 0502: A → ``to_transfer``; V → destroyed by the
   execution job like any V case
3. ``export_transfer`` writes the transfer package 0503 (ZIP: the XML plus every file named by
   its own UUID, sha256 per file)                                        → items ``sent``
4. ``receive`` reads the import confirmation 0506: taken over → the case is marked
   ``transferred`` with the archive's identifier, and the execution job then destroys the local
   copies and issues the certificate; not taken over → back to ``to_transfer``.

Nothing held is offered or transferred. A malformed or foreign 0502/0506 changes nothing.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from eakte import audit
from eakte.db import transaction
from eakte.errors import Conflict, RequestNotApproved, XdomeaRejected
from eakte.models import (
    Document,
    Process,
    User,
)
from eakte.models.base import utcnow
from eakte.permissions import Action, require
from eakte.services.guard import audited_refusals
from retention.disposal import find_request
from retention.holds import case_tree_holds
from retention.models import (
    DisposalItem,
    DisposalRequest,
    ItemAction,
    ItemState,
    RequestStatus,
    TransferMessage,
)
from retention.transfer_entries import case_entry, header_for
from retention.xdomea import (
    APPRAISAL,
    IMPORT_CONFIRMATION,
    OFFER,
    TRANSFER,
    message_file_name,
    reader,
    writer,
)
from storage.blobstore import BlobStore

DEFAULT_ARCHIVE = "Archiv"


@dataclass
class ExportResult:
    path: Path
    message_type: str
    cases: list[str] = field(default_factory=list)
    files: int = 0
    held: list[str] = field(default_factory=list)
    sha256: str = ""


@dataclass
class ReceiveResult:
    message_type: str
    process_id: str
    archived: list[str] = field(default_factory=list)  # 0502 A / 0506 taken over
    destroy: list[str] = field(default_factory=list)  # 0502 V
    failed: list[str] = field(default_factory=list)  # 0506 not taken over


def _approved(session: Session, actor: User, ident: str | int) -> DisposalRequest:
    require(session, actor, Action.dispose)
    request = find_request(session, actor, ident)
    if request.status != RequestStatus.approved:
        raise RequestNotApproved(
            f"disposal request {request.uuid} is {request.status}: nothing is offered or "
            "transferred without an approved request (R9)"
        )
    return request


def _items(session: Session, request_id: int, states: tuple[ItemState, ...]) -> list[DisposalItem]:
    return list(
        session.scalars(
            select(DisposalItem)
            .where(
                DisposalItem.request_id == request_id,
                DisposalItem.action == ItemAction.archive.value,
                DisposalItem.state.in_([s.value for s in states]),
            )
            .order_by(DisposalItem.id)
        )
    )


def _write_zip(path: Path, members) -> str:
    """Write the ZIP beside ``path`` and move it into place when complete; its sha256."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    os.close(fd)
    try:
        with zipfile.ZipFile(tmp, "w", allowZip64=True) as archive:
            for name, writer_fn, compress in members:
                info = zipfile.ZipInfo(name, utcnow().timetuple()[:6])
                info.compress_type = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
                with archive.open(info, "w", force_zip64=True) as out:
                    writer_fn(out)
        digest = hashlib.sha256()
        with open(tmp, "rb") as fh:
            while chunk := fh.read(1024 * 1024):
                digest.update(chunk)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return digest.hexdigest()


def _record_message(
    session: Session,
    actor: User,
    request: DisposalRequest,
    direction: str,
    message_type: str,
    file_name: str,
    sha256: str,
    count: int,
) -> None:
    session.add(
        TransferMessage(
            tenant_id=request.tenant_id,
            request_id=request.id,
            direction=direction,
            message_type=message_type,
            file_name=file_name,
            sha256=sha256,
            object_count=count,
            user_id=actor.id,
        )
    )


@audited_refusals
def export_offer(
    session: Session,
    actor: User,
    request_ident: str | int,
    out_dir: Path,
    *,
    archive: str = DEFAULT_ARCHIVE,
) -> ExportResult:
    """Write the 0501 offer list of the request's archive items (not the held ones)."""
    with transaction(session):
        request = _approved(session, actor, request_ident)
        items = _items(session, request.id, (ItemState.pending, ItemState.offered))
        if not items:
            raise Conflict(f"disposal request {request.uuid} has nothing to offer to the archive")
        header = header_for(session, actor, request, archive)
        name = message_file_name(request.xdomea_process_id, OFFER, "zip")
        result = ExportResult(Path(out_dir) / name, OFFER)
        entries = []
        for item in items:
            if case_tree_holds(session, item.case):
                result.held.append(item.case.file_reference)
                continue
            entries.append(case_entry(session, item.case, with_content=False))
            result.cases.append(item.case.file_reference)
        if not entries:
            raise Conflict("every case to offer is under legal hold")
        xml = writer.offer_list(header, entries)
        xml_name = message_file_name(request.xdomea_process_id, OFFER, "xml")
        result.sha256 = _write_zip(result.path, [(xml_name, lambda out: out.write(xml), True)])
        offered = set(result.cases)
        for item in items:
            if item.case.file_reference in offered:
                item.state, item.updated_at = ItemState.offered.value, utcnow()
        _record_message(session, actor, request, "out", OFFER, name, result.sha256, len(entries))
        audit.record(
            session, actor, "export", request, message=OFFER, cases=result.cases, file=name
        )
    return result


@audited_refusals
def export_transfer(
    session: Session,
    actor: User,
    store: BlobStore,
    request_ident: str | int,
    out_dir: Path,
    *,
    archive: str = DEFAULT_ARCHIVE,
) -> ExportResult:
    """Write the 0503 transfer package of the cases the archive appraised A (not held ones).

    Every file is read back from S3 with its sha256 verified while it is packed."""
    with transaction(session):
        request = _approved(session, actor, request_ident)
        items = _items(session, request.id, (ItemState.to_transfer,))
        if not items:
            raise Conflict(f"disposal request {request.uuid} has nothing appraised for transfer")
        header = header_for(session, actor, request, archive)
        request_id, process_id = request.id, request.xdomea_process_id
        name = message_file_name(process_id, TRANSFER, "zip")
        result = ExportResult(Path(out_dir) / name, TRANSFER)
        entries, item_ids = [], []
        for item in items:
            if case_tree_holds(session, item.case):
                result.held.append(item.case.file_reference)
                continue
            entries.append(case_entry(session, item.case, with_content=True))
            item_ids.append(item.id)
            result.cases.append(item.case.file_reference)
    if not entries:
        raise Conflict("every case to transfer is under legal hold")
    xml = writer.transfer_message(header, entries)
    files = [f for case in entries for p in case.processes for d in p.documents for f in d.files]
    members = [(message_file_name(process_id, TRANSFER, "xml"), lambda out: out.write(xml), True)]
    for entry in files:
        members.append((entry.package_name, copier(store, entry), False))
    result.files = len(files)
    result.sha256 = _write_zip(result.path, members)  # S3 reads happen outside a transaction
    with transaction(session):
        request = session.get_one(DisposalRequest, request_id)
        for item_id in item_ids:
            item = session.get_one(DisposalItem, item_id)
            item.state, item.updated_at = ItemState.sent.value, utcnow()
        _record_message(session, actor, request, "out", TRANSFER, name, result.sha256, len(entries))
        audit.record(
            session,
            actor,
            "export",
            request,
            message=TRANSFER,
            cases=result.cases,
            files=result.files,
            file=name,
            sha256=result.sha256,
        )
    return result


class StoredFile(Protocol):
    """A file version of a transfer (3.1.0's FileEntry, 4.0.0's FileObj): where its bytes are."""

    s3_key: str
    s3_version_id: str
    sha256: str


def copier(store: BlobStore, entry: StoredFile) -> Callable[[IO[bytes]], None]:
    """Writes the version's bytes into a container member, checked against its hash."""

    def copy(out: IO[bytes]) -> None:
        with store.open(entry.s3_key, entry.s3_version_id, entry.sha256) as reader:
            for chunk in reader:
                out.write(chunk)
        # The reader raised IntegrityError at the end if the bytes were not these.

    return copy


@audited_refusals
def receive(session: Session, actor: User, data: bytes, *, name: str = "") -> ReceiveResult:
    """Apply a 0502 appraisal or a 0506 import confirmation — all of it, or nothing."""
    require(session, actor, Action.dispose)
    try:
        message = reader.parse(reader.unpack(data, name))
        with transaction(session):
            request = session.scalar(
                select(DisposalRequest).where(
                    DisposalRequest.tenant_id == actor.tenant_id,
                    DisposalRequest.xdomea_process_id == message.process_id,
                )
            )
            if request is None:
                raise XdomeaRejected(
                    f"foreign message: no disposal request has the xdomea process "
                    f"{message.process_id}"
                )
            if request.status != RequestStatus.approved:
                raise XdomeaRejected(
                    f"disposal request {request.uuid} is {request.status}, not approved"
                )
            if isinstance(message, reader.Appraisal):
                result = _apply_appraisal(session, request, message)
            else:
                result = _apply_confirmation(session, request, message)
            digest = hashlib.sha256(data).hexdigest()
            count = len(result.archived) + len(result.destroy) + len(result.failed)
            _record_message(session, actor, request, "in", result.message_type, name, digest, count)
            audit.record(
                session,
                actor,
                "xdomea_receive",
                request,
                message=result.message_type,
                file=name,
                sha256=digest,
                archived=result.archived,
                destroy=result.destroy,
                failed=result.failed,
            )
        return result
    except XdomeaRejected as exc:
        if session.in_transaction():
            session.rollback()
        with transaction(session):
            audit.record(
                session,
                actor,
                "xdomea_receive",
                outcome="refused",
                tenant_id=actor.tenant_id,
                file=name,
                reason=str(exc),
            )
        raise


def _by_case_uuid(session: Session, request: DisposalRequest) -> dict[str, DisposalItem]:
    items = session.scalars(select(DisposalItem).where(DisposalItem.request_id == request.id))
    return {str(item.case.uuid): item for item in items}


def _apply_appraisal(
    session: Session, request: DisposalRequest, message: reader.Appraisal
) -> ReceiveResult:
    items = _by_case_uuid(session, request)
    result = ReceiveResult(APPRAISAL, message.process_id)
    for object_id in message.decisions:
        item = items.get(object_id)
        if item is None:
            raise XdomeaRejected(
                f"foreign object {object_id}: not part of disposal request {request.uuid}"
            )
        if item.state != ItemState.offered:
            raise XdomeaRejected(
                f"object {object_id} ({item.case.file_reference}) was not offered or was "
                f"appraised already (state {item.state})"
            )
    for object_id, decision in message.decisions.items():
        item = items[object_id]
        item.appraisal, item.updated_at = decision, utcnow()
        if decision == "A":
            item.state = ItemState.to_transfer.value
            result.archived.append(item.case.file_reference)
        else:
            item.action, item.state = ItemAction.destroy.value, ItemState.pending.value
            result.destroy.append(item.case.file_reference)
    return result


def _apply_confirmation(
    session: Session, request: DisposalRequest, message: reader.ImportConfirmation
) -> ReceiveResult:
    items = _by_case_uuid(session, request)
    sent_cases = [item.case_id for item in items.values() if item.state == ItemState.sent]
    # Archives may confirm the processes and documents of a case as well; those are accepted
    # and the case's own entry decides.
    inner: set[str] = set()
    if sent_cases:
        processes = session.execute(
            select(Process.id, Process.uuid).where(Process.case_id.in_(sent_cases))
        ).all()
        inner.update(str(uuid) for _, uuid in processes)
        inner.update(
            str(uuid)
            for uuid in session.scalars(
                select(Document.uuid).where(Document.process_id.in_([pid for pid, _ in processes]))
            )
        )
    result = ReceiveResult(IMPORT_CONFIRMATION, message.process_id)
    confirmed = []
    for entry in message.results:
        item = items.get(entry.object_id)
        if item is None:
            if entry.object_id in inner:
                continue
            raise XdomeaRejected(
                f"foreign object {entry.object_id}: not transferred in disposal request "
                f"{request.uuid}"
            )
        if item.state != ItemState.sent:
            raise XdomeaRejected(
                f"object {entry.object_id} ({item.case.file_reference}) was not sent in a 0503 "
                f"(state {item.state})"
            )
        confirmed.append((item, entry))
    for item, entry in confirmed:
        case = item.case
        item.updated_at = utcnow()
        if entry.success:
            item.state, item.archive_id = ItemState.transferred.value, entry.archive_id
            case.archive_id, case.disposal_state = entry.archive_id, "transferred"
            case.index_dirty = True
            result.archived.append(case.file_reference)
        else:
            item.state = ItemState.to_transfer.value
            item.note = "archive did not take it over: " + "; ".join(entry.errors)
            result.failed.append(case.file_reference)
    return result
