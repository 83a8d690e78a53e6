"""Disposal to an archive that reads xdomea 4.0.0 (issue 27), beside the 3.1.0 flow of
``retention.transfer`` and on the same disposal items and states:

1. ``export_offer`` writes the 0501 (metadata only)                     → items ``offered``
2. ``receive`` reads the archive's 0502: A → ``to_transfer``, V → destroyed like any V case;
   it writes the 0505 receipt when the archive asks for one
3. ``export_transfer`` writes the 0503 — split into several messages of one ``ProzessID`` when
   the primary documents pass the archive's ``max_message_bytes``, each a container
   ``<ProzessID>_0503_<n>.zip``                                          → items ``sent``
4. ``receive`` reads the 0506 per object: taken over → ``transferred`` (then destroyed here
   by the execution job); failed → back to ``to_transfer`` with the archive's reason, offered
   again in the next 0503. 0504 and 0507 (received) are recorded against the message they
   answer.

Which version an archive reads is its ``XdomeaArchive`` setting (``set_archive``). Every
message answered must name (``UUIDUrsprungsnachricht``) one eAkte sent in this process, and
every object one that message carried; anything else is refused and nothing applied.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from eakte import audit
from eakte.db import transaction
from eakte.errors import Conflict, XdomeaRejected
from eakte.models import OrgUnit, Tenant, User
from eakte.permissions import Action, require
from eakte.services.guard import audited_refusals
from retention.holds import case_tree_holds
from retention.models import DisposalItem, DisposalRequest, ItemState, RequestStatus
from retention.transfer import _apply_appraisal, _apply_confirmation, _approved, _items, copier
from retention.xdomea4 import containers, disposal
from retention.xdomea4.archives import (  # noqa: F401  (the service's API, used by callers)
    VERSIONS,
    archive_named,
    list_archives,
    set_archive,
    version_for,
)
from retention.xdomea4.header import Head
from retention.xdomea4.model import CaseObj
from retention.xdomea4.models import XdomeaArchive, XdomeaMessage
from storage.blobstore import BlobStore


@dataclass
class Export4:
    message_type: str
    process_id: str
    paths: list[Path] = field(default_factory=list)
    message_uuids: list[str] = field(default_factory=list)
    cases: list[str] = field(default_factory=list)
    files: int = 0
    held: list[str] = field(default_factory=list)
    sha256: list[str] = field(default_factory=list)


@dataclass
class Receive4:
    message_type: str
    process_id: str
    archived: list[str] = field(default_factory=list)
    destroy: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    acknowledged: str = ""  # the message a receipt answered
    reply: bytes = b""  # a receipt eAkte sends back (0505), if asked for
    reply_name: str = ""


def _head(session: Session, actor: User, request: DisposalRequest, archive: str) -> Head:
    tenant = session.get_one(Tenant, request.tenant_id)
    unit = session.get(OrgUnit, actor.org_unit_id) if actor.org_unit_id else None
    return Head(request.xdomea_process_id, tenant.name, archive, unit.name if unit else "")


def _archive(session: Session, actor: User, name: str) -> XdomeaArchive:
    found = archive_named(session, actor.tenant_id, name)
    if found is None or found.xdomea_version != "4.0.0":
        raise Conflict(f"archive {name!r} is not set up for xdomea 4.0.0 (eakte retention archive)")
    return found


def _record(
    session: Session,
    actor: User,
    request: DisposalRequest,
    archive: XdomeaArchive | None,
    *,
    uuid: str,
    direction: str,
    message_type: str,
    number: int = 1,
    total: int = 1,
    origin: str = "",
    file_name: str = "",
    sha256: str = "",
    objects: list[str] | None = None,
    outcome: dict | None = None,
) -> XdomeaMessage:
    row = XdomeaMessage(
        uuid=uuid,
        tenant_id=request.tenant_id,
        request_id=request.id,
        archive_id=archive.id if archive else None,
        process_id=request.xdomea_process_id,
        direction=direction,
        message_type=message_type,
        number=number,
        total=total,
        origin_uuid=origin,
        file_name=file_name,
        sha256=sha256,
        objects=json.dumps(objects or []),
        outcome=json.dumps(outcome or {}, ensure_ascii=False),
        user_id=actor.id,
    )
    session.add(row)
    return row


def _selected(session: Session, items: list[DisposalItem], content: bool, result: Export4):
    from retention.xdomea4.appraisal import proposed_appraisal
    from retention.xdomea4.entries import case_obj  # the ORM-reading half, only when exporting

    chosen: list[tuple[DisposalItem, CaseObj]] = []
    for item in items:
        if case_tree_holds(session, item.case):
            result.held.append(item.case.file_reference)
            continue
        entry = case_obj(session, item.case, content=content)
        if not content:  # the offer carries the proposal: the officer's, else the catalogue's
            entry.proposal = item.appraisal or proposed_appraisal(
                session, item.case.tenant_id, item.case.node_id
            )
        chosen.append((item, entry))
    return chosen


@audited_refusals
def export_offer(
    session: Session, actor: User, request_ident: str | int, out_dir: Path, *, archive: str
) -> Export4:
    """The 0501 of the request's archive items (not the held ones): one message."""
    with transaction(session):
        request = _approved(session, actor, request_ident)
        target = _archive(session, actor, archive)
        items = _items(session, request.id, (ItemState.pending, ItemState.offered))
        if not items:
            raise Conflict(f"disposal request {request.uuid} has nothing to offer to the archive")
        result = Export4(disposal.OFFER, request.xdomea_process_id)
        chosen = _selected(session, items, False, result)
        if not chosen:
            raise Conflict("every case to offer is under legal hold")
        head = _head(session, actor, request, archive)
        xml = disposal.offer(head, [c for _, c in chosen])
        path = Path(out_dir) / containers.container_name(head.process_id, disposal.OFFER, 1)
        member = containers.message_name(head.process_id, disposal.OFFER, 1)
        digest = containers.write(path, [(member, containers.bytes_writer(xml), True)])
        for item, _ in chosen:
            item.state = ItemState.offered.value
            result.cases.append(item.case.file_reference)
        _record(
            session,
            actor,
            request,
            target,
            uuid=head.message_uuid,
            direction="out",
            message_type=disposal.OFFER,
            file_name=path.name,
            sha256=digest,
            objects=[c.uuid for _, c in chosen],
        )
        audit.record(
            session,
            actor,
            "export",
            request,
            message=disposal.OFFER,
            version="4.0.0",
            cases=result.cases,
            file=path.name,
        )
        result.paths.append(path)
        result.message_uuids.append(head.message_uuid)
        result.sha256.append(digest)
    return result


