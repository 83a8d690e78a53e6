"""Ingest: quarantined files, transfer notes (R16) and the processing claim of each document."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from eakte.models.base import Base, CreatedMixin, UuidMixin


class QuarantineState(enum.StrEnum):
    open = "open"
    resolved = "resolved"  # someone looked at it and noted what was done


class QuarantinedFile(UuidMixin, CreatedMixin, Base):
    """A rejected input, kept with its reason: nothing is silently dropped.

    The bytes (if there were any) stay under the quarantine prefix in S3; the original file
    name is kept as bytes (base64) beside the sanitised one shown to people.
    """

    __tablename__ = "quarantined_file"
    __table_args__ = (UniqueConstraint("tenant_id", "source_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenant.id"), index=True)
    filename: Mapped[str] = mapped_column(String(300))
    filename_raw: Mapped[str] = mapped_column(Text, default="")  # base64 of the name's bytes
    reason_code: Mapped[str] = mapped_column(String(40), index=True)
    reason: Mapped[str] = mapped_column(Text)  # English, for logs and the CLI
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int] = mapped_column(BigInteger)
    detected_mime: Mapped[str] = mapped_column(String(127), default="")
    source: Mapped[str] = mapped_column(String(300), default="")
    source_key: Mapped[str | None] = mapped_column(String(1024))
    stored_object_id: Mapped[int | None] = mapped_column(ForeignKey("stored_object.id"))
    s3_key: Mapped[str] = mapped_column(String(1024), default="")  # '' when there were no bytes
    scan_batch_id: Mapped[int | None] = mapped_column(ForeignKey("scan_batch.id"), index=True)
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    submitted_by: Mapped[str] = mapped_column(String(200), default="")  # user or API client
    # R22: the inbox it was meant for; who may see the entry follows from it
    org_unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_unit.id"), index=True)
    state: Mapped[str] = mapped_column(String(16), default=QuarantineState.open.value, index=True)
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    resolved_at: Mapped[datetime | None]
    resolution_note: Mapped[str] = mapped_column(Text, default="")


class TransferNote(CreatedMixin, Base):
    """R16: the sha256 of a scan product (any accepted file) when it entered the system, with
    who, when (``created_at``), how and what was unusual; a later mismatch is an alarm."""

    __tablename__ = "transfer_note"

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenant.id"), index=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id"), index=True)
    file_version_id: Mapped[int] = mapped_column(ForeignKey("file_version.id"), unique=True)
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    received_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    received_by: Mapped[str] = mapped_column(String(200), default="")
    method: Mapped[str] = mapped_column(String(40))  # upload, api, import, watch, rescan
    source: Mapped[str] = mapped_column(Text, default="")
    filename_raw: Mapped[str] = mapped_column(Text, default="")
    anomalies: Mapped[str] = mapped_column(Text, default="")


class IngestTask(Base):
    """Who is processing a document: the claim that makes a job safe to run twice.

    ``claimed_by`` names host, process (with its start time) and job; a claim whose process is
    gone, or not renewed within the lease, is stale and ``recover`` hands the document to a
    new job.
    """

    __tablename__ = "ingest_task"

    document_id: Mapped[int] = mapped_column(ForeignKey("document.id"), primary_key=True)
    attempts: Mapped[int] = mapped_column(default=0)
    claimed_by: Mapped[str] = mapped_column(String(200), default="")
    claimed_at: Mapped[datetime | None]
    last_error: Mapped[str] = mapped_column(Text, default="")
