"""Intake checks for office documents and text files (called from ``validate.inspect``).

Bounded before any work, reading directories and headers only:

* ZIP-based formats (DOCX, XLSX, PPTX, ODT, ODS, ODP): number of entries, total uncompressed
  size as declared, compression ratio (a zip bomb declares gigabytes in kilobytes), and ZIPs
  inside the ZIP (embedded documents) followed at most ``MAX_NESTING`` deep — their entries
  count towards the same totals.
* Pictures in them: their declared pixels within EAKTE_INGEST_MAX_PIXELS (headers only).
* OLE files (DOC, XLS): number of streams and their declared sizes (``olefile`` reads the
  directory only).
* Text (TXT, CSV, HTML, XML, RTF): size, and that it decodes as text (UTF-8, else
  Windows-1252, else Latin-1: what German offices have written over the years).

Macros are found and reported as the flag ``macros`` (``vbaProject.bin`` in OOXML, ``Basic/``
or ``Scripts/`` in ODF, ``Macros``, ``_VBA_PROJECT_CUR`` or ``VBA`` storages in OLE): the file
is kept as it came, LibreOffice never runs them (see ``office``). Script in HTML is flagged
``javascript``, as in PDFs. XML is never parsed here (it is rendered as its text), so entity
expansion cannot bite.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from PIL import ImageFile

from eakte.ingest import office_types
from eakte.ingest.bounds import check_pixels
from eakte.ingest.reasons import Reason, Rejected

if TYPE_CHECKING:
    from eakte.ingest.validate import Inspection, Limits

KINDS = frozenset(office_types.KINDS.values())
MAX_ENTRIES = 10_000  # a large workbook has a few hundred; more is built to hurt
MAX_RATIO = 100  # uncompressed : compressed, over the whole archive
RATIO_FROM = 16 * 1024 * 1024  # small archives may compress as well as they like
MAX_NESTING = 3  # a document in a document in a document
MAX_EMBEDDED_BYTES = 64 * 1024 * 1024  # an embedded ZIP larger than this is not opened
MAX_OLE_STREAMS = 10_000
MAX_IMAGES_READ = 500  # embedded pictures whose header is read (a few ms each)
_IMAGE_FORMATS = ("PNG", "JPEG", "GIF", "BMP", "TIFF")
MAX_TEXT_BYTES = 10 * 1024 * 1024  # about 5,000 pages of plain text
MAX_CONTROL_SHARE = 0.01  # control characters in a text file: more means not text
TEXT_ENCODINGS = ("utf-8", "cp1252", "latin-1")
OLE_MACRO_STORAGES = {"macros", "_vba_project_cur", "vba"}
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
_SCRIPT = re.compile(rb"<script\b|\bon(?:load|click|error)\s*=", re.IGNORECASE)


@dataclass
class Found:
    flags: set[str] = field(default_factory=set)
    entries: int = 0
    uncompressed: int = 0
    images: int = 0


def inspect(path: Path, kind: str, limits: Limits) -> Inspection:
    """Checks for one office or text file; returns its ``Inspection`` or raises ``Rejected``."""
    from eakte.ingest.validate import Inspection

    found = Found()
    if kind in office_types.ZIP_KINDS:
        with path.open("rb") as fh:
            _check_zip(fh, path.stat().st_size, found, limits, depth=1)
    elif kind in office_types.OLE_KINDS:
        _check_ole(path, found, limits)
    else:
        _check_text(path, kind, found)
    flags = sorted(found.flags)
    anomalies = [f"contains {flag} (kept, never executed)" for flag in flags]
    return Inspection(mime="", kind=kind, pages=0, flags=flags, anomalies=anomalies)


# --------------------------------------------------------------------------------- ZIP


def _check_zip(stream, size: int, found: Found, limits: Limits, depth: int) -> None:
    try:
        archive = zipfile.ZipFile(stream)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise Rejected(Reason.office_damaged, f"its ZIP structure cannot be read: {exc}") from None
    with archive:
        infos = archive.infolist()
        found.entries += len(infos)
        if found.entries > MAX_ENTRIES:
            raise Rejected(
                Reason.office_too_complex, f"more than {MAX_ENTRIES:,} parts inside the document"
            )
        declared = sum(info.file_size for info in infos)
        found.uncompressed += declared
        if found.uncompressed > limits.max_decoded_bytes:
            raise Rejected(
                Reason.decompression_bomb,
                f"it would expand to {found.uncompressed:,} bytes; the limit is "
                f"{limits.max_decoded_bytes:,} (EAKTE_INGEST_MAX_DECODED_MB)",
            )
        compressed = max(1, min(sum(info.compress_size for info in infos), size))
        if declared > RATIO_FROM and declared > MAX_RATIO * compressed:
            raise Rejected(
                Reason.decompression_bomb,
                f"{compressed:,} bytes would expand to {declared:,} "
                f"(more than {MAX_RATIO}:1, a zip bomb)",
            )
        for info in infos:
            name = info.filename
            if _is_macro_part(name):
                found.flags.add("macros")
            elif info.file_size and name.lower().endswith(_CONTAINER_ENDINGS):
                _check_embedded(archive, info, found, limits, depth)
            elif info.file_size and name.lower().endswith(_IMAGE_ENDINGS):
                found.images += 1
                if found.images <= MAX_IMAGES_READ:
                    _check_image(archive, info, limits)


_CONTAINER_ENDINGS: tuple[str, ...] = (
    ".zip",
    ".docx",
    ".docm",
    ".xlsx",
    ".xlsm",
    ".pptx",
    ".pptm",
    ".odt",
)
_CONTAINER_ENDINGS += (".ods", ".odp", ".bin")
_IMAGE_ENDINGS = (".png", ".jpg", ".jpeg", ".gif", ".bmp", ".tif", ".tiff")


def _check_image(archive, info, limits: Limits) -> None:
    """An embedded picture's declared pixels, as for images taken in themselves: LibreOffice
    would decode it whole (and, short of memory, silently leave it out of the rendition).
    The format's own class reads the header (``Image.open`` would stop at Pillow's own bomb
    check without saying the size)."""
    from PIL import BmpImagePlugin, GifImagePlugin, JpegImagePlugin, PngImagePlugin, TiffImagePlugin

    openers: dict[bytes, Callable[..., ImageFile.ImageFile]] = {  # not type[]: see _OPENERS
        b"\x89PNG": PngImagePlugin.PngImageFile,
        b"\xff\xd8": JpegImagePlugin.JpegImageFile,
        b"GIF8": GifImagePlugin.GifImageFile,
        b"BM": BmpImagePlugin.BmpImageFile,
        b"II*\0": TiffImagePlugin.TiffImageFile,
        b"MM\0*": TiffImagePlugin.TiffImageFile,
    }
    try:
        with archive.open(info) as stream:
            head = stream.read(4)
            opener = next((cls for sig, cls in openers.items() if head.startswith(sig)), None)
            if opener is None:
                return
            stream.seek(0)
            with opener(stream) as im:
                dims, mode = im.size, im.mode
    except Exception:
        return
    try:
        check_pixels(dims, mode, max(1, info.compress_size), limits.bounds)
    except Rejected as rejected:
        detail = f"the embedded picture {info.filename}: {rejected.detail}"
        raise Rejected(rejected.code, detail) from None


def _is_macro_part(name: str) -> bool:
    lower = name.lower()
    return (
        lower.endswith("vbaproject.bin")
        or lower.startswith(("basic/", "scripts/"))
        or lower.endswith("vbadata.xml")
    )


def _check_embedded(archive, info, found: Found, limits: Limits, depth: int) -> None:
    """An embedded document: followed if it is a ZIP (its entries count too), or an OLE
    object that may carry macros."""
    if info.file_size > MAX_EMBEDDED_BYTES:
        return  # its size already counts; its inside is LibreOffice's to bound
    try:
        data = archive.read(info)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError) as exc:
        raise Rejected(Reason.office_damaged, f"an embedded part cannot be read: {exc}") from None
    if data.startswith(b"PK\x03\x04"):
        if depth >= MAX_NESTING:
            raise Rejected(
                Reason.office_too_complex,
                f"documents nested more than {MAX_NESTING} deep inside each other",
            )
        _check_zip(io.BytesIO(data), len(data), found, limits, depth + 1)
    elif data.startswith(office_types.OLE_MAGIC):
        _check_ole(io.BytesIO(data), found, limits, strict=False)


# --------------------------------------------------------------------------------- OLE


def _check_ole(source, found: Found, limits: Limits, strict: bool = True) -> None:
    import olefile

    try:
        with olefile.OleFileIO(source) as ole:
            streams = ole.listdir(streams=True, storages=True)
            if len(streams) > MAX_OLE_STREAMS:
                raise Rejected(
                    Reason.office_too_complex,
                    f"more than {MAX_OLE_STREAMS:,} streams inside the document",
                )
            declared = sum(ole.get_size(entry) for entry in streams if ole.get_type(entry) == 2)
            found.uncompressed += declared
            if found.uncompressed > limits.max_decoded_bytes:
                raise Rejected(
                    Reason.decompression_bomb,
                    f"it declares {found.uncompressed:,} bytes of content; the limit is "
                    f"{limits.max_decoded_bytes:,} (EAKTE_INGEST_MAX_DECODED_MB)",
                )
            if any(part.lower() in OLE_MACRO_STORAGES for entry in streams for part in entry):
                found.flags.add("macros")
    except Rejected:
        raise
    except Exception as exc:
        if strict:
            raise Rejected(
                Reason.office_damaged, f"its OLE structure cannot be read: {exc}"
            ) from None


# -------------------------------------------------------------------------------- text


def _check_text(path: Path, kind: str, found: Found) -> None:
    size = path.stat().st_size
    if size > MAX_TEXT_BYTES:
        raise Rejected(
            Reason.too_large,
            f"{size:,} bytes of text; text files are taken up to {MAX_TEXT_BYTES:,} bytes",
        )
    data = path.read_bytes()
    text, _ = decode_text(data)
    if len(_CONTROL.findall(text)) > MAX_CONTROL_SHARE * max(1, len(text)):
        raise Rejected(Reason.unreadable, "it is not readable text (control characters)")
    if kind == "html" and _SCRIPT.search(data):
        found.flags.add("javascript")


def decode_text(data: bytes) -> tuple[str, str]:
    """The text and the encoding it was written in: UTF-8 (with or without BOM), else
    Windows-1252, else Latin-1 (which reads any byte)."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", "replace"), "utf-8"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", "replace"), "utf-16"
    for encoding in TEXT_ENCODINGS:
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    raise AssertionError("latin-1 decodes every byte")  # pragma: no cover
