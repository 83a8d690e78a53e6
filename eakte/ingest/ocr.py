"""Scans and images to an archival PDF/A-2b with a text layer: img2pdf, then OCRmyPDF.

OCRmyPDF runs with German and English, page rotation and deskew, PDF/A-2b output, usually one
page at a time: parallelism comes from worker processes across documents (the worker lets a
document nobody waits behind use every core), and Tesseract runs with ``OMP_THREAD_LIMIT=1``.
Pages that already carry text are left as they are (``mode="skip"``). The plugin
``eakte.ingest.ocr_engine`` keeps Tesseract loaded in the worker.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path

import img2pdf
import ocrmypdf
import ocrmypdf.exceptions
from PIL import Image

from eakte import metrics
from eakte.ingest import limit_tesseract_threads, ocrmypdf_compat, page_quality

log = logging.getLogger(__name__)

LANGUAGES = ["deu", "eng"]
PLUGIN = "eakte.ingest.ocr_engine"
DEFAULT_DPI = 300  # for images that do not say their resolution
PAGE_BREAK = "\f"  # OCRmyPDF's sidecar separates pages with a form feed
FAX_CODES = ("group3", "group4")  # TIFF compressions img2pdf embeds without decoding
MIN_SIDE = 64  # pixels: smaller images are enlarged for the PDF page and OCR (``big_enough``)
MAX_SIDE = 10_000  # ... but not beyond this
MIN_POINTS, MAX_POINTS = 3.5, 14_000  # a PDF page's side (img2pdf: 3 to 14,400), with a margin


class OcrFailed(Exception):
    """OCR could not produce a rendition; the document fails with this reason."""


def image_to_pdf(source: Path, target: Path, dpi: int | None = None) -> None:
    """A PDF with one page per image frame.

    JPEG, PNG and fax-coded (bilevel) TIFF go in as they are. Other TIFFs (LZW, deflate) and
    what img2pdf cannot take (alpha channels, 16 bits, odd colour spaces) go in as quickly
    compressed PNG frames: this PDF is only the input to OCR, which writes the archival page
    images itself.
    """
    layout = img2pdf.default_layout_fun
    with Image.open(source) as im:
        declared = im.info.get("dpi") or ()
        sensible = bool(declared) and min(declared) >= 50
        base = float(min(declared)) if sensible else float(dpi or DEFAULT_DPI)
        fitting = page_dpi(im.size, base)
        if not sensible or fitting != base:
            layout = img2pdf.get_fixed_dpi_layout_fun((fitting, fitting))
        as_is = im.format in ("JPEG", "PNG") or im.info.get("compression") in FAX_CODES
        as_is = as_is and min(im.size) >= MIN_SIDE
    if as_is:
        try:
            target.write_bytes(img2pdf.convert(str(source), layout_fun=layout))
            return
        except (img2pdf.AlphaChannelError, img2pdf.ImageOpenError, ValueError, OSError):
            pass
    frames = _png_frames(source, target.parent)
    try:
        target.write_bytes(img2pdf.convert([str(f) for f in frames], layout_fun=layout))
    finally:
        for frame in frames:
            frame.unlink(missing_ok=True)


def page_dpi(size: tuple[int, int], dpi: float) -> float:
    """``dpi``, or the nearest resolution at which the page fits what a PDF page may be
    (3 to 14,400 points a side): a 64-pixel image claiming 4,800 dpi, a strip scanned 5 m long.
    Small images count as enlarged (``big_enough``)."""
    longest, shortest = max(size), max(min(size), MIN_SIDE)
    low = longest * 72 / MAX_POINTS  # below this the longest side is too long
    high = shortest * 72 / MIN_POINTS  # above this the shortest side is too short
    return low if low > high else min(max(dpi, low), high)


def big_enough(image: Image.Image) -> Image.Image:
    """An image a few pixels large (an icon, a 1 × 1 tracking pixel someone saved) made
    ``MIN_SIDE`` pixels on each side: enlarged by whole pixels as far as the longer side
    allows, then padded with white. A PDF page must be 3 points wide at least, and OCR
    needs something to look at; the original stays as it came."""
    width, height = image.size
    if min(width, height) >= MIN_SIDE:
        return image
    factor = max(1, min(math.ceil(MIN_SIDE / min(width, height)), MAX_SIDE // max(width, height)))
    if factor > 1:
        image = image.resize((width * factor, height * factor), Image.Resampling.NEAREST)
    if min(image.size) < MIN_SIDE:
        canvas = Image.new(image.mode, (max(image.width, MIN_SIDE), max(image.height, MIN_SIDE)))
        canvas.paste(_white(image.mode), (0, 0, canvas.width, canvas.height))
        canvas.paste(image, (0, 0))
        image = canvas
    return image


def _white(mode: str):
    return {"1": 1, "L": 255, "RGB": (255, 255, 255)}.get(mode, 255)


def _png_frames(source: Path, work: Path) -> list[Path]:
    frames = []
    with Image.open(source) as im:
        dpi = im.info.get("dpi")
        for index in range(getattr(im, "n_frames", 1)):
            im.seek(index)
            frame: Image.Image
            if im.mode in ("1", "L", "RGB"):
                frame = im
            elif im.mode in ("LA", "I", "I;16", "F"):
                frame = im.convert("L")
            else:
                frame = im.convert("RGBA").convert("RGB") if "A" in im.mode else im.convert("RGB")
            frame = big_enough(frame)
            path = work / f"frame-{index:05d}.png"
            options = {"dpi": dpi} if dpi else {}
            frame.save(path, compress_level=1, **options)
            frames.append(path)
    return frames


def ocr_to_pdfa(source: Path, target: Path, sidecar: Path, threads: int = 1) -> list[str]:
    """Run OCRmyPDF; return the recognised text per page ('' for pages that had text).
    ``threads``: pages recognised at once (each thread has its own Tesseract).

    PDF/A is made by OCRmyPDF's own backend (pikepdf), which keeps pages that already carry
    text as they are. Where it cannot confirm PDF/A (unusual constructs in a born-digital
    page), Ghostscript converts instead, with every page rasterised and recognised: Debian's
    Ghostscript 10.0 corrupts kept text, and OCRmyPDF refuses that combination.
    """
    limit_tesseract_threads()
    ocrmypdf_compat.keep_tool_versions()  # tool versions asked once per process
    try:
        with page_quality.collecting(sidecar.parent):
            _ocrmypdf(source, target, sidecar, "skip", "internal", threads)
    except ocrmypdf.exceptions.PdfaConversionFailedError as exc:
        log.info("PDF/A by pikepdf not possible (%s); converting with Ghostscript", exc)
        with page_quality.collecting(sidecar.parent):
            _ocrmypdf(source, target, sidecar, "force", "ghostscript", threads)
    pages = sidecar.read_text(encoding="utf-8", errors="replace").split(PAGE_BREAK)
    skipped = [page.strip().startswith("[OCR skipped") for page in pages]
    metrics.counters().ocr_pages.inc(skipped.count(False))
    return ["" if skip else page for page, skip in zip(pages, skipped, strict=True)]


def _ocrmypdf(
    source: Path, target: Path, sidecar: Path, mode: str, pdfa_backend: str, threads: int
):
    try:
        ocrmypdf.ocr(
            source,
            target,
            language=LANGUAGES,
            rotate_pages=True,
            deskew=True,
            output_type="pdfa-2",
            pdfa_backend=pdfa_backend,
            mode=mode,
            jobs=max(1, threads),
            use_threads=True,
            progress_bar=False,
            sidecar=sidecar,
            optimize=0,  # optimisation re-encodes images for little gain on scans
            pdf_renderer="sandwich",
            invalidate_digital_signatures=True,  # on the rendition only; the original stays
            plugins=[PLUGIN],
        )
    except ocrmypdf.exceptions.PdfaConversionFailedError:
        raise
    except ocrmypdf.exceptions.ExitCodeException as exc:
        raise OcrFailed(f"OCR failed ({type(exc).__name__}): {exc}") from None
