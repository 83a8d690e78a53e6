"""Office documents and text files: their types, and what libmagic leaves vague.

libmagic names most office files well (file 5.44 here gives the specific type for each format
LibreOffice writes, ``text/rtf`` for RTF, ``text/plain`` for CSV), but not always: OOXML may
come as ``application/zip`` or ``application/octet-stream`` (older magic databases), an OLE
file as ``application/x-ole-storage`` or ``application/CDFV2``, a CSV as ``text/plain``, XML
as ``application/xml``. ``refine`` looks at the structure then: ``[Content_Types].xml`` and
the main part in a ZIP (OOXML), the ``mimetype`` first entry (ODF), the ``WordDocument`` or
``Workbook`` stream (OLE), a separator used the same number of times on every line (CSV).
Only the directory of a ZIP or OLE file is read, nothing is decompressed beyond a few bytes.
"""

from __future__ import annotations

import csv
import zipfile
from pathlib import Path

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
ODT = "application/vnd.oasis.opendocument.text"
ODS = "application/vnd.oasis.opendocument.spreadsheet"
ODP = "application/vnd.oasis.opendocument.presentation"
DOC = "application/msword"
XLS = "application/vnd.ms-excel"
RTF = "text/rtf"
TEXT = "text/plain"
CSV = "text/csv"
HTML = "text/html"
XML = "text/xml"

# content type → kind, as detect.KINDS
KINDS = {
    DOCX: "docx",
    DOC: "doc",
    ODT: "odt",
    RTF: "rtf",
    XLSX: "xlsx",
    XLS: "xls",
    ODS: "ods",
    PPTX: "pptx",
    ODP: "odp",
    TEXT: "text",
    CSV: "csv",
    HTML: "html",
    XML: "xml",
}
OFFICE_TYPES = tuple(KINDS)
# libmagic's other names for the same types
ALIASES = {
    "application/rtf": RTF,
    "application/xml": XML,
    "application/csv": CSV,
}
EXTENSIONS = {
    "docx": {"docx", "docm", "dotx"},
    "doc": {"doc", "dot"},
    "odt": {"odt", "ott"},
    "rtf": {"rtf"},
    "xlsx": {"xlsx", "xlsm", "xltx"},
    "xls": {"xls", "xlt"},
    "ods": {"ods", "ots"},
    "pptx": {"pptx", "pptm", "ppsx"},
    "odp": {"odp", "otp"},
    "text": {"txt", "text", "log", "csv", "tsv"},
    "csv": {"csv", "tsv", "txt"},
    "html": {"html", "htm", "xhtml"},
    "xml": {"xml"},
}
ZIP_KINDS = {"docx", "xlsx", "pptx", "odt", "ods", "odp"}
OLE_KINDS = {"doc", "xls"}
TEXT_KINDS = {"text", "csv", "html", "xml"}

VAGUE_ZIP = {"application/zip", "application/x-zip-compressed", "application/octet-stream"}
VAGUE_OLE = {
    "application/x-ole-storage",
    "application/CDFV2",
    "application/vnd.ms-office",
    "application/octet-stream",
}
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
OOXML_MAIN = {"word/document.xml": DOCX, "xl/workbook.xml": XLSX, "ppt/presentation.xml": PPTX}
ODF_TYPES = {ODT, ODS, ODP}
CSV_SEPARATORS = ";,\t"
CSV_SAMPLE_LINES = 50
CSV_SAMPLE_BYTES = 1 << 20  # as much as detect reads


def refine(path: Path, head: bytes, mime: str) -> str:
    """The content type, made precise where libmagic is vague (see the module docstring)."""
    mime = ALIASES.get(mime, mime)
    if head.startswith(b"PK\x03\x04") and mime in VAGUE_ZIP:
        return _zip_type(path) or mime
    if head.startswith(OLE_MAGIC) and mime in VAGUE_OLE:
        return _ole_type(path) or mime
    if mime == TEXT and csv_dialect(head) is not None:
        return CSV
    return mime


def _zip_type(path: Path) -> str | None:
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
            if infos and infos[0].filename == "mimetype" and infos[0].file_size < 100:
                declared = archive.read(infos[0]).decode("ascii", "replace").strip()
                return declared if declared in ODF_TYPES else None
            names = {info.filename for info in infos}
            if "[Content_Types].xml" in names:
                for part, mime in OOXML_MAIN.items():
                    if part in names:
                        return mime
    except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError, EOFError):
        return None
    return None


def _ole_type(path: Path) -> str | None:
    import olefile

    try:
        with olefile.OleFileIO(str(path)) as ole:
            if ole.exists("WordDocument"):
                return DOC
            if ole.exists("Workbook") or ole.exists("Book"):
                return XLS
    except Exception:
        return None
    return None


def csv_dialect(head: bytes) -> str | None:
    """The separator if the text is a table: at least two lines, and one of ``; , tab``
    used the same (non-zero) number of times outside quotes on every line."""
    text = head.decode("latin-1")
    lines = [line for line in text.splitlines()[:CSV_SAMPLE_LINES] if line.strip()]
    if len(head) >= CSV_SAMPLE_BYTES:
        lines = lines[:-1]  # the sample may end inside a line
    if len(lines) < 2:
        return None
    for separator in CSV_SEPARATORS:
        try:
            counts = {len(row) for row in csv.reader(lines, delimiter=separator)}
        except csv.Error:
            continue
        if len(counts) == 1 and counts.pop() >= 2:
            return separator
    return None
