"""Abgabe to another authority or system (issue 27): cases written as a 0401 container with
their documents, and the receiver's 0402 / 0403 applied to the messages sent.

A handed-over case stays here as it is (responsibility moving is the receiver's 0402 and a
records officer's decision); the message, the receipt and the per-object outcome are kept.
"""

from __future__ import annotations

import hashlib
import json
import uuid as uuidlib
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from eakte import audit
from eakte.db import transaction
from eakte.errors import BadInput, XdomeaRejected
from eakte.models import OrgUnit, Tenant, User
from eakte.permissions import Action, require
from eakte.services.cases import find_case
from eakte.services.guard import audited_refusals
from retention.transfer import copier
from retention.xdomea4 import abgabe, containers
from retention.xdomea4.header import Head
from retention.xdomea4.models import XdomeaMessage
from storage.blobstore import BlobStore

MAX_CASES = 10_000  # per 0401; a larger handover is several


@dataclass
class Handover:
    path: Path
    process_id: str
    message_uuid: str
    sha256: str
    cases: list[str] = field(default_factory=list)
    files: int = 0


@audited_refusals
def export_handover(
    session: Session,
    actor: User,
    store: BlobStore,
    case_idents: list[str | int],
    out_dir: Path,
    *,
    recipient: str,
) -> Handover:
    """The 0401 container ``<ProzessID>_0401_1.zip`` of the cases, every file read back from
    S3 with its sha256 checked while packed."""
    from retention.xdomea4.entries import case_obj

    if not case_idents or len(case_idents) > MAX_CASES:
        raise BadInput(f"a handover takes 1 to {MAX_CASES} cases")
    if not recipient.strip():
        raise BadInput("a handover needs the receiving authority or system")
    require(session, actor, Action.dispose)  # a records officer hands files over
    with transaction(session):
        entries = []
        for ident in case_idents:
            case = find_case(session, actor, ident)
            require(session, actor, Action.download, case)
            entries.append(case_obj(session, case, content=True))
        tenant = session.get_one(Tenant, actor.tenant_id)
        unit = session.get(OrgUnit, actor.org_unit_id) if actor.org_unit_id else None
    head = Head(str(uuidlib.uuid4()), tenant.name, recipient.strip(), unit.name if unit else "")
    xml = abgabe.handover(head, entries)
    path = Path(out_dir) / containers.container_name(head.process_id, abgabe.HANDOVER, 1)
    members: list[containers.Member] = [
        (
            containers.message_name(head.process_id, abgabe.HANDOVER, 1),
            containers.bytes_writer(xml),
            True,
        )
    ]
    files = [f for case in entries for f in case.files()]
    members += [(f.package_name, copier(store, f), False) for f in files]
    digest = containers.write(path, members)
    result = Handover(path, head.process_id, head.message_uuid, digest, files=len(files))
    result.cases = [c.reference for c in entries]
    with transaction(session):
        session.add(
            XdomeaMessage(
                uuid=head.message_uuid,
                tenant_id=actor.tenant_id,
                process_id=head.process_id,
                direction="out",
                message_type=abgabe.HANDOVER,
                file_name=path.name,
                sha256=digest,
                objects=json.dumps([c.uuid for c in entries]),
                outcome=json.dumps({"recipient": recipient}, ensure_ascii=False),
                user_id=actor.id,
            )
        )
        audit.record(
            session,
            actor,
            "export",
            message=abgabe.HANDOVER,
            tenant_id=actor.tenant_id,
            recipient=recipient,
            cases=result.cases,
            files=result.files,
            file=path.name,
            sha256=digest,
        )
    return result


@dataclass
class AnswerResult:
    message_type: str
    answered: str
    taken: list[str] = field(default_factory=list)
    refused: dict[str, list[str]] = field(default_factory=dict)


@audited_refusals
def receive_answer(session: Session, actor: User, data: bytes, *, name: str = "") -> AnswerResult:
    """Apply a receiver's 0402 or 0403 to the 0401 it answers — all of it, or nothing."""
    require(session, actor, Action.dispose)
    answer = abgabe.read_answer(data, name)
    with transaction(session):
        origin = session.scalar(
            select(XdomeaMessage).where(
                XdomeaMessage.tenant_id == actor.tenant_id,
                XdomeaMessage.uuid == answer.head.origin_uuid,
                XdomeaMessage.direction == "out",
                XdomeaMessage.message_type == abgabe.HANDOVER,
            )
        )
        if origin is None or origin.process_id != answer.head.process_id:
            raise XdomeaRejected(
                f"the {answer.head.message_type} answers {answer.head.origin_uuid}, which is no "
                "0401 of this installation and process"
            )
        if session.scalar(
            select(XdomeaMessage.id).where(XdomeaMessage.uuid == answer.head.message_uuid)
        ):
            raise XdomeaRejected(f"message {answer.head.message_uuid} was received before")
        carried = set(json.loads(origin.objects))
        result = AnswerResult(answer.head.message_type, origin.uuid)
        for entry in answer.results:
            if entry.object_id not in carried:
                raise XdomeaRejected(
                    f"object {entry.object_id} was not handed over in {origin.uuid}"
                )
            if entry.success:
                result.taken.append(entry.object_id)
            else:
                result.refused[entry.object_id] = entry.errors
        if answer.head.message_type == abgabe.RECEIVED:
            origin.receipt_uuid = answer.head.message_uuid
        else:
            state = json.loads(origin.outcome or "{}")
            state.update(taken=result.taken, refused=result.refused)
            origin.outcome = json.dumps(state, ensure_ascii=False)
        session.add(
            XdomeaMessage(
                uuid=answer.head.message_uuid,
                tenant_id=actor.tenant_id,
                process_id=origin.process_id,
                direction="in",
                message_type=answer.head.message_type,
                origin_uuid=origin.uuid,
                file_name=name,
                sha256=hashlib.sha256(data).hexdigest(),
                outcome=json.dumps(
                    {"taken": result.taken, "refused": result.refused}, ensure_ascii=False
                ),
                user_id=actor.id,
            )
        )
        audit.record(
            session,
            actor,
            "xdomea_receive",
            message=answer.head.message_type,
            tenant_id=actor.tenant_id,
            answered=origin.uuid,
            taken=result.taken,
            refused=sorted(result.refused),
        )
    return result
