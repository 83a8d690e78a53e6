"""Tesseract through its C API (libtesseract, Debian's ``libtesseract5``), models kept loaded.

The ``tesseract`` command loads the German and English models for every page (about half a
second); a worker keeps one engine per process instead and feeds it page after page. Same
library, same models, same settings as the command (page segmentation 3, LSTM models), so the
text is the same. ``OMP_THREAD_LIMIT=1`` must be set before the library loads: parallelism
comes from worker processes, Tesseract's own threads are slower on a busy machine.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import ctypes.util
import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PIL import Image

from eakte.ingest import limit_tesseract_threads

PSM_OSD_ONLY = 0
PSM_AUTO = 3  # what the tesseract command uses unless told otherwise
DEFAULT_DPI = 300  # for page images that do not say their resolution


class TesseractUnavailable(RuntimeError):
    """libtesseract or a language model is missing (an installation problem)."""


@dataclass(frozen=True)
class PageText:
    hocr: str
    text: str
    timed_out: bool = False
    confidence: float | None = None  # Tesseract's mean word confidence, 0-100


@dataclass(frozen=True)
class Word:
    text: str
    confidence: float  # 0-100


@dataclass(frozen=True)
class Orientation:
    degrees: int  # clockwise angle the text is turned by: 0, 90, 180 or 270
    confidence: float


def _load(name: str, soname: str) -> ctypes.CDLL:
    path = ctypes.util.find_library(name) or soname
    try:
        return ctypes.CDLL(path)
    except OSError as exc:
        raise TesseractUnavailable(f"cannot load {soname}: {exc}") from None


class _Lib:
    """The few C functions used, with their signatures."""

    if TYPE_CHECKING:
        # Each C function is set by name in ``__init__`` (a ctypes function with argtypes).
        def __getattr__(self, name: str) -> Callable[..., Any]: ...

    def __init__(self) -> None:
        limit_tesseract_threads()  # before the library (and its OpenMP) loads
        t = _load("tesseract", "libtesseract.so.5")
        lept = _load("lept", "liblept.so.5")
        vp, cp, i, f = ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int, ctypes.c_float
        sigs = {
            (t, "TessVersion"): ([], cp),
            (t, "TessBaseAPICreate"): ([], vp),
            (t, "TessBaseAPIDelete"): ([vp], None),
            (t, "TessBaseAPIEnd"): ([vp], None),
            (t, "TessBaseAPIInit3"): ([vp, cp, cp], i),
            (t, "TessBaseAPISetVariable"): ([vp, cp, cp], i),
            (t, "TessBaseAPISetPageSegMode"): ([vp, i], None),
            (t, "TessBaseAPISetImage2"): ([vp, vp], None),
            (t, "TessBaseAPISetImage"): ([vp, cp, i, i, i, i], None),
            (t, "TessBaseAPISetSourceResolution"): ([vp, i], None),
            (t, "TessBaseAPIRecognize"): ([vp, vp], i),
            (t, "TessBaseAPIGetUTF8Text"): ([vp], vp),
            (t, "TessBaseAPIGetHOCRText"): ([vp, i], vp),
            (t, "TessBaseAPIClear"): ([vp], None),
            (t, "TessBaseAPIMeanTextConf"): ([vp], i),
            (t, "TessBaseAPIGetTsvText"): ([vp, i], vp),
            (t, "TessDeleteText"): ([vp], None),
            (t, "TessMonitorCreate"): ([], vp),
            (t, "TessMonitorDelete"): ([vp], None),
            (t, "TessMonitorSetDeadlineMSecs"): ([vp, i], None),
            (t, "TessBaseAPIGetDatapath"): ([vp], cp),
            (t, "TessPDFRendererCreate"): ([cp, cp, i], vp),
            (t, "TessResultRendererBeginDocument"): ([vp, cp], i),
            (t, "TessResultRendererAddImage"): ([vp, vp], i),
            (t, "TessResultRendererEndDocument"): ([vp], i),
            (t, "TessDeleteResultRenderer"): ([vp], None),
            (
                t,
                "TessBaseAPIDetectOrientationScript",
            ): (
                [vp, ctypes.POINTER(i), ctypes.POINTER(f), ctypes.POINTER(cp), ctypes.POINTER(f)],
                i,
            ),
            (lept, "pixRead"): ([cp], vp),
            (lept, "pixReadMem"): ([cp, ctypes.c_size_t], vp),
            (lept, "pixDestroy"): ([ctypes.POINTER(vp)], None),
            (lept, "pixGetXRes"): ([vp], i),
            (lept, "pixSetResolution"): ([vp, i, i], i),
        }
        for (lib, name), (argtypes, restype) in sigs.items():
            fn = getattr(lib, name)
            fn.argtypes, fn.restype = argtypes, restype
            setattr(self, name, fn)


_lib: _Lib | None = None
_lib_lock = threading.Lock()


def lib() -> _Lib:
    global _lib
    with _lib_lock:
        if _lib is None:
            _lib = _Lib()
        return _lib


def version() -> str:
    return lib().TessVersion().decode()


class _Pix:
    """A Leptonica image read from a file (or from the bytes of an image file), freed on
    exit."""

    def __init__(self, source: Path | bytes):
        if isinstance(source, bytes):
            self.ptr = lib().pixReadMem(source, len(source))
        else:
            self.ptr = lib().pixRead(os.fsencode(source))
        if not self.ptr:
            raise ValueError("Leptonica cannot read the image")

    def __enter__(self) -> _Pix:
        return self

    def __exit__(self, *_exc) -> None:
        ptr = ctypes.c_void_p(self.ptr)
        lib().pixDestroy(ctypes.byref(ptr))


def _opened(image: Path | bytes | Image.Image):
    """An image in memory as it is; a file or its bytes read by Leptonica (freed on exit)."""
    return contextlib.nullcontext(image) if isinstance(image, Image.Image) else _Pix(image)


class Engine:
    """One loaded model set; callers serialise use (one page at a time per engine)."""

    def __init__(self, languages: str, psm: int):
        self.languages = languages
        self._lib = lib()
        self._api = self._lib.TessBaseAPICreate()
        if self._lib.TessBaseAPIInit3(self._api, None, languages.encode()) != 0:
            self._lib.TessBaseAPIDelete(self._api)
            raise TesseractUnavailable(f"Tesseract cannot load the language model(s) {languages}")
        self._lib.TessBaseAPISetPageSegMode(self._api, psm)
        self.lock = threading.Lock()

    def close(self) -> None:
        with self.lock:
            if self._api:
                self._lib.TessBaseAPIEnd(self._api)
                self._lib.TessBaseAPIDelete(self._api)
                self._api = None

    def _set_image(self, pix: _Pix, dpi: int | None = None) -> None:
        if dpi:
            self._lib.pixSetResolution(pix.ptr, dpi, dpi)
        elif self._lib.pixGetXRes(pix.ptr) <= 0:
            # No resolution in the file (e.g. PGM): scans are 300 dpi more often than not.
            self._lib.pixSetResolution(pix.ptr, 300, 300)
        self._lib.TessBaseAPISetImage2(self._api, pix.ptr)

    def _take_text(self, ptr: int | None) -> str:
        if not ptr:
            return ""
        try:
            return ctypes.string_at(ptr).decode("utf-8", errors="replace")
        finally:
            self._lib.TessDeleteText(ptr)

    def _set_gray(self, image: Image.Image, dpi: int) -> None:
        """A page image straight from memory: 8-bit gray rows, no file format to parse
        (Leptonica reads PGM a byte at a time: a tenth of a second per A4 page)."""
        gray = image if image.mode == "L" else image.convert("L")
        data = gray.tobytes()  # Tesseract copies it
        self._lib.TessBaseAPISetImage(self._api, data, gray.width, gray.height, 1, gray.width)
        self._lib.TessBaseAPISetSourceResolution(self._api, dpi)

    def _recognise(self, pix: _Pix | Image.Image, timeout_s: float, dpi: int | None = None) -> bool:
        """Recognise the page; False when it took longer than ``timeout_s``."""
        monitor = self._lib.TessMonitorCreate()
        try:
            if isinstance(pix, Image.Image):
                self._set_gray(pix, dpi or DEFAULT_DPI)
            else:
                self._set_image(pix, dpi)
            self._lib.TessMonitorSetDeadlineMSecs(monitor, int(timeout_s * 1000))
            return self._lib.TessBaseAPIRecognize(self._api, monitor) == 0
        finally:
            self._lib.TessMonitorDelete(monitor)

    def recognise(self, image: Path, timeout_s: float) -> PageText:
        """hOCR and plain text of one page image."""
        with self.lock, _Pix(image) as pix:
            try:
                if not self._recognise(pix, timeout_s):
                    return PageText("", "", timed_out=True)
                hocr = self._take_text(self._lib.TessBaseAPIGetHOCRText(self._api, 0))
                text = self._take_text(self._lib.TessBaseAPIGetUTF8Text(self._api))
                return PageText(hocr, text)
            finally:
                self._lib.TessBaseAPIClear(self._api)

    def recognise_to_pdf(
        self,
        image: Path | bytes | Image.Image,
        output_pdf: Path,
        timeout_s: float,
        dpi: int | None = None,
    ) -> PageText:
        """Write the page's text-only PDF (Tesseract's own renderer, as ``tesseract IMAGE
        BASE pdf`` with ``textonly_pdf=1``) and return its plain text. ``image``: a file, the
        bytes of one, or an image in memory (give ``dpi`` where the image does not say it)."""
        if output_pdf.suffix != ".pdf":
            raise ValueError("the output must end in .pdf")
        with self.lock, _opened(image) as pix:
            renderer = None
            try:
                if not self._recognise(pix, timeout_s, dpi):
                    return PageText("", "", timed_out=True)
                renderer = self._lib.TessPDFRendererCreate(
                    os.fsencode(output_pdf.with_suffix("")),
                    self._lib.TessBaseAPIGetDatapath(self._api),
                    1,
                )
                ok = (
                    renderer
                    and self._lib.TessResultRendererBeginDocument(renderer, b"")
                    and self._lib.TessResultRendererAddImage(renderer, self._api)
                    and self._lib.TessResultRendererEndDocument(renderer)
                )
                if not ok:
                    raise RuntimeError(f"Tesseract could not write the text layer {output_pdf}")
                text = self._take_text(self._lib.TessBaseAPIGetUTF8Text(self._api))
                confidence = float(self._lib.TessBaseAPIMeanTextConf(self._api))
                return PageText("", text, confidence=confidence)
            finally:
                if renderer:
                    self._lib.TessDeleteResultRenderer(renderer)
                self._lib.TessBaseAPIClear(self._api)

    def words(self, image: Image.Image, timeout_s: float, dpi: int | None = None) -> list[Word]:
        """The recognised words of an image in memory with their confidences (empty when
        recognition took longer than ``timeout_s``)."""
        with self.lock:
            try:
                if not self._recognise(image, timeout_s, dpi):
                    return []
                tsv = self._take_text(self._lib.TessBaseAPIGetTsvText(self._api, 0))
            finally:
                self._lib.TessBaseAPIClear(self._api)
        found = []
        for row in tsv.splitlines():
            cells = row.split("\t")
            # level 5 rows are words: level, page, block, par, line, word, box (4), conf, text
            if len(cells) == 12 and cells[0] == "5" and cells[11].strip():
                found.append(Word(cells[11].strip(), float(cells[10])))
        return found

    def orientation(self, image: Path | bytes) -> Orientation:
        """Orientation and script detection (OSD) of an image file or the bytes of one
        (e.g. PGM); confidence 0 when there is too little text."""
        with self.lock, _Pix(image) as pix:
            try:
                self._set_image(pix)
                degrees, conf = ctypes.c_int(0), ctypes.c_float(0.0)
                script, script_conf = ctypes.c_char_p(), ctypes.c_float(0.0)
                found = self._lib.TessBaseAPIDetectOrientationScript(
                    self._api,
                    ctypes.byref(degrees),
                    ctypes.byref(conf),
                    ctypes.byref(script),
                    ctypes.byref(script_conf),
                )
                if not found:
                    return Orientation(0, 0.0)
                return Orientation(degrees.value % 360, float(conf.value))
            finally:
                self._lib.TessBaseAPIClear(self._api)


_idle: dict[tuple[str, int], list[Engine]] = {}  # loaded engines no thread is using
_loaded: list[Engine] = []
_engines_lock = threading.Lock()


@contextlib.contextmanager
def borrowed(languages: str, psm: int = PSM_AUTO) -> Iterator[Engine]:
    """An engine for these languages that no other thread uses meanwhile: one kept from
    earlier (models load once per process), or a new one when all are busy (pages of one
    document recognised in parallel)."""
    key = (languages, psm)
    with _engines_lock:
        idle = _idle.setdefault(key, [])
        engine = idle.pop() if idle else None
    if engine is None:
        engine = Engine(languages, psm)  # loading takes a while: not under the lock
        with _engines_lock:
            if not _loaded:
                atexit.register(close_all)
            _loaded.append(engine)
    try:
        yield engine
    finally:
        with _engines_lock:
            _idle[key].append(engine)


def preload(languages: str, psm: int = PSM_AUTO, count: int = 1) -> None:
    """Have ``count`` engines of this kind loaded (a confined child forked afterwards finds
    them loaded instead of loading the models for every document)."""
    with contextlib.ExitStack() as stack:
        for _ in range(count):
            stack.enter_context(borrowed(languages, psm))


def trim(keep: int = 1) -> int:
    """Close idle engines beyond ``keep`` of each kind, and say how many: a document read on
    every core leaves an engine per core behind (about 26 MB each for deu+eng)."""
    surplus: list[Engine] = []
    with _engines_lock:
        for idle in _idle.values():
            while len(idle) > keep:
                surplus.append(idle.pop())
        for engine in surplus:
            _loaded.remove(engine)
    for engine in surplus:
        engine.close()
    return len(surplus)


def close_all() -> None:
    """Free the models (Tesseract complains about leaks at exit otherwise)."""
    with _engines_lock:
        for loaded in _loaded:
            loaded.close()
        _loaded.clear()
        _idle.clear()
