"""R11: the destruction certificate — a database row and a PDF kept permanently.

The certificate names what was destroyed (UUIDs, file reference, title, file-plan node, dates,
schedule), who proposed and who approved, when and how, and the sha256 of every file; it never
holds content. The PDF lives under ``{tenant}/certificates/`` with a permanent COMPLIANCE
retain-until, registered like every other object so that ``eakte verify`` checks it.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import XPos, YPos
from sqlalchemy import select
from sqlalchemy.orm import Session

from eakte.db import transaction
from eakte.models import FilePlanNode, OrgUnit, RetentionSchedule, StoredObject, Tenant, User
from eakte.permissions import Action, require
from eakte.ports import VersionLock
from eakte.services.cases import find_case
from eakte.services.guard import load
from eakte.services.objects import found_row, latest_version, put_object
from retention.models import DestructionCertificate, DisposalItem, DisposalRequest
from retention.rules import PERMANENT_RETAIN_UNTIL
from storage.blobstore import BlobStore
from storage.errors import IntegrityError

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def build_certificate(
    session: Session,
    item: DisposalItem,
    *,
    executed_by: str,
    destroyed_at,
    method: str,
) -> DestructionCertificate:
    """A certificate for the item's case, added to the caller's transaction."""
    case = item.case
    request: DisposalRequest = item.request
    node = session.get_one(FilePlanNode, case.node_id)
    schedule = session.get_one(RetentionSchedule, case.schedule_id)
    unit = session.get(OrgUnit, case.org_unit_id) if case.org_unit_id else None
    users: dict[int | None, str] = {
        u.id: u.username
        for u in session.scalars(
            select(User).where(User.id.in_([request.proposed_by_id, request.decided_by_id or 0]))
        )
    }
    certificate = DestructionCertificate(
        tenant_id=case.tenant_id,
        case_id=case.id,
        request_id=request.id,
        case_uuid=str(case.uuid),
        file_reference=case.file_reference,
        title=case.title,
        node_code=node.code,
        node_title=node.title,
        org_unit=f"{unit.code} {unit.name}" if unit else "",
        dates=json.dumps(
            {
                "created": _iso(case.created_at.date()),
                "closed": _iso(case.closed_at),
                "event": _iso(case.event_date),
                "retention_end": _iso(case.retention_end),
            }
        ),
        schedule=json.dumps(
            {
                "name": schedule.name,
                "legal_basis": schedule.legal_basis,
                "period_years": schedule.period_years,
                "trigger": schedule.trigger,
                "trigger_event": schedule.trigger_event,
                "action": schedule.action,
                "override_reason": case.schedule_override_reason,
            },
            ensure_ascii=False,
        ),
        proposer=users.get(request.proposed_by_id, ""),
        approver=users.get(request.decided_by_id, ""),
        executed_by=executed_by,
        destroyed_at=destroyed_at,
        method=method,
        archive_id=item.archive_id,
        manifest=item.progress,
    )
    session.add(certificate)
    session.flush()
    return certificate


def render_pdf(certificate: DestructionCertificate) -> bytes:
    """The certificate as a PDF (German and English labels, no content of the case)."""
    dates = json.loads(certificate.dates)
    schedule = json.loads(certificate.schedule)
    period = (
        "dauernd / permanent"
        if schedule.get("period_years") is None
        else f"{schedule['period_years']} Jahre / years"
    )
    rows = [
        ("Nachweis-UUID / Certificate", str(certificate.uuid)),
        ("Akten-UUID / Case UUID", certificate.case_uuid),
        ("Aktenzeichen / File reference", certificate.file_reference),
        ("Titel / Title", certificate.title),
        ("Aktenplan / File plan", f"{certificate.node_code} {certificate.node_title}"),
        ("Organisationseinheit / Org unit", certificate.org_unit or "-"),
        ("Angelegt / Created", dates.get("created") or "-"),
        ("zdA / Closed", dates.get("closed") or "-"),
        ("Ereignis / Event", dates.get("event") or "-"),
        ("Aufbewahrung bis / Retention end", dates.get("retention_end") or "-"),
        ("Frist / Schedule", f"{schedule.get('name')}: {period}, {schedule.get('action')}"),
        ("Rechtsgrundlage / Legal basis", schedule.get("legal_basis") or "-"),
        ("Vorgeschlagen / Proposed by", certificate.proposer),
        ("Genehmigt / Approved by", certificate.approver),
        ("Ausgeführt / Executed by", certificate.executed_by),
        ("Zeitpunkt / Time (UTC)", certificate.destroyed_at.isoformat(timespec="seconds")),
        ("Verfahren / Method", certificate.method),
        ("Archivkennung / Archive id", certificate.archive_id or "-"),
    ]
    files = []
    for document in json.loads(certificate.manifest):
        files.append(f"Dokument {document['uuid']}: {document['title']}")
        files.extend(
            f"   {e['kind']} {e['uuid']} {e['size']} B  sha256 {e['sha256']}"
            for e in document["files"]
        )
    title = "Vernichtungsnachweis / Destruction certificate"
    heading = "Vernichtete Dateien (SHA-256) / Destroyed files"

    pdf = FPDF(format="A4")
    pdf.set_creation_date(certificate.destroyed_at)
    pdf.set_title(f"Vernichtungsnachweis {certificate.file_reference}")
    pdf.set_creator("eAkte")
    texts = [title, heading, *files, *(f"{a} {b}" for a, b in rows)]
    font, text = _font(pdf, texts)

    def line(size: float, height: float, value: str) -> None:
        pdf.set_font(font, size=size)
        pdf.multi_cell(0, height, text(value), new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    pdf.add_page()
    line(15, 8, title)
    for label, value in rows:
        pdf.set_font(font, size=9)
        pdf.cell(62, 5.5, text(label))
        line(9, 5.5, value)
    pdf.ln(3)
    line(11, 7, heading)
    for entry in files:
        line(7, 4.5, entry)
    return bytes(pdf.output())


def _font(pdf: FPDF, texts: list[str]):
    """(font, text mapper): the built-in Helvetica when every text is Latin-1 (fast, the
    usual case), else DejaVu Sans where installed; without it, other characters are replaced
    in the PDF only — the database row keeps the exact text."""
    latin = all(_is_latin1(t) for t in texts)
    regular = FONT_DIR / "DejaVuSans.ttf"
    if not latin and regular.exists():
        pdf.add_font("DejaVu", "", str(regular))
        return "DejaVu", lambda value: value
    return "Helvetica", lambda value: value.encode("latin-1", "replace").decode("latin-1")


def _is_latin1(value: str) -> bool:
    try:
        value.encode("latin-1")
    except UnicodeEncodeError:
        return False
    return True


def pdf_key(session: Session, certificate: DestructionCertificate) -> str:
    slug = session.scalar(select(Tenant.slug).where(Tenant.id == certificate.tenant_id))
    return f"{slug}/certificates/{certificate.uuid}.pdf"


def store_pdf(session: Session, store: BlobStore, certificate_id: int) -> None:
    """Render and store the PDF once; a rerun after a crash registers what is already there."""
    certificate = session.get_one(DestructionCertificate, certificate_id)
    if certificate.pdf_key:
        return
    key = pdf_key(session, certificate)
    data = render_pdf(certificate)
    tenant_id = certificate.tenant_id
    session.rollback()  # no transaction stays open while S3 is called
    found = latest_version(store, key)  # a rerun after a crash finds its own upload
    row: StoredObject | None = None
    stored_version: str | None
    stored_sha: str | None
    if found is None:
        row = put_object(
            store,
            tenant_id=tenant_id,
            key=key,
            source=io.BytesIO(data),
            length=len(data),
            content_type="application/pdf",
            lock=VersionLock(PERMANENT_RETAIN_UNTIL, False),
        )
        stored_version, stored_sha = row.version_id, row.sha256
    else:
        stored_version, stored_sha = found.version_id, found.sha256
    if stored_version is None or stored_sha is None:  # the bucket is versioned, our PUTs hash
        raise IntegrityError(key, stored_version, None, stored_sha, "no version id or sha256")
    store.set_retention(key, stored_version, PERMANENT_RETAIN_UNTIL)  # a rerun's version too
    with transaction(session):
        certificate = session.get_one(DestructionCertificate, certificate_id)
        if row is None:
            assert found is not None
            row = found_row(session, found, certificate.tenant_id, "application/pdf")
        row.retain_until = PERMANENT_RETAIN_UNTIL
        session.add(row)
        certificate.pdf_key, certificate.pdf_version_id = key, stored_version
        certificate.pdf_sha256 = stored_sha


def list_certificates(
    session: Session, actor: User, *, case: str | None = None
) -> list[DestructionCertificate]:
    require(session, actor, Action.dispose)
    query = select(DestructionCertificate).where(
        DestructionCertificate.tenant_id == actor.tenant_id
    )
    if case:
        found = find_case(session, actor, case)
        query = query.where(DestructionCertificate.case_id == found.id)
    return list(session.scalars(query.order_by(DestructionCertificate.id)))


def get_certificate(session: Session, actor: User, ident: str | int) -> DestructionCertificate:
    require(session, actor, Action.dispose)
    return load(session, actor, DestructionCertificate, ident)
