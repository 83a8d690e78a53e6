"""An OCRmyPDF plugin that makes OCR cost little more than Tesseract itself.

OCRmyPDF's built-in engine starts the ``tesseract`` command three times per page (orientation,
deskew angle, recognition), loading the models each time, and renders each page twice. This
plugin keeps OCRmyPDF's pipeline (rasterise, rotate, deskew, text layer, PDF/A) and changes
only how the answers are found:

- recognition: the same Tesseract through its C API, models loaded once per worker process
  (``tesseract_api``); the text layer is Tesseract's own PDF renderer (``pdf_renderer=
  "sandwich"``), as with ``tesseract IMAGE BASE pdf``;
- orientation: a page that clearly shows upright text lines is taken as upright
  (``orientation``); any other page gets Tesseract's orientation detection, and where that is
  not confident, recognition decides (``orientation_vote``);
- deskew angle: from the projection profile of the ink (``deskew``);
- rasterising: the page rendered for the orientation preview is kept and written again as the
  page image, instead of being rendered a second time;
- deskewing: the kept page is turned in memory and handed to Tesseract from there; the file
  OCRmyPDF keeps for the visible page is written uncompressed where it only becomes a JPEG
  (``_deskew_in_memory``). Compressing and decompressing 8-megapixel intermediates cost a
  fifth of the OCR time.

Loaded by name: ``ocrmypdf.ocr(..., plugins=["eakte.ingest.ocr_engine"])``; when OCRmyPDF
loads it (its ``initialize`` hook), the deskew step and the PDFium lock are installed. Every use
of OCRmyPDF's private internals is in ``eakte.ingest.ocrmypdf_compat``, behind a version gate.
"""

from __future__ import annotations

import functools
import io
import logging
import threading
from contextlib import closing
from pathlib import Path

import ocrmypdf.exceptions
import pikepdf
import pluggy
import pypdfium2 as pdfium
from ocrmypdf import hookimpl
from ocrmypdf.builtin_plugins.tesseract_ocr import TesseractOcrEngine
from ocrmypdf.pluginspec import OrientationConfidence
from PIL import Image

from eakte.ingest import (
    heartbeat,
    ocrmypdf_compat,
    orientation_vote,
    page_quality,
    tesseract_api,
)
from eakte.ingest.deskew import skew_angle
from eakte.ingest.orientation import looks_upright
from eakte.ingest.text import PDFIUM_LOCK

log = logging.getLogger(__name__)

UPRIGHT_CONFIDENCE = 15.0  # above OCRmyPDF's default threshold for acting on an orientation
DECIDED_CONFIDENCE = 1000.0  # the vote's answer: acted on whatever the threshold
GRAY_DEVICES = {"pnggray": "L", "pngmono": "1", "pngmonod": "1"}
# PDFium is not thread-safe: one lock for every use in the process — text reading, our
# rasteriser and OCRmyPDF's built-in one (given this lock in ``initialize``).
_pdfium_lock = PDFIUM_LOCK
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
        with tesseract_api.borrowed("osd", tesseract_api.PSM_OSD_ONLY) as osd:
            found = osd.orientation(_pgm(_middle(image)))
            if found.confidence < options.rotate_pages_threshold:
                found = osd.orientation(_pgm(image))
        if found.confidence < options.rotate_pages_threshold:
            # OSD is unsure (sparse or degraded pages): recognition decides (issue 18).
            voted = orientation_vote.vote(image, found.degrees)
            if voted is not None:
                return OrientationConfidence(angle=voted.degrees, confidence=DECIDED_CONFIDENCE)
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
        languages = "+".join(options.languages)
        # The OCR image is usually a link to the deskewed page, which is still in memory.
        kept = _kept(Path(input_file).resolve())
        image: Path | Image.Image = input_file
        dpi = None
        if kept is not None and "dpi" in kept.info:
            image, dpi = kept, round(kept.info["dpi"][0])
        mode = tesseract_api.PSM_AUTO if psm is None else psm
        with tesseract_api.borrowed(languages, mode) as engine:
            page = engine.recognise_to_pdf(
                image, output_pdf, timeout_s=options.tesseract.timeout, dpi=dpi
            )
        if page.timed_out:
            raise ocrmypdf.exceptions.SubprocessOutputError(
                f"OCR of a page took longer than {options.tesseract.timeout}s"
            )
        output_text.write_text(page.text, encoding="utf-8")
        page_quality.note(Path(input_file), page.confidence)  # the batch check (issue 18)
        heartbeat.progressed()  # a long document keeps its claim page by page


