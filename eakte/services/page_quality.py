"""The recognition quality of a scan batch's pages in its quality check (issue 18,
TR-RESISCAN): pages below the thresholds first, a person accepts them or has them re-scanned
(``scanning.replace_page``), the batch passes only when none is left open, and the transfer
note records the check."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from eakte import audit
from eakte.db import transaction
from eakte.errors import BadInput, PagesUnchecked
from eakte.ingest.page_quality import MIN_CONFIDENCE, MIN_SHARE
from eakte.models import Document, ScanBatch, User
from eakte.models.base import utcnow
from eakte.models.ingest import TransferNote
from eakte.models.recognition import PageQuality, PageVerdict
from eakte.permissions import Action, require
from eakte.services.guard import audited_refusals, load


@dataclass(frozen=True)
class PageRow:
    document_id: int
    document_uuid: str
    title: str
    page: int
    confidence: float | None
    dictionary_share: float | None
    words: int
    verdict: str
    checked_at: datetime | None

    def as_dict(self) -> dict:
        return {
            "document": self.document_uuid,
            "title": self.title,
            "page": self.page,
            "confidence": None if self.confidence is None else round(self.confidence, 1),
            "dictionary_share": (
                None if self.dictionary_share is None else round(self.dictionary_share, 3)
            ),
            "words": self.words,
            "verdict": self.verdict,
        }


@dataclass(frozen=True)
class QualitySummary:
    pages: int
    low: int  # below a threshold and not yet accepted
    accepted: int
    rescanned: int  # pages replaced by a re-scan in this batch

    def as_dict(self) -> dict:
        return {
            "pages_assessed": self.pages,
            "low_open": self.low,
            "accepted": self.accepted,
            "rescanned": self.rescanned,
            "min_confidence": MIN_CONFIDENCE,
            "min_dictionary_share": MIN_SHARE,
        }

    def note(self, actor: User, when: datetime) -> str:
        """The line the transfer note gets when the batch passes."""
        return (
            f"recognition quality check {when.isoformat(timespec='minutes')} by "
            f"{actor.username}: {self.pages} pages assessed (thresholds: confidence "
            f"{MIN_CONFIDENCE:g}, dictionary share {MIN_SHARE:.0%}), {self.accepted} below "
            f"accepted, {self.rescanned} re-scanned, {self.low} open"
        )


_LOW_FIRST = case((PageQuality.verdict == PageVerdict.low.value, 0), else_=1)


def batch_pages(session: Session, batch: ScanBatch, only_low: bool = False) -> list[PageRow]:
    """The assessed pages of the batch (the caller checked access): open low pages first,
    worst first, then the rest in document order."""
    query = (
        select(PageQuality, Document.uuid, Document.title)
        .join(Document, Document.id == PageQuality.document_id)
        .where(Document.scan_batch_id == batch.id)
        .order_by(_LOW_FIRST, func.coalesce(PageQuality.confidence, -1), Document.id)
        .order_by(PageQuality.page)
    )
    if only_low:
        query = query.where(PageQuality.verdict == PageVerdict.low.value)
    return [
        PageRow(
            row.document_id,
            str(uuid),
            title,
            row.page,
            row.confidence,
            row.dictionary_share,
            row.words,
            row.verdict,
            row.checked_at,
        )
        for row, uuid, title in session.execute(query)
    ]


def summary(session: Session, batch: ScanBatch) -> QualitySummary:
    counts = dict(
        session.execute(
            select(PageQuality.verdict, func.count(PageQuality.id))
            .join(Document, Document.id == PageQuality.document_id)
            .where(Document.scan_batch_id == batch.id)
            .group_by(PageQuality.verdict)
        ).all()
    )
    rescanned = session.scalar(
        select(func.count(TransferNote.id))
        .join(Document, Document.id == TransferNote.document_id)
        .where(Document.scan_batch_id == batch.id, TransferNote.method == "rescan")
    )
    return QualitySummary(
        pages=sum(counts.values()),
        low=counts.get(PageVerdict.low.value, 0),
        accepted=counts.get(PageVerdict.accepted.value, 0),
        rescanned=rescanned or 0,
    )


def before_pass(session: Session, actor: User, batch: ScanBatch) -> None:
    """Within ``scanning.qc_pass``'s transaction: refuse while low pages are open, else
    record the check in the batch's transfer note (R16)."""
    found = summary(session, batch)
    if found.low:
        raise PagesUnchecked(
            f"batch {batch.name!r} has {found.low} page(s) below the recognition quality "
            "threshold: accept them or replace them by a re-scan"
        )
    line = found.note(actor, utcnow())
    batch.transfer_note = f"{batch.transfer_note.rstrip()}\n{line}".strip()


@audited_refusals
def accept_page(
    session: Session, actor: User, document_ident: int | str, page: int, note: str = ""
) -> PageQuality:
    """A person looked at a page below the thresholds and keeps it as it is."""
    with transaction(session):
        document = load(session, actor, Document, document_ident)
        require(session, actor, Action.qc_scan, document)
        row = session.scalar(
            select(PageQuality).where(
                PageQuality.document_id == document.id, PageQuality.page == page
            )
        )
        if row is None:
            raise BadInput(f"page {page} of document {document.uuid} was not assessed")
        if row.verdict not in (PageVerdict.low, PageVerdict.accepted):
            raise BadInput(f"page {page} is not below the quality thresholds")
        previous = row.verdict
        row.verdict, row.checked_by_id, row.checked_at = (
            PageVerdict.accepted.value,
            actor.id,
            utcnow(),
        )
        audit.record(
            session,
            actor,
            "accept_page",
            document,
            page=page,
            note=note,
            confidence=row.confidence,
            dictionary_share=row.dictionary_share,
            changes={"verdict": [previous, row.verdict]},
        )
    return row