def split(cases: list[CaseObj], limit: int) -> list[list[CaseObj]]:
    """Groups of whole cases whose primary documents stay within ``limit`` bytes (a case
    larger than the limit travels alone)."""
    groups: list[list[CaseObj]] = []
    size = 0
    for case in cases:
        weight = case.content_bytes()
        if not groups or (size + weight > limit and groups[-1]):
            groups.append([])
            size = 0
        groups[-1].append(case)
        size += weight
    return groups


@audited_refusals
def export_transfer(
    session: Session,
    actor: User,
    store: BlobStore,
    request_ident: str | int,
    out_dir: Path,
    *,
    archive: str,
) -> Export4:
    """The 0503 messages of the cases the archive appraised A: as many containers as the
    archive's size limit needs, all of one ``ProzessID``; every file read back from S3 with
    its sha256 verified while it is packed."""
    with transaction(session):
        request = _approved(session, actor, request_ident)
        target = _archive(session, actor, archive)
        limit, archive_row_id = target.max_message_bytes, target.id
        items = _items(session, request.id, (ItemState.to_transfer,))
        if not items:
            raise Conflict(f"disposal request {request.uuid} has nothing appraised for transfer")
        result = Export4(disposal.TRANSFER, request.xdomea_process_id)
        chosen = _selected(session, items, True, result)
        if not chosen:
            raise Conflict("every case to transfer is under legal hold")
        base_head = _head(session, actor, request, archive)
        request_id = request.id
        item_of = {case.uuid: item.id for item, case in chosen}
        done_before = len(
            session.scalars(
                select(XdomeaMessage.id).where(
                    XdomeaMessage.request_id == request.id,
                    XdomeaMessage.direction == "out",
                    XdomeaMessage.message_type == disposal.TRANSFER,
                )
            ).all()
        )
        result.cases = [item.case.file_reference for item, _ in chosen]
    groups = split([c for _, c in chosen], limit)
    # A second round (the cases the archive failed to take over) continues the numbering:
    # every container of the process keeps a name of its own.
    first = done_before + 1
    total = done_before + len(groups)
    written: list[tuple[Head, int, Path, str, list[str]]] = []
    for number, group in enumerate(groups, start=first):  # S3 reads outside a transaction
        head = Head(base_head.process_id, base_head.author, base_head.reader, base_head.author_unit)
        xml = disposal.transfer(head, group, number, total)
        path = Path(out_dir) / containers.container_name(head.process_id, disposal.TRANSFER, number)
        members: list[containers.Member] = [
            (
                containers.message_name(head.process_id, disposal.TRANSFER, number),
                containers.bytes_writer(xml),
                True,
            )
        ]
        files = [f for case in group for f in case.files()]
        members += [(f.package_name, copier(store, f), False) for f in files]
        result.files += len(files)
        digest = containers.write(path, members)
        written.append((head, number, path, digest, [c.uuid for c in group]))
    with transaction(session):
        request = session.get_one(DisposalRequest, request_id)
        target = session.get_one(XdomeaArchive, archive_row_id)
        for head, number, path, digest, uuids in written:
            for case_uuid in uuids:
                item = session.get_one(DisposalItem, item_of[case_uuid])
                item.state = ItemState.sent.value
            _record(
                session,
                actor,
                request,
                target,
                uuid=head.message_uuid,
                direction="out",
                message_type=disposal.TRANSFER,
                number=number,
                total=total,
                file_name=path.name,
                sha256=digest,
                objects=uuids,
            )
            result.paths.append(path)
            result.message_uuids.append(head.message_uuid)
            result.sha256.append(digest)
        audit.record(
            session,
            actor,
            "export",
            request,
            message=disposal.TRANSFER,
            version="4.0.0",
            cases=result.cases,
            files=result.files,
            containers=[p.name for p in result.paths],
            sha256=result.sha256,
        )
    return result