def _deskew_in_memory(input_file: Path, page_context) -> Path:
    """OCRmyPDF's ``preprocess_deskew`` for a page kept in memory: the same angle hook and
    turn, the result kept for Tesseract, and written uncompressed where OCRmyPDF only reads it
    back to make the visible JPEG (a PNG there would be compressed once and thrown away)."""
    image = _kept(Path(input_file))
    if image is None:  # not rendered by this plugin: OCRmyPDF's own step
        return ocrmypdf_compat.original_deskew(input_file, page_context)
    dpi = ocrmypdf_compat.page_square_dpi(page_context)
    options = page_context.options
    engine = page_context.plugin_manager.get_ocr_engine(options=options)
    angle = engine.get_deskew(input_file, options)
    if angle:
        # Bilinear: for the few degrees a feeder skews a 300 dpi page it reads as well as
        # bicubic (same OCR accuracy in bench/ingest_ocr_bench.py) at a third of the cost.
        image = image.rotate(angle, resample=Image.Resampling.BILINEAR, fillcolor=255)
    image.info["dpi"] = (float(dpi.x), float(dpi.y))
    if ocrmypdf_compat.visible_page_is_jpeg(page_context.pageinfo):
        output_file = page_context.get_path("pp_deskew.tif")
        image.save(output_file, format="TIFF", dpi=image.info["dpi"])
    else:  # this file becomes the page image itself (img2pdf embeds PNG data as it is)
        output_file = page_context.get_path("pp_deskew.png")
        image.save(output_file, format="PNG", dpi=image.info["dpi"])
    _pages.files = {Path(output_file): image}
    return output_file


@hookimpl
def initialize(plugin_manager: pluggy.PluginManager) -> None:
    """When OCRmyPDF loads the plugin (holding its plugin lock): the deskew step and the
    shared PDFium lock, which OCRmyPDF offers no hook for (``ocrmypdf_compat``)."""
    ocrmypdf_compat.share_pdfium_lock(PDFIUM_LOCK)
    ocrmypdf_compat.install_deskew(_deskew_in_memory)


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


def _page_image(input_file: Path, pageno: int, dpi) -> Image.Image:
    """The page in grayscale at ``dpi``: the page's own scan where the page is exactly one
    image filling it at that resolution (what img2pdf makes of a scan), else rendered."""
    scan = _scan_of_page(input_file, pageno, dpi)
    return scan if scan is not None else _render_gray(input_file, pageno, dpi)


def _scan_of_page(input_file: Path, pageno: int, dpi) -> Image.Image | None:
    with pikepdf.open(input_file) as pdf:
        page = pdf.pages[pageno - 1]
        images = page.get_images(recursive=False)
        resources = page.obj.get("/Resources", pikepdf.Dictionary())
        if len(images) != 1 or "/Font" in resources or int(page.obj.get("/Rotate", 0)) % 360:
            return None
        left, bottom, right, top = (float(v) for v in page.mediabox)
        width_pt, height_pt = right - left, top - bottom
        if not _drawn_over_whole_page(page, width_pt, height_pt):
            return None
        stream = next(iter(images.values()))
        if not isinstance(stream, pikepdf.Stream):  # an image XObject is a stream
            return None
        image = pikepdf.PdfImage(stream)
        expected = (round(width_pt * dpi.x / 72.0), round(height_pt * dpi.y / 72.0))
        if abs(image.width - expected[0]) > 2 or abs(image.height - expected[1]) > 2:
            return None
        plain = "/Decode" not in image.obj and not image.image_mask
        if not plain or image.colorspace != "/DeviceGray" or image.bits_per_component not in (1, 8):
            return None
        try:
            scan = image.as_pil_image().convert("L")
        except (pikepdf.PikepdfError, OSError, ValueError) as exc:
            # pikepdf decodes JBIG2 with the jbig2dec program; without it (or for data it
            # refuses) the page is rendered instead: PDFium decodes JBIG2 and CCITT itself.
            log.info("page %d: image not decoded by pikepdf (%s); rendering it", pageno, exc)
            return None
    if scan.size != expected:
        canvas = Image.new("L", expected, 255)
        canvas.paste(scan, (0, 0))
        scan = canvas
    return scan


def _drawn_over_whole_page(page: pikepdf.Page, width_pt: float, height_pt: float) -> bool:
    """The content is ``q W 0 0 H 0 0 cm /Im Do Q``: the image stretched over the page."""
    operators = [(str(i.operator), i.operands) for i in pikepdf.parse_content_stream(page)]
    names = [op for op, _ in operators]
    if names != ["q", "cm", "Do", "Q"]:
        return False
    a, b, c, d, e, f = (float(v) for v in operators[1][1])
    return abs(a - width_pt) < 1 and abs(d - height_pt) < 1 and not (b or c or e or f)


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
        image = _page_image(Path(input_file), pageno, raster_dpi)
        # Only this plugin's engine reads the preview, and it takes the image kept in memory;
        # the file is a small likeness for OCRmyPDF's work folder.
        preview = image.reduce(4)
        preview.save(output_file, format="JPEG", dpi=(float(dpi.x) / 4, float(dpi.y) / 4))
        _pages.rendered = (key, image)
        _pages.files = {Path(output_file): image}
        return output_file
    rendered = getattr(_pages, "rendered", None)
    if device not in GRAY_DEVICES or rendered is None or rendered[0] != key:
        return None
    image = rendered[1].convert(GRAY_DEVICES[device]) if device != "pnggray" else rendered[1]
    # The deskew step takes the page from memory; the file is for OCRmyPDF's bookkeeping and
    # anything that reads it by content (Pillow, Leptonica, img2pdf): uncompressed TIFF, the
    # cheapest to write, despite the name OCRmyPDF chose.
    image.save(output_file, format="TIFF", dpi=(float(dpi.x), float(dpi.y)))
    _pages.rendered = None
    _pages.files = {Path(output_file): rendered[1]}
    return output_file


@hookimpl
def get_ocr_engine(options):
    return ResidentTesseract()
