"""Cases (Akten), processes (Vorgänge), documents and their file versions."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from eakte.models.base import Base, CreatedMixin, UuidMixin
from eakte.models.fileplan import FilePlanNode
from eakte.models.migration import MigrationRun


class CaseStatus(enum.StrEnum):
    open = "open"
    closed = "closed"  # zdA, zu den Akten


class DocumentStatus(enum.StrEnum):
    received = "received"  # original stored, text not yet extracted
    processing = "processing"
    ready = "ready"
    failed = "failed"
    destroyed = "destroyed"  # R10: content gone; the row stays for the certificate's sake
    # Set aside from the inbox (issue 13): nothing can delete its objects before their floor
    # runs out, so they are kept, not extended, and run out; the row and its audit trail stay.
    discarded = "discarded"


class VersionKind(enum.StrEnum):
    original = "original"
    rendition = "rendition"  # archival PDF/A


class Case(UuidMixin, CreatedMixin, Base):
    __tablename__ = "case_record"
    __table_args__ = (UniqueConstraint("tenant_id", "file_reference"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenant.id"), index=True)
    node_id: Mapped[int] = mapped_column(ForeignKey("file_plan_node.id"), index=True)
    org_unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_unit.id"), index=True)
    file_reference: Mapped[str] = mapped_column(String(120))
    title: Mapped[str] = mapped_column(String(500))
    description: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default=CaseStatus.open.value, index=True)
    closed_at: Mapped[date | None]
    schedule_id: Mapped[int] = mapped_column(ForeignKey("retention_schedule.id"))
    schedule_override_reason: Mapped[str] = mapped_column(Text, default="")
    event_date: Mapped[date | None]  # for schedules triggered by an event (e.g. permit expiry)
    restricted: Mapped[bool] = mapped_column(default=False)  # R24, DSGVO Art. 18
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    # Set by retention/: the first day the case may be disposed of (None: open or permanent).
    retention_end: Mapped[date | None] = mapped_column(index=True)
    # '', 'transferred' (to the archive) or 'destroyed'; a disposed case stays as a tombstone.
    disposal_state: Mapped[str] = mapped_column(String(16), default="")
    archive_id: Mapped[str] = mapped_column(String(200), default="")
    # Closure, reopening or a schedule change moved the S3 retain-until of the case's objects;
    # a retention job applies it after the commit (S3 calls never run inside a transaction).
    object_lock_pending: Mapped[bool] = mapped_column(default=False, index=True)
    # The search index follows the database: services mark what changed, the indexer catches up.
    index_dirty: Mapped[bool] = mapped_column(default=True, index=True)
    index_version: Mapped[int] = mapped_column(default=0, index=True)  # issue 5, migration 0005
    # Brought in from a paper archive as it was (issue 21): by which run, from which box/shelf.
    migration_run_id: Mapped[int | None] = mapped_column(ForeignKey("migration_run.id"), index=True)
    migration_box: Mapped[str] = mapped_column(String(200), default="")

    processes: Mapped[list[Process]] = relationship(
        back_populates="case", order_by="Process.number"
    )
    node: Mapped[FilePlanNode] = relationship()
    migration_run: Mapped[MigrationRun | None] = relationship()

    @property
    def is_closed(self) -> bool:
        return self.status == CaseStatus.closed


class Process(UuidMixin, CreatedMixin, Base):
    """A Vorgang: one business transaction inside a case."""

    __tablename__ = "process"
    __table_args__ = (UniqueConstraint("case_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenant.id"), index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_record.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(16), default=CaseStatus.open.value)
    closed_at: Mapped[date | None]

    case: Mapped[Case] = relationship(back_populates="processes")

    @property
    def is_closed(self) -> bool:
        return self.status == CaseStatus.closed


class Document(UuidMixin, CreatedMixin, Base):
    """A document: in the inbox of its org unit until filed into a process."""

    __tablename__ = "document"
    __table_args__ = (UniqueConstraint("tenant_id", "source_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenant.id"), index=True)
    process_id: Mapped[int | None] = mapped_column(ForeignKey("process.id"), index=True)
    inbox_org_unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_unit.id"), index=True)
    scan_batch_id: Mapped[int | None] = mapped_column(ForeignKey("scan_batch.id"), index=True)
    title: Mapped[str] = mapped_column(String(500))
    doc_type: Mapped[str] = mapped_column(String(100), default="")
    correspondent: Mapped[str] = mapped_column(String(300), default="")
    received_date: Mapped[date | None]
    status: Mapped[str] = mapped_column(String(16), default=DocumentStatus.received.value)
    failure_reason: Mapped[str] = mapped_column(Text, default="")
    extracted_text: Mapped[str] = mapped_column(Text, default="")
    page_count: Mapped[int | None]
    sha256: Mapped[str] = mapped_column(String(64), index=True)  # of the original
    source: Mapped[str] = mapped_column(String(300), default="")
    restricted: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[datetime | None]
    # Where it came from, unique per tenant (e.g. an import file's path, an API idempotency key):
    # a re-run after a crash finds the document instead of adding it twice.
    source_key: Mapped[str | None] = mapped_column(String(1024))
    duplicate_of_id: Mapped[int | None] = mapped_column(ForeignKey("document.id"))
    flags: Mapped[str] = mapped_column(String(200), default="")  # e.g. "javascript,embedded"
    index_dirty: Mapped[bool] = mapped_column(default=True, index=True)
    index_version: Mapped[int] = mapped_column(default=0, index=True)  # issue 5, migration 0005
    # Zuweisung: the person who is to handle it (migration 0018); the desk lists it for them.
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    assigned_at: Mapped[datetime | None]

    process: Mapped[Process | None] = relationship()
    versions: Mapped[list[FileVersion]] = relationship(
        back_populates="document", order_by="FileVersion.id"
    )


class FileVersion(UuidMixin, CreatedMixin, Base):
    __tablename__ = "file_version"
    # Object Lock and disposal go from a stored object to the versions that keep it (the
    # floor's extension, the retention check, destruction): without it, a table scan each.
    __table_args__ = (Index("ix_file_version_s3_key", "s3_key", "s3_version_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    stored_object_id: Mapped[int] = mapped_column(ForeignKey("stored_object.id"))
    s3_key: Mapped[str] = mapped_column(String(1024))
    s3_version_id: Mapped[str] = mapped_column(String(128))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    mime: Mapped[str] = mapped_column(String(127))
    filename: Mapped[str] = mapped_column(String(300), default="")

    document: Mapped[Document] = relationship(back_populates="versions")
