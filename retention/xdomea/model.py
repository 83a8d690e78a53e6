"""What goes into an xdomea message: plain values, no ORM objects."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

# xdomea "Dateiformat" code list (urn:xoev-de:xdomea:codeliste:dateiformat). The schema takes any
# token here and the list itself is published separately (XRepository); these are the codes this
# installation sends, kept in one place to be checked against the list the archive uses. The
# exact format also goes into SonstigerName (with its PRONOM id), so that an archive can
# identify each file whatever its code table says.
DATEIFORMAT_LIST_VERSION = "2.0"
FORMATS: dict[str, tuple[str, str, str, str]] = {
    # key: (code, name with PRONOM id, format version, file extension)
    "pdfa": ("019", "PDF/A-2b (PRONOM fmt/477)", "2b", "pdf"),
    "application/pdf": ("018", "PDF (PRONOM fmt/276 and others)", "", "pdf"),
    "image/tiff": ("030", "TIFF (PRONOM fmt/353)", "6.0", "tif"),
    "image/jpeg": ("013", "JPEG (PRONOM fmt/43)", "", "jpg"),
    "image/png": ("021", "PNG (PRONOM fmt/13)", "", "png"),
    "text/plain": ("045", "Unicode Text File (PRONOM x-fmt/16)", "", "txt"),
}
OTHER_FORMAT = ("001", "", "", "bin")


def format_of(mime: str, kind: str) -> tuple[str, str, str, str]:
    """(code, name, version, extension) of a stored file; renditions are PDF/A."""
    if kind == "rendition":
        return FORMATS["pdfa"]
    code, name, version, extension = FORMATS.get(mime, OTHER_FORMAT)
    return code, name or mime, version, extension


@dataclass
class FileEntry:
    uuid: str  # the file's own UUID: its name in the package
    kind: str  # "original" or "rendition"
    filename: str  # the name it arrived with
    mime: str
    sha256: str
    size: int
    created_at: datetime
    s3_key: str = ""
    s3_version_id: str = ""

    @property
    def package_name(self) -> str:
        return f"{self.uuid}.{format_of(self.mime, self.kind)[3]}"


@dataclass
class DocumentEntry:
    uuid: str
    number: int
    title: str
    received: date | None
    doc_type: str
    files: list[FileEntry] = field(default_factory=list)
    # TR-RESISCAN transfer note of its scan batch (R15, R16): (name, value) pairs, German names.
    scan: list[tuple[str, str]] = field(default_factory=list)
    geschaeftsgang: list = field(default_factory=list)  # routes (geschaeftsgang.StepEntry)


@dataclass
class ProcessEntry:
    uuid: str
    number: int
    title: str
    closed: date | None
    documents: list[DocumentEntry] = field(default_factory=list)
    geschaeftsgang: list = field(default_factory=list)  # routes (geschaeftsgang.StepEntry)


@dataclass
class CaseEntry:
    uuid: str
    file_reference: str
    title: str
    node_code: str
    node_title: str
    org_unit: str
    created: date
    closed: date | None
    retention_end: date | None
    period_years: int | None  # None: permanent
    action: str  # the schedule's A / B / V
    processes: list[ProcessEntry] = field(default_factory=list)


@dataclass
class Header:
    process_id: str
    created_at: datetime
    sender: str  # the municipality (tenant) name
    sender_unit: str
    recipient: str  # the archive
    product_version: str = ""
