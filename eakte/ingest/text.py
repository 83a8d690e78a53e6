"""What a PDF already holds: its text layer, and whether it is a scan.

A born-digital PDF has text on every page and no page-sized images: its text layer is the
document's text and the original is its own archival version (R19). Anything else (image-only
pages, or a scanner's searchable PDF: a page image with invisible text) gets an OCRed PDF/A
rendition.

The text layer is read with PDFium (pypdfium2, which OCRmyPDF uses for rasterising anyway):
pypdf needs about 3 ms a page here, PDFium a third of that, and bulk imports of born-digital
files spend most of their processing time right here. pypdf reads what PDFium cannot open.
"""

from __future__ import annotations

import logging
import threading
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import pikepdf
import pypdf
import pypdfium2 as pdfium
from pypdf.errors import PyPdfError

log = logging.getLogger(__name__)

MIN_PAGE_TEXT = 20  # characters (not counting spaces) that make a page "have text"
SCAN_PIXELS = 1_000_000  # an image this large on a page is a scan (A4 at 300 dpi: 8.7 M)
PDFIUM_LOCK = threading.Lock()  # every PDFium call of the process (see ocr_engine too)


@dataclass
class PdfText:
    pages: list[str]  # text per page ('' where there is none)
    scanned: bool  # some page is a page image

    @property
    def born_digital(self) -> bool:
        return not self.scanned and all(_has_text(page) for page in self.pages)


def _has_text(page: str) -> bool:
    return len("".join(page.split())) >= MIN_PAGE_TEXT


def read_pdf(path: Path) -> PdfText:
    with pikepdf.open(path) as pdf:
        scanned = has_page_images(pdf)
    return PdfText(pages=page_texts(path), scanned=scanned)


def page_texts(path: Path) -> list[str]:
    """The text layer, page by page; pages that cannot be read count as without text."""
    with PDFIUM_LOCK:  # PDFium is not thread-safe (import threads, web threads)
        try:
            pdf = pdfium.PdfDocument(path)
        except pdfium.PdfiumError as exc:
            log.info("PDFium cannot open %s (%s); reading the text with pypdf", path, exc)
            pdf = None
        if pdf is not None:
            return _pdfium_texts(pdf, path)
    return _pypdf_texts(path)


def _pdfium_texts(pdf, path: Path) -> list[str]:
    texts = []
    with closing(pdf):
        for index in range(len(pdf)):
            try:
                with closing(pdf[index]) as page, closing(page.get_textpage()) as layer:
                    texts.append(layer.get_text_range().replace("\r\n", "\n"))
            except pdfium.PdfiumError as exc:
                log.info("page %d of %s: text not readable: %s", index + 1, path, exc)
                texts.append("")
    return texts


def _pypdf_texts(path: Path) -> list[str]:
    try:
        reader = pypdf.PdfReader(path)
        count = len(reader.pages)
    except (PyPdfError, OSError, ValueError, KeyError) as exc:
        log.info("no text layer read from %s: %s", path, exc)
        return []
    texts = []
    for index in range(count):
        try:
            texts.append(reader.pages[index].extract_text() or "")
        except (PyPdfError, ValueError, KeyError, TypeError, AttributeError) as exc:
            log.info("page %d of %s: text not readable: %s", index + 1, path, exc)
            texts.append("")
    return texts


def has_page_images(pdf: pikepdf.Pdf) -> bool:
    for page in pdf.pages:
        for image in page.get_images().values():
            width, height = int(image.get("/Width", 0)), int(image.get("/Height", 0))
            if width * height >= SCAN_PIXELS:
                return True
    return False


def join_pages(pages: list[str]) -> str:
    return "\n\n".join(page.strip() for page in pages).strip()
