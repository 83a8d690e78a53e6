"""What the processing steps share: the context of one document's job, its outcome, and how
a step tells the runner what comes next (see :mod:`eakte.ingest.process`)."""

from __future__ import annotations

import enum
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from eakte.ingest import claims
from eakte.ingest.confine import JobLimits

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from eakte.ingest.signatures import SignatureResult
    from eakte.models import StoredObject
    from storage.blobstore import BlobStore


class Result(enum.StrEnum):
    ready = "ready"
    failed = "failed"
    nothing_to_do = "nothing to do"  # done, destroyed, or another job holds it


class Next(enum.Enum):
    """What a step tells the runner."""

    go_on = "go on"  # to the next step
    finish = "finish"  # the result is complete: straight to ``finish``, which commits it
    stop = "stop"  # nothing (more) to do; ``ctx.result`` says why


class Failure(Exception):
    """A permanent failure: the document becomes ``failed`` with this reason."""


@dataclass(frozen=True)
class Original:
    """The latest original version of the document."""

    s3_key: str
    s3_version_id: str
    sha256: str
    mime: str
    filename: str


@dataclass
class ProcessContext:
    document_id: int
    job_id: str
    workdir: Path
    lease: timedelta = claims.DEFAULT_LEASE
    ocr_threads: int = 1  # pages recognised at once (the worker's choice)
    limits: JobLimits = field(default_factory=JobLimits)
    worker: str = ""
    # learned from the database
    tenant_id: int | None = None
    tenant_slug: str = ""
    document_uuid: uuid.UUID | None = None
    duplicate_of_id: int | None = None
    scan_batch_id: int | None = None
    scan_dpi: int | None = None
    previous_pages: int = 0
    original_version: Original | None = None
    flags: set[str] = field(default_factory=set)
    # learned by the steps
    local: Path | None = None
    pdf: Path | None = None
    texts: list[str] = field(default_factory=list)
    pages: int = 0
    rendition: Path | None = None
    born_digital: bool = False
    rendition_object: StoredObject | None = None
    form_text: str = ""  # the values of a filled-in form
    signature_trust_dir: Path | None = None
    signatures: list[SignatureResult] = field(default_factory=list)
    result: Result | None = None

    @property
    def original(self) -> Original:
        """The original version (``claim`` found it, or failed the document)."""
        if self.original_version is None:
            raise Failure("the document has no original file version")
        return self.original_version

    @property
    def local_file(self) -> Path:
        """The original fetched to the work dir (by ``fetch``)."""
        if self.local is None:
            raise RuntimeError("the original was not fetched")
        return self.local

    @property
    def pdf_file(self) -> Path:
        """The PDF to work on (made by ``prepare``)."""
        if self.pdf is None:
            raise RuntimeError("no PDF was prepared")
        return self.pdf


Step = Callable[["Session", "BlobStore", ProcessContext], Next]
