"""The converting steps of processing: the original made a PDF to work on, its text read or
recognised, and the rendition made, all in a confined child process (``convert``).

``prepare`` picks the converter by the kind of the original (:data:`CONVERTERS`): an
e-invoice or a mail message is rendered, an office document converted by LibreOffice, a PDF
repaired, decrypted or flattened, an image converted to PDF. A rendition made there is the
rendition: ``ocr`` has nothing left to do.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import pikepdf
from sqlalchemy.orm import Session

from eakte.ingest import einvoice, office, pdf_features
from eakte.ingest.confine import JobFailed, limit_cpu, run_confined
from eakte.ingest.heartbeat import progressed
from eakte.ingest.mail import KINDS
from eakte.ingest.process_context import Failure, Next, ProcessContext
from eakte.ingest.text import read_pdf
from eakte.ingest.unforeseen import describe
from storage.blobstore import BlobStore

log = logging.getLogger(__name__)

PDF = "application/pdf"
MAIL_TYPES = frozenset(KINDS)  # .eml and .msg: rendered from the message, not OCRed

Converter = Callable[[ProcessContext], None]


def _render_mail(ctx: ProcessContext) -> None:
    from eakte.ingest.mail_render import RenderFailed, render_message

    ctx.pdf = ctx.rendition = ctx.workdir / "message.pdf"
    try:
        ctx.texts, ctx.pages = render_message(ctx.local_file, ctx.original.mime, ctx.rendition)
    except RenderFailed as exc:
        raise Failure(f"the message cannot be rendered: {exc}") from None


def _open_pdf(ctx: ProcessContext) -> None:
    """Repaired on opening, decrypted or flattened (``pdf_features``): the rewritten copy."""
    ctx.pdf = ctx.local_file
    try:
        with pikepdf.open(ctx.local_file) as pdf:
            ctx.form_text = pdf_features.form_text_of(pdf, ctx.flags)
            if pdf_features.rewrite(pdf, ctx.flags) or pdf.get_warnings():
                ctx.pdf = ctx.workdir / "repaired.pdf"
                pdf.save(ctx.pdf)
    except pikepdf.PdfError as exc:
        raise Failure(f"the PDF cannot be opened: {exc}") from None


def _image_to_pdf(ctx: ProcessContext) -> None:
    from eakte.ingest.ocr import image_to_pdf  # OCR libraries load only where needed

    ctx.pdf = ctx.workdir / "image.pdf"
    try:
        image_to_pdf(ctx.local_file, ctx.pdf, ctx.scan_dpi)
    except (OSError, ValueError) as exc:
        raise Failure(f"the image cannot be converted to PDF: {exc}") from None


CONVERTERS: dict[str, Converter] = {
    "einvoice": einvoice.prepare,  # an XML e-invoice (a ZUGFeRD PDF is a PDF)
    "mail": _render_mail,
    "office": office.prepare,  # office documents and text: PDF/A by LibreOffice
    "pdf": _open_pdf,
    "image": _image_to_pdf,  # img2pdf
}


def kind_of(ctx: ProcessContext) -> str:
    """Which converter the original needs."""
    mime = ctx.original.mime
    if einvoice.FLAG in ctx.flags and mime != PDF:
        return "einvoice"
    if mime in MAIL_TYPES:
        return "mail"
    if office.handles(mime):
        return "office"
    return "pdf" if mime == PDF else "image"


def prepare(ctx: ProcessContext) -> None:
    """A PDF to work on, the original untouched (see the module docstring)."""
    CONVERTERS[kind_of(ctx)](ctx)


def read_text(ctx: ProcessContext) -> None:
    """Born-digital PDFs: the text layer is the text (no OCR, no rendition, R19)."""
    if ctx.original.mime != PDF:
        return
    found = read_pdf(ctx.pdf_file)
    ctx.texts, ctx.pages = found.pages, len(found.pages)
    # Protected PDFs and forms get a rendition all the same (``pdf_features``).
    ctx.born_digital = found.born_digital and not pdf_features.needs_rendition(ctx.flags)


def ocr(ctx: ProcessContext) -> None:
    """Scans and images: OCRmyPDF to PDF/A-2b with a text layer (R19)."""
    from eakte.ingest.ocr import OcrFailed, ocr_to_pdfa

    if ctx.born_digital or ctx.rendition is not None:  # a rendition eAkte made itself
        return
    ctx.rendition = ctx.workdir / "rendition.pdf"
    try:
        recognised = ocr_to_pdfa(
            ctx.pdf_file, ctx.rendition, ctx.workdir / "text.txt", threads=ctx.ocr_threads
        )
    except OcrFailed as exc:
        raise Failure(str(exc)) from None
    layer = ctx.texts + [""] * (len(recognised) - len(ctx.texts))
    ctx.texts = [old if old.strip() else new for old, new in zip(layer, recognised, strict=False)]
    with pikepdf.open(ctx.rendition) as pdf:
        ctx.pages = len(pdf.pages)


Learned = tuple[Path | None, list[str], int, Path | None, bool, str]


def convert(session: Session, store: BlobStore, ctx: ProcessContext) -> Next:
    """``prepare``, ``read_text`` and ``ocr`` in a child process under the job's memory and
    CPU limits (``confine``): whatever the file does to the decoders, the worker lives on. A
    born-digital PDF is finished here; a rendition is stored next."""
    _preload_ocr(ctx.ocr_threads)
    try:
        learned: Learned = run_confined(lambda: _convert_confined(ctx), ctx.limits)
    except JobFailed as exc:
        raise Failure(str(exc)) from None
    ctx.pdf, ctx.texts, ctx.pages, ctx.rendition, ctx.born_digital, ctx.form_text = learned
    return Next.finish if ctx.born_digital else Next.go_on


def _convert_confined(ctx: ProcessContext) -> Learned:
    """In the child: the steps, the CPU limit set once the page count is known."""
    try:
        prepare(ctx)
        with pikepdf.open(ctx.pdf_file) as pdf:
            limit_cpu(ctx.limits.cpu_seconds(len(pdf.pages)))
        read_text(ctx)
        progressed()
        ocr(ctx)
    except Failure as exc:
        raise JobFailed(str(exc)) from None
    except MemoryError:
        raise  # the child reports it as memory beyond the limit
    except Exception as exc:
        log.exception("processing document %s failed unexpectedly", ctx.document_id)
        raise JobFailed(describe(exc, "processing the file")) from None
    return ctx.pdf, ctx.texts, ctx.pages, ctx.rendition, ctx.born_digital, ctx.form_text


def _preload_ocr(threads: int) -> None:
    """The Tesseract models loaded in the worker before the child is forked: every child
    finds them there instead of loading them again (half a second per document)."""
    from eakte.ingest import ocr as ocr_module
    from eakte.ingest import tesseract_api

    tesseract_api.preload("+".join(ocr_module.LANGUAGES), tesseract_api.PSM_AUTO, max(1, threads))
    tesseract_api.preload("osd", tesseract_api.PSM_OSD_ONLY)
