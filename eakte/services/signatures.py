"""The validated signatures of a document, as the web and the API show them (issue 25).

The one way in for the web: it never reads ``eakte.ingest.signature_store`` itself.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import object_session

from eakte.ingest.signature_store import of_document
from eakte.models import Document
from eakte.models.signatures import PdfSignature


def signatures_of(document: Document) -> list[PdfSignature]:
    """The signatures of a document the caller has loaded (and so may see), in signing
    order, read in the document's session."""
    session = object_session(document)
    if session is None or document.id is None:
        return []
    return of_document(session, document.id)


def signature_json(row: PdfSignature) -> dict[str, Any]:
    """The API's view of one signature."""
    return {
        "field": row.field_name,
        "signer": row.signer,
        "organisation": row.organisation,
        "email": row.email,
        "signing_time": row.signing_time.isoformat() if row.signing_time else None,
        "timestamp_time": row.timestamp_time.isoformat() if row.timestamp_time else None,
        "status": row.status,
        "trusted": row.trusted,
        "whole_document": row.whole_document,
        "modified_after_signing": row.modified_after_signing,
        "qualified": row.qualified,
        "details": row.details,
        "validated_at": row.validated_at.isoformat() if row.validated_at else None,
    }
