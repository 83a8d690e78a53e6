"""An OCRmyPDF plugin that makes OCR cost little more than Tesseract itself.

OCRmyPDF's built-in engine starts the ``tesseract`` command three times per page (orientation,
deskew angle, recognition), loading the models each time, and renders each page twice. This
plugin keeps OCRmyPDF's pipeline (rasterise, rotate, deskew, text layer, PDF/A) and changes
only how the answers are found:

- recognition: the same Tesseract through its C API, models loaded once per worker process
  (``tesseract_api``); the text layer is Tesseract's own PDF renderer (``pdf_renderer=
  "sandwich"``), as with ``tesseract IMAGE BASE pdf``;
- orientation: a page that clearly shows upright text lines is taken as upright
  (``orientation``); any other page gets Tesseract's orientation detection;
- deskew angle: from the projection profile of the ink (``deskew``);
- rasterising: the page rendered for the orientation preview is kept and written again as the
  page image, instead of being rendered a second time.

Loaded by name: ``ocrmypdf.ocr(..., plugins=["eakte.ingest.ocr_engine"])``.
"""

from __future__ import annotations

import functools
import io
import logging
import threading
from contextlib import closing
from pathlib import Path

import ocrmypdf.builtin_plugins.pypdfium as builtin_pdfium
import ocrmypdf.exceptions
import pypdfium2 as pdfium
from ocrmypdf import hookimpl
from ocrmypdf.builtin_plugins.tesseract_ocr import TesseractOcrEngine
from ocrmypdf.pluginspec import OrientationConfidence
from PIL import Image

from eakte.ingest import tesseract_api
from eakte.ingest.deskew import skew_angle
from eakte.ingest.orientation import looks_upright

log = logging.getLogger(__name__)

UPRIGHT_CONFIDENCE = 15.0  # above OCRmyPDF's default threshold for acting on an orientation
GRAY_DEVICES = {"pnggray": "L", "pngmono": "1", "pngmonod": "1"}
# pdfium is not thread-safe: share the built-in rasteriser's lock where it has one.
_pdfium_lock = getattr(builtin_pdfium, "_pdfium_lock", threading.Lock())
_pages = threading.local()  # the page image of the page this thread is working on


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
        image = _kept(input_file)
        if image is None:
            with Image.open(input_file) as opened:
                image = opened.convert("L")
        if looks_upright(image):
            return OrientationConfidence(angle=0, confidence=UPRIGHT_CONFIDENCE)
        # OSD decides on a few hundred characters: the middle of the page answers as surely
        # and at half the cost; a page with little text there is looked at as a whole.
        osd = tesseract_api.engine("osd", tesseract_api.PSM_OSD_ONLY)
        found = osd.orientation(_pgm(_middle(image)))
        if found.confidence < options.rotate_pages_threshold:
            found = osd.orientation(_pgm(image))
        return OrientationConfidence(angle=found.degrees, confidence=found.confidence)

    @staticmethod
    def get_deskew(input_file: Path, options) -> float:
        return skew_angle(_kept(input_file) or input_file)

    @staticmethod
    def generate_hocr(input_file: Path, output_hocr: Path, output_text: Path, options) -> None:
        # Only the "sandwich" renderer is used (see ocr.py); hOCR stays with OCRmyPDF's own
        # engine so that nothing behaves differently if someone selects it.
        TesseractOcrEngine.generate_hocr(input_file, output_hocr, output_text, options)

    @staticmethod
    def generate_pdf(input_file: Path, output_pdf: Path, output_text: Path, options) -> None:
        psm = options.tesseract.pagesegmode
        engine = tesseract_api.engine(
            "+".join(options.languages), tesseract_api.PSM_AUTO if psm is None else psm
        )
        page = engine.recognise_to_pdf(input_file, output_pdf, timeout_s=options.tesseract.timeout)
        if page.timed_out:
            raise ocrmypdf.exceptions.SubprocessOutputError(
                f"OCR of a page took longer than {options.tesseract.timeout}s"
            )
        output_text.write_text(page.text, encoding="utf-8")


def _middle(image: Image.Image) -> Image.Image:
    """The middle half of the width and third of the height."""
    w, h = image.size
    return image.crop((w // 4, h // 3, w - w // 4, h - h // 3))


def _pgm(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.convert("L").save(out, "PPM")
    return out.getvalue()


def _kept(path: Path) -> Image.Image | None:
    kept = getattr(_pages, "files", {})
    return kept.get(Path(path))


def _render_gray(input_file: Path, pageno: int, dpi) -> Image.Image:
    """The page in grayscale at ``dpi``, sized as OCRmyPDF expects (as the built-in
    rasteriser does: the whole MediaBox, a pixel or two of rounding trimmed or padded)."""
    with (
        _pdfium_lock,
        closing(pdfium.PdfDocument(input_file)) as pdf,
        closing(pdf[pageno - 1]) as page,
    ):
        width_pt, height_pt = page.get_size()
        page.set_cropbox(*page.get_mediabox())
        bitmap = page.render(
            scale=dpi.to_scalar() / 72.0, may_draw_forms=True, draw_annots=True, grayscale=True
        )
        with closing(bitmap):
            rendered = bitmap.to_pil().convert("L")  # a copy that owns its pixels
    expected = (round(width_pt * dpi.x / 72.0), round(height_pt * dpi.y / 72.0))
    if rendered.size != expected:
        canvas = Image.new("L", expected, 255)
        canvas.paste(rendered, (0, 0))
        rendered = canvas
    return rendered


@hookimpl
def rasterize_pdf_page(
    input_file,
    output_file,
    raster_device,
    raster_dpi,
    pageno,
    page_dpi,
    rotation,
    filter_vector,
    stop_on_soft_error,
    options,
    use_cropbox,
):
    """Render the preview once and reuse it as the page image; anything else (colour pages,
    turned pages, vector filtering) is left to the built-in rasteriser (``None``)."""
    if filter_vector or use_cropbox or rotation:
        return None
    if options is not None and options.rasterizer == "ghostscript":
        return None
    device = str(raster_device).lower()
    key = (str(input_file), pageno, raster_dpi.round(6))
    dpi = page_dpi or raster_dpi
    if device == "jpeggray":
        image = _render_gray(Path(input_file), pageno, raster_dpi)
        image.save(output_file, format="JPEG", dpi=(float(dpi.x), float(dpi.y)))
        _pages.rendered = (key, image)
        _pages.files = {Path(output_file): image}
        return output_file
    rendered = getattr(_pages, "rendered", None)
    if device not in GRAY_DEVICES or rendered is None or rendered[0] != key:
        return None
    image = rendered[1].convert(GRAY_DEVICES[device]) if device != "pnggray" else rendered[1]
    # Level 1: a temporary file, read once by the next step; speed matters more than size.
    image.save(output_file, format="PNG", dpi=(float(dpi.x), float(dpi.y)), compress_level=1)
    _pages.rendered = None
    _pages.files = {Path(output_file): rendered[1]}
    return output_file


@hookimpl
def get_ocr_engine(options):
    return ResidentTesseract()
