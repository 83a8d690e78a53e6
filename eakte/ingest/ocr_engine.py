"""An OCRmyPDF plugin: Tesseract resident in the worker process, and a fast deskew.

OCRmyPDF's built-in engine starts the ``tesseract`` command three times per page (orientation,
deskew angle, recognition), loading the models each time. This engine is the same Tesseract
through its C API with the models loaded once per worker process (see ``tesseract_api``), and
measures the skew from the ink's projection profile (see ``deskew``). OCRmyPDF still does
everything else: rasterising, rotating and deskewing the page, the text layer, PDF/A.

Loaded by name: ``ocrmypdf.ocr(..., plugins=["eakte.ingest.ocr_engine"])``.
"""

from __future__ import annotations

import functools
import io
import logging
from pathlib import Path

import ocrmypdf.exceptions
from ocrmypdf import hookimpl
from ocrmypdf.builtin_plugins.tesseract_ocr import TesseractOcrEngine
from ocrmypdf.pluginspec import OrientationConfidence
from PIL import Image

from eakte.ingest import tesseract_api
from eakte.ingest.deskew import skew_angle

log = logging.getLogger(__name__)

HOCR_HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN"
    "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">
<html xmlns="http://www.w3.org/1999/xhtml" xml:lang="en" lang="en">
 <head>
  <title></title>
  <meta http-equiv="Content-Type" content="text/html;charset=utf-8"/>
  <meta name='ocr-system' content='tesseract {version}' />
  <meta name='ocr-capabilities' content='ocr_page ocr_carea ocr_par ocr_line ocrx_word ocrp_wconf'/>
 </head>
 <body>
"""
HOCR_TAIL = """ </body>
</html>
"""


@functools.cache
def _version() -> str:
    return tesseract_api.version()


@functools.cache
def _installed_languages() -> frozenset[str]:
    return frozenset(TesseractOcrEngine.languages(None))


class ResidentTesseract(TesseractOcrEngine):
    @staticmethod
    def version() -> str:
        return _version()

    @staticmethod
    def languages(options) -> frozenset[str]:
        return _installed_languages()

    @staticmethod
    def get_orientation(input_file: Path, options) -> OrientationConfidence:
        # The middle of the page first: OSD decides on a few hundred characters, so a part
        # of the page with text answers as surely and at half the cost; a page with little
        # text there (a short note) is looked at as a whole.
        osd = tesseract_api.engine("osd", tesseract_api.PSM_OSD_ONLY)
        found = osd.orientation(_middle_of_page(input_file))
        if found.confidence < options.rotate_pages_threshold:
            found = osd.orientation(input_file)
        return OrientationConfidence(angle=found.degrees, confidence=found.confidence)

    @staticmethod
    def get_deskew(input_file: Path, options) -> float:
        return skew_angle(input_file)

    @staticmethod
    def generate_hocr(input_file: Path, output_hocr: Path, output_text: Path, options) -> None:
        page = _engine(options).recognise(input_file, timeout_s=options.tesseract.timeout)
        if page.timed_out:
            # As OCRmyPDF does for a timed-out page: an empty text layer, the page kept.
            log.warning("OCR of %s took longer than %ss: page kept without text", input_file,
                        options.tesseract.timeout)
            output_hocr.write_text("", encoding="utf-8")
            output_text.write_text("[skipped page]", encoding="utf-8")
            return
        output_hocr.write_text(
            HOCR_HEAD.format(version=_version()) + page.hocr + HOCR_TAIL, encoding="utf-8"
        )
        output_text.write_text(page.text, encoding="utf-8")

    @staticmethod
    def generate_pdf(input_file: Path, output_pdf: Path, output_text: Path, options) -> None:
        page = _engine(options).recognise_to_pdf(
            input_file, output_pdf, timeout_s=options.tesseract.timeout
        )
        if page.timed_out:
            raise ocrmypdf.exceptions.SubprocessOutputError(
                f"OCR of a page took longer than {options.tesseract.timeout}s"
            )
        output_text.write_text(page.text, encoding="utf-8")


def _middle_of_page(path: Path) -> bytes:
    """The middle half of the width and third of the height, as PGM bytes."""
    with Image.open(path) as im:
        gray = im.convert("L")
    w, h = gray.size
    box = (w // 4, h // 3, w - w // 4, h - h // 3)
    out = io.BytesIO()
    gray.crop(box).save(out, "PPM")
    return out.getvalue()


def _engine(options) -> tesseract_api.Engine:
    psm = options.tesseract.pagesegmode
    return tesseract_api.engine(
        "+".join(options.languages), tesseract_api.PSM_AUTO if psm is None else psm
    )


@hookimpl
def get_ocr_engine(options):
    return ResidentTesseract()
