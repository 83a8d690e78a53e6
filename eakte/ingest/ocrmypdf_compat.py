"""Every use of OCRmyPDF's private internals, in one place, behind a version gate.

The OCR plugin (``eakte.ingest.ocr_engine``) and ``eakte.ingest.ocr`` make OCR several times
cheaper by changing steps OCRmyPDF offers no hook for:

- the deskew step (``ocrmypdf._pipelines._common.preprocess_deskew``, looked up by the
  pipeline in that module at every page) is replaced, so a page kept in memory is turned there
  (``install_deskew``); it needs the page's DPI and the JPEG decision of ``ocrmypdf._pipeline``;
- the built-in PDFium rasteriser's lock (``builtin_plugins.pypdfium._pdfium_lock``) is shared
  with every other PDFium use of the process (``share_pdfium_lock``);
- the tool versions OCRmyPDF asks in subprocesses on every call are kept
  (``keep_tool_versions``, ``ocrmypdf._exec._probe.get_version``).

They are written against OCRmyPDF 17 (``SUPPORTED``). ``self_check()`` uses each of them on
real OCRmyPDF objects (a one-page PDF's ``PdfInfo``) and raises ``OcrmypdfIncompatible``,
naming OCRmyPDF and its version, when one is gone or answers otherwise: a minor release
cannot silently disable a patch. The worker calls it at start; installing the deskew step
(when OCRmyPDF loads the plugin) checks the version and the step too.
"""

from __future__ import annotations

import functools
import inspect
import io
import tempfile
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import ocrmypdf
import ocrmypdf._pipeline as pipeline
import ocrmypdf._pipelines._common as common
import ocrmypdf.builtin_plugins.pypdfium as builtin_pdfium
from ocrmypdf._exec import _probe
from ocrmypdf.helpers import Resolution
from ocrmypdf.pdfinfo import PdfInfo

from eakte.errors import N_, EakteError, ExitCode

DEPENDENCY = "ocrmypdf"
# The versions whose internals this module was written and checked against: [from, below).
SUPPORTED = ((17, 0), (18, 0))

Deskew = Callable[[Path, Any], Path]


class OcrmypdfIncompatible(EakteError):
    """OCRmyPDF's internals that OCR relies on are not what this code was written for."""

    exit_code = ExitCode.config
    http_status = 500
    user_message = N_("An internal error occurred. Please try again later.")

    def __init__(self, detail: str):
        super().__init__(f"{DEPENDENCY} {version()} is not supported: {detail}")
        self.dependency = DEPENDENCY
        self.version = version()
        self.detail = detail


def version() -> str:
    return str(ocrmypdf.__version__)


def _version_tuple() -> tuple[int, ...]:
    parts = []
    for part in version().split(".")[:2]:
        digits = "".join(c for c in part if c.isdigit())
        parts.append(int(digits or 0))
    return tuple(parts)


def check_version() -> None:
    low, high = SUPPORTED
    if not low <= _version_tuple() < high:
        raise OcrmypdfIncompatible(
            f"eakte.ingest.ocrmypdf_compat supports {_dotted(low)} up to (not including) "
            f"{_dotted(high)}; check its private uses against the new version first"
        )


def _dotted(parts: tuple[int, ...]) -> str:
    return ".".join(map(str, parts))


# --- the deskew step ---------------------------------------------------------------------------


def page_square_dpi(page_context: Any) -> Resolution:
    """The page image's resolution as OCRmyPDF's deskew step computes it."""
    return pipeline.get_page_square_dpi(page_context, pipeline.calculate_image_dpi(page_context))


def visible_page_is_jpeg(pageinfo: Any) -> bool:
    """Whether OCRmyPDF makes the visible page image a JPEG (its images all were)."""
    return bool(pipeline.should_visible_page_image_use_jpg(pageinfo))


def original_deskew(input_file: Path, page_context: Any) -> Path:
    """OCRmyPDF's own deskew step."""
    return pipeline.preprocess_deskew(input_file, page_context)


def install_deskew(replacement: Deskew) -> None:
    """Make the pipeline call ``replacement`` for its deskew step (OCRmyPDF has no hook for
    it; its pipeline looks the function up in ``_common``). Checks the version and the step
    first: an OCRmyPDF that no longer calls it there fails instead of losing the change."""
    check_version()
    problem = _deskew_problem()
    if problem:
        raise OcrmypdfIncompatible(problem)
    # OCRmyPDF types the step with its private PageContext; ours takes any page context.
    common.preprocess_deskew = replacement  # type: ignore[assignment]


