"""Tables of the xdomea 4.0.0 exchange (issue 27): the receiving archives and the version they
speak, every message sent or received, and every container taken in from another system.

Mapped on the shared ``eakte.models.Base``; registered for the migration environment through
``retention.models`` like the rest of the retention slice.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from eakte.models.base import Base, CreatedMixin, UuidMixin

DEFAULT_MAX_MESSAGE_BYTES = 2 * 1024**3  # primary documents per 0503 container before a split


class XdomeaArchive(UuidMixin, CreatedMixin, Base):
    """A receiving archive of a tenant, and the xdomea version it reads (3.1.0 or 4.0.0)."""

    __tablename__ = "xdomea_archive"
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenant.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    xdomea_version: Mapped[str] = mapped_column(String(8), default="3.1.0")
    # A 0503 whose primary documents pass this many bytes is split into several messages.
    max_message_bytes: Mapped[int] = mapped_column(BigInteger, default=DEFAULT_MAX_MESSAGE_BYTES)


class XdomeaMessage(CreatedMixin, Base):
    """One xdomea 4.0.0 message sent or received, by its ``nachrichtenUUID``.

    ``objects``: JSON list of the xdomeaUUIDs of the objects it carries; ``receipt_uuid``: the
    receipt (0504 / 0507 / 0512 / 0403 ...) that answered it; ``outcome``: JSON of what reading
    it did."""

    __tablename__ = "xdomea_message"

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenant.id"), index=True)
    request_id: Mapped[int | None] = mapped_column(ForeignKey("disposal_request.id"), index=True)
    archive_id: Mapped[int | None] = mapped_column(ForeignKey("xdomea_archive.id"))
    process_id: Mapped[str] = mapped_column(String(36), index=True)
    direction: Mapped[str] = mapped_column(String(3))  # "out" / "in"
    message_type: Mapped[str] = mapped_column(String(4))
    number: Mapped[int] = mapped_column(default=1)  # LfdNrNachrichtProTyp
    total: Mapped[int] = mapped_column(default=1)  # GesamtanzahlNachrichtenProTyp
    origin_uuid: Mapped[str] = mapped_column(String(36), default="")  # UUIDUrsprungsnachricht
    file_name: Mapped[str] = mapped_column(String(300), default="")
    sha256: Mapped[str] = mapped_column(String(64), default="")
    objects: Mapped[str] = mapped_column(Text, default="[]")
    receipt_uuid: Mapped[str] = mapped_column(String(36), default="")
    outcome: Mapped[str] = mapped_column(Text, default="{}")
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))


class ImportState(enum.StrEnum):
    refused = "refused"  # failed its checks; nothing of it was stored
    importing = "importing"  # checked; cases being created (resumable)
    done = "done"


class XdomeaImport(UuidMixin, CreatedMixin, Base):
    """A 0401 or 0503 container from another system, taken in under a file-plan node.

    ``report``: JSON list of problems (refused) or of what was created; ``progress``: JSON map
    of foreign xdomeaUUID → local id of what is already created, so a re-run after a crash
    continues where it stopped."""

    __tablename__ = "xdomea_import"

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenant.id"), index=True)
    container_sha256: Mapped[str] = mapped_column(String(64), index=True)
    file_name: Mapped[str] = mapped_column(String(300))
    message_uuid: Mapped[str] = mapped_column(String(36), default="")
    process_id: Mapped[str] = mapped_column(String(36), default="")
    message_type: Mapped[str] = mapped_column(String(4), default="")
    node_id: Mapped[int | None] = mapped_column(ForeignKey("file_plan_node.id"))
    state: Mapped[str] = mapped_column(String(16))
    report: Mapped[str] = mapped_column(Text, default="[]")
    progress: Mapped[str] = mapped_column(Text, default="{}")
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    finished_at: Mapped[datetime | None]


class ImportedObject(CreatedMixin, Base):
    """A case taken in from another system: its former reference and its history there
    (provenance), kept beside the case as they came."""

    __tablename__ = "xdomea_imported_object"

    id: Mapped[int] = mapped_column(primary_key=True)
    import_id: Mapped[int] = mapped_column(ForeignKey("xdomea_import.id"), index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_record.id"), unique=True)
    foreign_uuid: Mapped[str] = mapped_column(String(36))
    former_reference: Mapped[str] = mapped_column(String(300), default="")
    history: Mapped[str] = mapped_column(Text, default="[]")  # JSON: HistorienProtokollInformation
    metadata_json: Mapped[str] = mapped_column(Text, default="{}")


class NodeAppraisal(Base):
    """The archive's appraisal of a file-plan unit from its catalogue (0513): A, B or V —
    proposed on the disposal list for the cases beneath it, changeable by a records officer."""

    __tablename__ = "xdomea_node_appraisal"
    __table_args__ = (UniqueConstraint("tenant_id", "node_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenant.id"), index=True)
    node_id: Mapped[int] = mapped_column(ForeignKey("file_plan_node.id"))
    decision: Mapped[str] = mapped_column(String(1))
    message_uuid: Mapped[str] = mapped_column(String(36))
    updated_at: Mapped[datetime]
