"""What the intake steps share: the context of one file's intake and its outcome (see
:mod:`eakte.ingest.intake`)."""

from __future__ import annotations

import enum
import uuid as uuidlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from eakte.ingest.reasons import Rejected
from eakte.ingest.validate import Inspection, Limits
from eakte.models import Document, StoredObject, Tenant, User
from eakte.models.ingest import QuarantinedFile
from eakte.services.fields import FieldValue

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from storage.blobstore import BlobStore


class Outcome(enum.StrEnum):
    accepted = "accepted"
    duplicate = "duplicate"  # accepted, linked to the document with the same bytes
    existing = "existing"  # this source was taken in before (a re-run): nothing done
    quarantined = "quarantined"


@dataclass(frozen=True)
class DocumentMetadata:
    title: str = ""  # default: from the file name
    doc_type: str = ""
    correspondent: str = ""
    received_date: date | None = None


@dataclass
class IntakeResult:
    outcome: Outcome
    document: Document | None = None
    quarantined: QuarantinedFile | None = None
    reason_code: str = ""
    reason: str = ""  # English, for logs and the CLI
    attachments: list[IntakeResult] = field(default_factory=list)  # a mail message's

    @property
    def accepted(self) -> bool:
        return self.outcome in (Outcome.accepted, Outcome.duplicate)


@dataclass
class IntakeContext:
    # what the caller gives
    tenant: Tenant
    user: User | None  # the person (None for an API client)
    submitted_by: str  # user name or API client name, for the record
    data: Path | BinaryIO | None  # a file to read in place, or a stream to spool
    filename_raw: bytes
    metadata: DocumentMetadata
    inbox_org_unit_id: int | None  # the inbox's org unit (the case's when filed into a process)
    process_id: int | None
    method: str  # upload, api, import, watch
    source: str  # where it came from, readable (a path, "web upload", the client)
    source_key: str | None
    scan_batch_id: int | None
    limits: Limits
    spool_dir: Path
    mail_depth: int = 0  # messages around this file (an attachment of a mail: 1)
    # what the steps learn
    filename: str = ""
    uuid: uuidlib.UUID | None = None
    path: Path | None = None
    spooled: bool = False
    size: int = 0
    sha256: str = ""
    mime: str = ""
    inspection: Inspection | None = None
    rejection: Rejected | None = None
    duplicate_of: Document | None = None
    duplicate_seen: bool = False  # the uploader may see ``duplicate_of`` (else: no oracle)
    stored: StoredObject | None = None
    text_pages: list[str] | None = None  # a born-digital PDF's text layer, read at intake
    fields: list[FieldValue] = field(default_factory=list)  # read from the content (e-invoice)
    result: IntakeResult | None = None

    # What a step may count on once the steps before it ran (a bug if not).
    @property
    def file(self) -> Path:
        """The bytes as a local file (``read_bytes``)."""
        if self.path is None:
            raise RuntimeError("the bytes were not read")
        return self.path

    @property
    def identity(self) -> uuidlib.UUID:
        """The document's UUID (``find_existing``)."""
        if self.uuid is None:
            raise RuntimeError("no identity was given")
        return self.uuid

    @property
    def checked(self) -> Inspection:
        """What ``check_content`` found."""
        if self.inspection is None:
            raise RuntimeError("the content was not checked")
        return self.inspection


Step = Callable[["Session", "BlobStore", IntakeContext], None]