_ANSWERS = {  # what each incoming message must answer
    disposal.APPRAISAL: ("out", disposal.OFFER),
    disposal.OFFER_RECEIVED: ("out", disposal.OFFER),
    disposal.IMPORT_CONFIRMATION: ("out", disposal.TRANSFER),
    disposal.TRANSFER_RECEIVED: ("out", disposal.TRANSFER),
    disposal.APPRAISAL_RECEIVED: ("in", disposal.APPRAISAL),
}


@audited_refusals
def receive(session: Session, actor: User, data: bytes, *, name: str = "") -> Receive4:
    """Apply one 4.0.0 message of the archive — all of it, or nothing."""
    require(session, actor, Action.dispose)
    xml = data
    if data[:4] == b"PK\x03\x04":
        from retention.xdomea.reader import unpack  # the 3.1.0 reader's bounded unzip

        xml = unpack(data, name)
    try:
        message = disposal.read(xml, name)
        with transaction(session):
            result = _apply(session, actor, message, xml, name)
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
                version="4.0.0",
                reason=str(exc),
            )
        raise


def _apply(session: Session, actor: User, message, xml: bytes, name: str) -> Receive4:
    request = session.scalar(
        select(DisposalRequest).where(
            DisposalRequest.tenant_id == actor.tenant_id,
            DisposalRequest.xdomea_process_id == message.process_id,
        )
    )
    if request is None:
        raise XdomeaRejected(
            f"foreign message: no disposal request has the process {message.process_id}"
        )
    if request.status != RequestStatus.approved:
        raise XdomeaRejected(f"disposal request {request.uuid} is {request.status}, not approved")
    if session.scalar(select(XdomeaMessage.id).where(XdomeaMessage.uuid == message.message_uuid)):
        raise XdomeaRejected(f"message {message.message_uuid} was received before")
    direction, answered_type = _ANSWERS[message.message_type]
    origin = session.scalar(
        select(XdomeaMessage).where(
            XdomeaMessage.uuid == message.origin_uuid,
            XdomeaMessage.request_id == request.id,
            XdomeaMessage.direction == direction,
            XdomeaMessage.message_type == answered_type,
        )
    )
    if origin is None:
        raise XdomeaRejected(
            f"the {message.message_type} answers message {message.origin_uuid}, which is no "
            f"{answered_type} of this process"
        )
    result = Receive4(message.message_type, message.process_id, acknowledged=origin.uuid)
    carried = set(json.loads(origin.objects))
    # Cases of this request the message did not carry may not be answered through it; an
    # archive's entries for the processes and documents inside are accepted as before.
    others = {str(i.case.uuid) for i in request.items} - carried
    if message.message_type == disposal.APPRAISAL:
        for object_id, decision in message.decisions.items():
            if object_id in others:
                raise XdomeaRejected(f"object {object_id} was not offered in {origin.uuid}")
            if decision not in ("A", "V"):
                raise XdomeaRejected(f"object {object_id}: appraisal {decision!r}, not A or V")
        applied = _apply_appraisal(session, request, message)
        result.archived, result.destroy = applied.archived, applied.destroy
    elif message.message_type == disposal.IMPORT_CONFIRMATION:
        for entry in message.results:
            if entry.object_id in others:
                raise XdomeaRejected(f"object {entry.object_id} was not in the 0503 {origin.uuid}")
        applied = _apply_confirmation(session, request, message)
        result.archived, result.failed = applied.archived, applied.failed
    else:  # a receipt: which of our messages arrived
        origin.receipt_uuid = message.message_uuid
    archive = session.get(XdomeaArchive, origin.archive_id) if origin.archive_id else None
    digest = hashlib.sha256(xml).hexdigest()
    outcome = {"archived": result.archived, "destroy": result.destroy, "failed": result.failed}
    _record(
        session,
        actor,
        request,
        archive,
        uuid=message.message_uuid,
        direction="in",
        message_type=message.message_type,
        number=message.number,
        total=message.total,
        origin=origin.uuid,
        file_name=name,
        sha256=digest,
        outcome=outcome,
    )
    if message.message_type == disposal.APPRAISAL and message.wants_receipt:
        head = _head(session, actor, request, archive.name if archive else message.author)
        result.reply = disposal.receipt(disposal.APPRAISAL_RECEIVED, head, message.message_uuid)
        result.reply_name = containers.message_name(
            request.xdomea_process_id, disposal.APPRAISAL_RECEIVED, 1
        )
        _record(
            session,
            actor,
            request,
            archive,
            uuid=head.message_uuid,
            direction="out",
            message_type=disposal.APPRAISAL_RECEIVED,
            origin=message.message_uuid,
            file_name=result.reply_name,
        )
    audit.record(
        session,
        actor,
        "xdomea_receive",
        request,
        message=message.message_type,
        version="4.0.0",
        file=name,
        sha256=digest,
        archived=result.archived,
        destroy=result.destroy,
        failed=result.failed,
    )
    return result


def list_messages(session: Session, actor: User, limit: int = 500) -> list[XdomeaMessage]:
    """The tenant's xdomea 4.0.0 messages, newest first."""
    require(session, actor, Action.dispose)
    return list(
        session.scalars(
            select(XdomeaMessage)
            .where(XdomeaMessage.tenant_id == actor.tenant_id)
            .order_by(XdomeaMessage.id.desc())
            .limit(limit)
        )
    )
