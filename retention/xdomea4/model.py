"""What goes into (and comes out of) an xdomea 4.0.0 message: plain values, no ORM objects.

Richer than the 3.1.0 model: every object carries its history, every document its versions
(each a list of formats: the original and its PDF/A rendition), every file its sha256.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from retention.xdomea.model import format_of


@dataclass
class History:
    actor: str
    at: datetime
    action: str
    note: str = ""


@dataclass
class FileObj:
    uuid: str  # the file's own UUID: its name in the container
    kind: str  # "original" or "rendition"
    filename: str
    mime: str
    sha256: str
    size: int
    created_at: datetime
    s3_key: str = ""
    s3_version_id: str = ""
    extension: str = ""  # as read from a container; otherwise from the format table

    @property
    def package_name(self) -> str:
        return f"{self.uuid}.{self.extension or format_of(self.mime, self.kind)[3]}"


@dataclass
class VersionObj:
    number: int
    files: list[FileObj] = field(default_factory=list)


@dataclass
class DocumentObj:
    uuid: str
    number: int
    title: str
    reference: str = ""
    received: date | None = None
    doc_type: str = ""
    correspondent: str = ""
    versions: list[VersionObj] = field(default_factory=list)
    history: list[History] = field(default_factory=list)

    def files(self) -> list[FileObj]:
        return [f for v in self.versions for f in v.files]


@dataclass
class ProcessObj:
    uuid: str
    number: int
    title: str
    reference: str = ""
    closed: date | None = None
    documents: list[DocumentObj] = field(default_factory=list)
    history: list[History] = field(default_factory=list)


@dataclass
class CaseObj:
    uuid: str
    reference: str
    title: str
    node_code: str = ""
    node_title: str = ""
    org_unit: str = ""
    description: str = ""
    created: date | None = None
    closed: date | None = None
    retention_end: date | None = None
    period_years: int | None = None  # None: permanent
    action: str = ""  # A / B / V
    proposal: str = ""  # Bewertungsvorschlag: the appraisal proposed (archive's catalogue)
    processes: list[ProcessObj] = field(default_factory=list)
    history: list[History] = field(default_factory=list)

    def files(self) -> list[FileObj]:
        return [f for p in self.processes for d in p.documents for f in d.files()]

    def content_bytes(self) -> int:
        return sum(f.size for f in self.files())
