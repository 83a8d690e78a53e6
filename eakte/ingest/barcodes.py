"""Barcodes on scanned pages (issue 17), read and written with zxing-cpp.

A cover sheet (Deckblatt) carries a QR code ``EAKTE:PROCESS:<uuid>``: the stack behind it
belongs to that process. A separator sheet carries a Code 128 (or QR) with the configured text
(default ``PATCHT``, the text paperless-ngx uses): the stack is split there. Pages are rendered
at a low resolution chosen for speed (``EAKTE_BARCODE_DPI``, 100 by default: a QR module or a
Code 128 bar of the sheets printed here is several pixels wide at 100 dpi), in grey, and read
for the two symbologies only.
"""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from eakte.ingest.text import PDFIUM_LOCK

COVER_PREFIX = "EAKTE:PROCESS:"


@dataclass(frozen=True)
class PageCodes:
    index: int  # 0-based page number
    texts: tuple[str, ...]


def _formats():
    import zxingcpp

    return (zxingcpp.BarcodeFormat.QRCode, zxingcpp.BarcodeFormat.Code128)


def read_codes(image: Image.Image) -> tuple[str, ...]:
    """The texts of the QR and Code 128 symbols on a page image."""
    import zxingcpp

    found = zxingcpp.read_barcodes(image.convert("L"), formats=_formats(), try_invert=False)
    return tuple(b.text for b in found if b.valid)


def cover_process(texts: tuple[str, ...]) -> uuid.UUID | None:
    """The process a cover sheet names, if the page is one."""
    for text in texts:
        if text.upper().startswith(COVER_PREFIX):
            try:
                return uuid.UUID(text[len(COVER_PREFIX) :].strip())
            except ValueError:
                continue
    return None


def is_separator(texts: tuple[str, ...], separator: str) -> bool:
    return bool(separator) and any(t.strip() == separator for t in texts)


def page_images(path: Path, kind: str, dpi: int, first_only: bool = False) -> Iterator[Image.Image]:
    """Each page as a grey image at ``dpi``: PDF pages rendered with PDFium, TIFF frames and
    single images scaled from their own resolution."""
    if kind == "pdf":
        import pypdfium2

        # PDFium is not thread-safe: every call holds the process's one PDFium lock (imports
        # read files in threads; without it `eakte import` died of SIGSEGV in the cluster test).
        with PDFIUM_LOCK:
            pdf = pypdfium2.PdfDocument(str(path))
            count = len(pdf)
        try:
            for index in range(count):
                with PDFIUM_LOCK:
                    page = pdf[index]
                    try:
                        image = page.render(scale=dpi / 72, grayscale=True).to_pil()
                    finally:
                        page.close()
                yield image
                if first_only:
                    return
        finally:
            with PDFIUM_LOCK:
                pdf.close()
        return
    with Image.open(path) as image:
        index = 0
        while True:
            image.seek(index)
            frame = image.convert("L")
            source_dpi = image.info.get("dpi", (dpi, dpi))[0] or dpi
            if source_dpi > dpi * 1.2:
                scale = dpi / float(source_dpi)
                frame = frame.resize(
                    (max(1, int(frame.width * scale)), max(1, int(frame.height * scale)))
                )
            yield frame
            if first_only:
                return
            index += 1
            try:
                image.seek(index)
            except EOFError:
                return


def scan_pages(path: Path, kind: str, dpi: int, first_only: bool = False) -> list[PageCodes]:
    return [
        PageCodes(index, read_codes(image))
        for index, image in enumerate(page_images(path, kind, dpi, first_only))
    ]


# ----------------------------------------------------------------------------- writing


def symbol_image(text: str, qr: bool = True, scale: int = 8) -> Image.Image:
    """A QR code (or Code 128) of ``text`` as a black-on-white image."""
    import zxingcpp

    fmt = zxingcpp.BarcodeFormat.QRCode if qr else zxingcpp.BarcodeFormat.Code128
    barcode = zxingcpp.create_barcode(text, fmt)
    rendered = zxingcpp.write_barcode_to_image(barcode, scale=scale)
    return Image.fromarray(_array(rendered)).convert("L")


def _array(rendered):
    import numpy

    return numpy.asarray(rendered)


def png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()
