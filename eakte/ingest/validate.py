"""Checks a file before it is accepted: type on the allow-list, limits, structure.

Every check reads headers and structure only; nothing is decoded in full, so a hostile file
costs milliseconds here. A failed check raises ``Rejected`` (the file goes to quarantine).
PDFs are opened with qpdf (pikepdf), which also repairs a broken cross-reference table: such a
file is accepted and marked ``repaired``; one that qpdf cannot open is quarantined.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pikepdf
from PIL import ImageFile, JpegImagePlugin, PngImagePlugin, TiffImagePlugin

from eakte.config import Settings
from eakte.ingest import detect, mail, office_checks
from eakte.ingest.bounds import (
    Bounds,
    check_pdf,
    check_pixels,
    check_png_chunks,
    direct_parts,
)
from eakte.ingest.pdf_features import pdf_features
from eakte.ingest.pdf_protection import rejection_for_unopenable
from eakte.ingest.reasons import Reason, Rejected, plain
from eakte.ingest.text import has_page_images

EOF_WINDOW = 2048  # %%EOF must appear this close to the end (trailing junk is common)


@dataclass(frozen=True)
class Limits:
    allowed_types: tuple[str, ...]
    max_bytes: int
    max_pages: int
    max_pixels: int
    text_at_intake_pages: int = 0  # born-digital PDFs up to this many pages: text read at intake
    max_decoded_bytes: int = 2048 * 1024 * 1024
    mail_limits: mail.MailLimits = field(default_factory=mail.MailLimits)

    @property
    def bounds(self) -> Bounds:
        return Bounds(self.max_pixels, self.max_pages, self.max_decoded_bytes)

    @classmethod
    def from_settings(cls, settings: Settings) -> Limits:
        return cls(
            allowed_types=settings.ingest_allowed_types,
            max_bytes=settings.max_upload_bytes,
            max_pages=settings.ingest_max_pages,
            max_pixels=settings.ingest_max_pixels,
            text_at_intake_pages=settings.ingest_text_at_intake_pages,
            max_decoded_bytes=settings.ingest_max_decoded_mb * 1024 * 1024,
        )


@dataclass
class Inspection:
    mime: str
    kind: str
    pages: int
    flags: list[str] = field(default_factory=list)
    anomalies: list[str] = field(default_factory=list)
    page_images: bool = False  # a PDF with a page-sized image on some page (a scan)
    message: mail.Message | None = None  # a mail file, read (its attachments follow it in)


def check_type(mime: str, limits: Limits) -> str:
    if mime in ("application/x-empty", "inode/x-empty"):
        raise Rejected(Reason.empty, "the file is empty (0 bytes)")
    kind = detect.kind_of(mime)
    if kind is None or mime not in limits.allowed_types:
        allowed = ", ".join(limits.allowed_types)
        raise Rejected(Reason.type_not_allowed, f"content is {mime}; accepted are {allowed}")
    return kind


def check_size(size: int, limits: Limits) -> None:
    if size == 0:
        raise Rejected(Reason.empty, "the file is empty (0 bytes)")
    if size > limits.max_bytes:
        raise Rejected(
            Reason.too_large,
            f"{size:,} bytes; the limit is {limits.max_bytes:,} bytes (EAKTE_MAX_UPLOAD_MB)",
        )


def inspect(path: Path, mime: str, size: int, filename: str, limits: Limits) -> Inspection:
    """All checks in order; returns what was learned, or raises ``Rejected``."""
    kind = detect.refine(check_type(mime, limits), path)
    check_size(size, limits)
    if kind in mail.MAIL_KINDS:
        result = Inspection(
            mime, kind, 1, message=mail.inspect_message(path, kind, limits.mail_limits)
        )
    elif kind == "einvoice":
        from eakte.ingest.einvoice import inspect_xml

        result = inspect_xml(path)
    elif kind in office_checks.KINDS:  # office documents and text (issue 25)
        result = office_checks.inspect(path, kind, limits)
    elif kind == "pdf":
        result = inspect_pdf(path, limits)
    else:
        result = inspect_image(path, kind, size, limits)
    result.mime = mime
    if detect.name_disagrees(kind, filename):
        result.flags.append("name_mismatch")
        result.anomalies.append(f"the name {filename!r} does not match the content ({mime})")
    return result


# ------------------------------------------------------------------------------------ PDF


def inspect_pdf(path: Path, limits: Limits) -> Inspection:
    with path.open("rb") as fh:
        fh.seek(max(0, path.stat().st_size - EOF_WINDOW))
        if b"%%EOF" not in fh.read():
            raise Rejected(
                Reason.pdf_truncated, "the file ends before the PDF end marker (%%EOF): cut off"
            )
    # An open file rather than the path: qpdf wants a name it can encode, and names from
    # old shares are not always UTF-8.
    with path.open("rb") as stream:
        return _inspect_open_pdf(stream, limits, path)


def _inspect_open_pdf(stream, limits: Limits, path: Path | None = None) -> Inspection:
    try:
        pdf = pikepdf.open(stream)
    except (pikepdf.PasswordError, pikepdf.PdfError, OSError, ValueError, RuntimeError) as exc:
        # A password, a certificate (/Adobe.PubSec), or damage: see ``pdf_protection``.
        raise rejection_for_unopenable(path, exc) from None
    with pdf:
        try:
            pages = len(pdf.pages)
            if pages:
                check_pdf(pdf, limits.bounds)
            flags = active_content(pdf)
            # Opened without a password (owner password only), signed, forms, XFA: kept.
            features, notes = pdf_features(pdf)
        except (pikepdf.PdfError, RuntimeError, ValueError, TypeError) as exc:
            raise Rejected(Reason.pdf_damaged, f"its structure is broken: {exc}") from None
        result = Inspection(mime="application/pdf", kind="pdf", pages=pages, flags=flags)
        if pages <= limits.text_at_intake_pages:
            try:
                result.page_images = has_page_images(pdf)
            except (pikepdf.PdfError, RuntimeError, ValueError, TypeError):
                result.page_images = True  # let the worker look closely
        warnings = pdf.get_warnings()  # what qpdf had to repair while opening
        if warnings:
            result.flags.append("repaired")
            result.anomalies.append(f"damaged PDF repaired by qpdf: {plain(warnings[0])}")
    if pages == 0:
        raise Rejected(Reason.pdf_damaged, "the PDF has no pages")
    for flag in flags:
        result.anomalies.append(f"contains {flag.replace('_', ' ')} (kept, never executed)")
    result.flags.extend(features)
    result.anomalies.extend(notes)
    return result


def active_content(pdf: pikepdf.Pdf) -> list[str]:
    """What a PDF viewer might run or unpack: JavaScript, launch actions, embedded files.
    Found and reported only; eAkte never runs or extracts any of it."""
    found: set[str] = set()
    names = pdf.Root.get("/Names")
    if isinstance(names, pikepdf.Dictionary):
        if "/JavaScript" in names:
            found.add("javascript")
        if "/EmbeddedFiles" in names:
            found.add("embedded_files")
    for obj in (part for top in pdf.objects for part in _dictionaries(top)):
        if "/JS" in obj or obj.get("/S") == pikepdf.Name.JavaScript:
            found.add("javascript")
        if obj.get("/S") == pikepdf.Name.Launch:
            found.add("launch_action")
        if (
            "/EF" in obj
            or obj.get("/Type") == pikepdf.Name.EmbeddedFile
            or obj.get("/Subtype") == pikepdf.Name.FileAttachment
        ):
            found.add("embedded_files")
    return sorted(found)


def _dictionaries(top: pikepdf.Object):
    """An indirect object's dictionaries, including those written directly inside it."""
    return (
        obj for obj, _ in direct_parts(top) if isinstance(obj, pikepdf.Dictionary | pikepdf.Stream)
    )


