"""The registry of every object eAkte wrote to S3; `eakte verify` compares the bucket with it."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import BigInteger, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from eakte.models.base import Base, CreatedMixin

if TYPE_CHECKING:
    from storage.objects import ObjectInfo
    from storage.objects import StoredObject as Stored


class StoredObject(CreatedMixin, Base):
    __tablename__ = "stored_object"
    __table_args__ = (UniqueConstraint("key", "version_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenant.id"), index=True)
    key: Mapped[str] = mapped_column(String(1024))
    version_id: Mapped[str] = mapped_column(String(128))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int] = mapped_column(BigInteger)
    content_type: Mapped[str] = mapped_column(String(127))
    # The COMPLIANCE retain-until eAkte last set on this version (None: not known yet); the
    # nightly floor extension finds the versions to extend through its index (issue 13).
    retain_until: Mapped[datetime | None] = mapped_column(index=True)

    @classmethod
    def of(cls, stored: Stored | ObjectInfo, tenant_id: int | None = None) -> StoredObject:
        """The registry row of what ``BlobStore.put`` stored (or ``stat`` found)."""
        return cls(
            tenant_id=tenant_id,
            key=stored.key,
            version_id=stored.version_id,
            sha256=stored.sha256,
            size=stored.size,
            content_type=stored.content_type,
            retain_until=stored.retain_until,
        )
