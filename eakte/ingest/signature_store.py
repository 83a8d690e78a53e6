"""The validated signatures of a document, kept in ``pdf_signature`` (issue 25)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from eakte.ingest.signatures import SignatureResult, Status
from eakte.models.base import utcnow
from eakte.models.signatures import PdfSignature


def replace(
    session: Session,
    document_id: int,
    results: list[SignatureResult],
    validated_at: datetime | None = None,
) -> None:
    """The document's signatures as ``results`` say (inside the caller's transaction)."""
    at = validated_at or utcnow()
    session.execute(delete(PdfSignature).where(PdfSignature.document_id == document_id))
    for position, result in enumerate(results):
        session.add(
            PdfSignature(
                document_id=document_id,
                position=position,
                field_name=result.field_name[:300],
                signer=result.signer[:300],
                organisation=result.organisation[:300],
                email=result.email[:300],
                signing_time=result.signing_time,
                timestamp_time=result.timestamp_time,
                status=result.status.value,
                trusted=result.trusted,
                whole_document=result.whole_document,
                modified_after_signing=result.modified_after_signing,
                qualified=result.qualified,
                details=result.details_text,
                validated_at=at,
            )
        )


def of_document(session: Session, document_id: int) -> list[PdfSignature]:
    return list(
        session.scalars(
            select(PdfSignature)
            .where(PdfSignature.document_id == document_id)
            .order_by(PdfSignature.position)
        )
    )


def results_of(session: Session, document_id: int) -> list[SignatureResult]:
    """Stored rows back as results (a duplicate takes over its first copy's findings)."""
    return [
        SignatureResult(
            field_name=row.field_name,
            status=Status(row.status),
            signer=row.signer,
            organisation=row.organisation,
            email=row.email,
            signing_time=row.signing_time,
            timestamp_time=row.timestamp_time,
            trusted=row.trusted,
            modified_after_signing=row.modified_after_signing,
            whole_document=row.whole_document,
            qualified=row.qualified,
            details=[row.details] if row.details else [],
        )
        for row in of_document(session, document_id)
    ]