# --------------------------------------------------------------------------------- images

# Callables, not type[ImageFile]: the stubs call ImageFile abstract (its _open), each plugin
# class implements it
_OPENERS: dict[str, Callable[..., ImageFile.ImageFile]] = {
    "png": PngImagePlugin.PngImageFile,
    "jpeg": JpegImagePlugin.JpegImageFile,
    "tiff": TiffImagePlugin.TiffImageFile,
}


def inspect_image(path: Path, kind: str, size: int, limits: Limits) -> Inspection:
    if kind == "png":
        check_png_chunks(path)
    frames = 0
    try:
        # The format's own class reads the header without Pillow's global bomb check, so the
        # limits below decide (and say why).
        with _OPENERS[kind](str(path)) as im:
            while True:
                frames += 1
                if frames > limits.max_pages:
                    raise Rejected(
                        Reason.too_many_pages,
                        f"more than {limits.max_pages} pages (EAKTE_INGEST_MAX_PAGES)",
                    )
                check_pixels(im.size, im.mode, size, limits.bounds)
                try:
                    im.seek(frames)
                except EOFError:
                    break
    except Rejected:
        raise
    except (OSError, SyntaxError, ValueError, EOFError, struct.error, IndexError) as exc:
        raise Rejected(Reason.image_damaged, f"the image header cannot be read: {exc}") from None
    return Inspection(mime="", kind=kind, pages=frames)