def _deskew_problem() -> str | None:
    original = getattr(pipeline, "preprocess_deskew", None)
    if original is None or not callable(getattr(common, "preprocess_deskew", None)):
        return "the deskew step (preprocess_deskew) is gone"
    if list(inspect.signature(original).parameters) != ["input_file", "page_context"]:
        return f"the deskew step takes other arguments: {inspect.signature(original)}"
    callers = [
        fn
        for fn in vars(common).values()
        if inspect.isfunction(fn) and "preprocess_deskew" in fn.__code__.co_names
    ]
    if not callers:
        return "the pipeline no longer looks the deskew step up in ocrmypdf._pipelines._common"
    return None


# --- PDFium's lock and the tool versions -------------------------------------------------------


def share_pdfium_lock(lock: Any) -> None:
    """The built-in rasteriser takes ``lock`` (it looks its lock up when it renders)."""
    if not hasattr(builtin_pdfium, "_pdfium_lock"):
        raise OcrmypdfIncompatible("the built-in PDFium rasteriser has no lock to share")
    builtin_pdfium._pdfium_lock = lock


@functools.cache
def keep_tool_versions() -> None:
    """OCRmyPDF asks ``tesseract --version`` and ``gs --version`` in subprocesses on every
    call, six per document; a worker calls it for every document, so the answers are kept
    for the life of the process."""
    original = getattr(_probe, "get_version", None)
    if original is None:
        raise OcrmypdfIncompatible("ocrmypdf._exec._probe.get_version is gone")
    answers: dict[tuple[Any, ...], Any] = {}

    def get_version(program: str, *args: Any, env: Any = None, **kwargs: Any) -> Any:
        key = (program, args, tuple(sorted(kwargs.items())), tuple(sorted((env or {}).items())))
        if key not in answers:
            answers[key] = original(program, *args, env=env, **kwargs)
        return answers[key]

    _probe.get_version = get_version


# --- the start-up check ------------------------------------------------------------------------


def self_check() -> None:
    """Check the version, then use every private access above on real OCRmyPDF objects;
    raises ``OcrmypdfIncompatible`` naming OCRmyPDF and its version when one no longer
    works."""
    check_version()
    try:
        problem = _probe_internals()
    except OcrmypdfIncompatible:
        raise
    except Exception as exc:  # any failure of an internal is the finding itself
        problem = f"{type(exc).__name__}: {exc}"
    if problem:
        raise OcrmypdfIncompatible(problem)


def _probe_internals() -> str | None:
    problem = _deskew_problem()
    if problem:
        return problem
    lock = getattr(builtin_pdfium, "_pdfium_lock", None)
    if not (hasattr(lock, "acquire") and hasattr(lock, "release")):
        return "the built-in PDFium rasteriser has no lock to share"
    if not any(
        inspect.isfunction(fn) and "_pdfium_lock" in fn.__code__.co_names
        for fn in vars(builtin_pdfium).values()
    ):
        return "the built-in PDFium rasteriser no longer looks its lock up"
    if not callable(getattr(_probe, "get_version", None)):
        return "ocrmypdf._exec._probe.get_version is gone"
    # A real page: a 300 dpi grayscale scan, as img2pdf makes one.
    with tempfile.TemporaryDirectory(prefix="eakte-ocrmypdf-check-") as tmp:
        pdf = Path(tmp) / "page.pdf"
        pdf.write_bytes(_scan_pdf())
        info = PdfInfo(pdf)
    page = info[0]
    context = SimpleNamespace(pageinfo=page, options=SimpleNamespace(oversample=0))
    dpi = page_square_dpi(context)
    if round(float(dpi.x)) != 300 or round(float(dpi.y)) != 300:
        return f"the page resolution is computed otherwise ({dpi.x}x{dpi.y}, expected 300)"
    if visible_page_is_jpeg(page) is not False:
        return "a PNG scan is taken for a JPEG page"
    return None


def _scan_pdf() -> bytes:
    import img2pdf
    from PIL import Image

    image = Image.new("L", (300, 300), 255)
    png = io.BytesIO()
    image.save(png, format="PNG", dpi=(300, 300))
    return bytes(img2pdf.convert(png.getvalue()))


__all__ = [
    "SUPPORTED",
    "OcrmypdfIncompatible",
    "check_version",
    "install_deskew",
    "keep_tool_versions",
    "original_deskew",
    "page_square_dpi",
    "self_check",
    "share_pdfium_lock",
    "visible_page_is_jpeg",
]
