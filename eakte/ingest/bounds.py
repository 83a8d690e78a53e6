"""Bounds for every file eAkte reads, checked on headers and structure before anything is
rasterised or decompressed for real.

What a file may ask of the machine is learned from what it declares: the size of each page
(points × ``/UserUnit``) and the pixels it needs at the resolution it will be rendered at (OCR,
previews), the number of pages and objects, how deeply objects nest, the dimensions of every
image (PDF image objects, soft masks, inline images in any content stream and the sizes JPEG
and JPEG 2000 data declare inside: ``pdf_content``; TIFF directories, PNG and JPEG headers),
and what its compressed streams really inflate to — inflated here with a hard cap on the bytes
produced, counted and thrown away, never trusting a declared length. A file out of bounds
raises ``Rejected`` (it goes to quarantine, with the reason). What cannot be bounded from
outside (LZW streams, the inside of JBIG2 data) is left to the second line: processing runs in
a child process with hard memory and CPU limits (``confine``).
"""

from __future__ import annotations

import base64
import binascii
import math
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pikepdf
from PIL import PngImagePlugin

from eakte.ingest.pdf_content import check_coded_size, check_inline_images
from eakte.ingest.reasons import Reason, Rejected

OCR_DPI = 400  # OCRmyPDF rasterises a page with vector content or text at this resolution
MAX_DEPTH = 100  # arrays and dictionaries nested in one another; real files stay below 10
MAX_OBJECTS = 2_000_000
MAX_STREAM_BYTES = 128 * 1024 * 1024  # one decoded stream that is not an image
INFLATE_CHUNK = 1 << 20
BOMB_RATIO = 1000  # decoded bytes per file byte beyond which a huge image is a "bomb"
BITS_PER_PIXEL = {"1": 1, "L": 8, "P": 8, "LA": 16, "I;16": 16, "RGB": 24}
MAX_CHUNK = PngImagePlugin.MAX_TEXT_CHUNK  # what Pillow itself allows a compressed PNG chunk
COMPONENTS = {"/DeviceGray": 1, "/CalGray": 1, "/Indexed": 1, "/DeviceRGB": 3, "/CalRGB": 3}


@dataclass(frozen=True)
class Bounds:
    max_pixels: int  # one image, or one page at the resolution it is rendered at
    max_pages: int
    max_decoded_bytes: int  # all streams of one file, decoded


# ------------------------------------------------------------------------------------ pages


def page_size(page: pikepdf.Page) -> tuple[float, float]:
    """Width and height in points, ``/UserUnit`` applied; ``Rejected`` if nonsense."""
    try:
        left, bottom, right, top = (float(v) for v in page.mediabox)
        unit = float(page.obj.get("/UserUnit", 1))
    except (TypeError, ValueError, pikepdf.PdfError) as exc:
        raise Rejected(Reason.pdf_damaged, f"a page has no readable size: {exc}") from None
    width, height = abs(right - left) * unit, abs(top - bottom) * unit
    if not (math.isfinite(width) and math.isfinite(height)) or width <= 0 or height <= 0:
        raise Rejected(Reason.pdf_damaged, f"a page claims a size of {width} × {height} points")
    return width, height


def pixels_at(size: tuple[float, float], dpi: float) -> int:
    return math.ceil(size[0] / 72 * dpi) * math.ceil(size[1] / 72 * dpi)


def check_page(page: pikepdf.Page, number: int, dpi: float, bounds: Bounds) -> None:
    size = page_size(page)
    pixels = pixels_at(size, dpi)
    if pixels > bounds.max_pixels:
        raise Rejected(
            Reason.page_too_large,
            f"page {number} is {size[0] / 72 * 2.54:,.0f} × {size[1] / 72 * 2.54:,.0f} cm: "
            f"{pixels:,} pixels at {dpi:.0f} dpi; the limit is {bounds.max_pixels:,} "
            "(EAKTE_INGEST_MAX_PIXELS)",
        )


def preview_dpi(path, page_number: int, dpi: float, max_pixels: int) -> float | None:
    """The resolution at which page ``page_number`` of the PDF at ``path`` fits ``max_pixels``
    (``dpi`` or less: a huge page gets a coarser preview); None if not even 1 dpi fits."""
    with pikepdf.open(path) as pdf:
        size = page_size(pdf.pages[page_number - 1])
    # a little under the exact root: the pixel count rounds each side up
    fitting = min(dpi, 0.99 * math.sqrt(max_pixels / (size[0] / 72 * size[1] / 72)))
    return fitting if fitting >= 1 and pixels_at(size, fitting) <= max_pixels else None


# -------------------------------------------------------------------------------------- PDF


def check_pdf(pdf: pikepdf.Pdf, bounds: Bounds) -> None:
    """Pages (count, size at the OCR resolution), objects (count, nesting), images
    (declared dimensions) and streams (what they inflate to)."""
    pages = len(pdf.pages)
    if pages > bounds.max_pages:
        raise Rejected(
            Reason.too_many_pages,
            f"{pages} pages; the limit is {bounds.max_pages} (EAKTE_INGEST_MAX_PAGES)",
        )
    objects = len(pdf.objects)
    if objects > MAX_OBJECTS:
        raise Rejected(Reason.too_complex, f"{objects:,} objects; at most {MAX_OBJECTS:,}")
    for number, page in enumerate(pdf.pages, start=1):
        check_page(page, number, OCR_DPI, bounds)
    budget = _Budget(bounds.max_decoded_bytes)
    for obj in pdf.objects:
        _check_depth(obj)
        if isinstance(obj, pikepdf.Stream):
            _check_stream(obj, bounds, budget)
    check_inline_images(pdf, bounds.max_pixels)  # in content streams, bounded just now


def _check_depth(top: pikepdf.Object) -> None:
    for _, depth in direct_parts(top):
        if depth > MAX_DEPTH:
            raise Rejected(Reason.too_complex, f"objects nested more than {MAX_DEPTH} levels deep")


def direct_parts(top: pikepdf.Object) -> Iterator[tuple[pikepdf.Object, int]]:
    """An indirect object and the dictionaries and arrays written directly inside it (an
    /OpenAction action, say), with how deep each is; indirect references are visited as
    objects of their own."""
    stack = [(top, 0)]
    while stack:
        obj, depth = stack.pop()
        if isinstance(obj, pikepdf.Dictionary | pikepdf.Stream):
            children = obj.values()
        elif isinstance(obj, pikepdf.Array):
            children = obj
        else:
            continue
        yield obj, depth
        stack.extend(
            (c, depth + 1)
            for c in children
            if isinstance(c, pikepdf.Dictionary | pikepdf.Array) and not c.is_indirect
        )


class _Budget:
    def __init__(self, limit: int):
        self.limit, self.used = limit, 0

    def spend(self, amount: int) -> None:
        self.used += amount
        if self.used > self.limit:
            raise Rejected(
                Reason.decompression_bomb,
                f"its streams inflate to more than {self.limit:,} bytes "
                "(EAKTE_INGEST_MAX_DECODED_MB)",
            )


def _check_stream(stream: pikepdf.Stream, bounds: Bounds, budget: _Budget) -> None:
    """An image may inflate to its declared size (itself bounded), any other stream to
    ``MAX_STREAM_BYTES``, and all other streams together to the file's budget (a scan of
    2,000 pages holds gigabytes of legitimate image data; its other streams do not)."""
    image = stream.get("/Subtype") == pikepdf.Name.Image or (
        "/Subtype" not in stream and "/Width" in stream and "/Height" in stream
    )  # a soft mask need not say that it is an image, and is decoded as one
    cap = _check_image(stream, bounds) if image else MAX_STREAM_BYTES
    spend = _ignore if image else budget.spend
    found = stream.get("/Filter")
    filters: list[object] = (
        [found]
        if isinstance(found, pikepdf.Name)
        else list(found)
        if isinstance(found, pikepdf.Array)
        else []
    )
    data = stream.read_raw_bytes()
    for name in (str(f) for f in filters):
        if name in ("/ASCIIHexDecode", "/AHx"):
            data = _hex(data)
        elif name in ("/ASCII85Decode", "/A85"):
            data = _a85(data)
        elif name in ("/FlateDecode", "/Fl"):
            spend(_inflated_size(data, cap, stream))
            return
        else:  # an image codec, LZW, RunLength: decoded later, under the process limits
            if name == "/JBIG2Decode":
                _check_jbig2(data, stream, bounds)
            elif image and name in ("/DCTDecode", "/DCT", "/JPXDecode"):
                check_coded_size(data, name, stream.objgen[0], bounds.max_pixels)
            break
    spend(len(data))


def _ignore(_amount: int) -> None:
    pass


JBIG2_PAGE_INFO = 48
JBIG2_MAX_SEGMENTS = 256  # page information comes first; a few segments are enough


def _check_jbig2(data: bytes, stream: pikepdf.Stream, bounds: Bounds) -> None:
    """JBIG2 data says its page size once more, inside (the decoder allocates that)."""
    parms = stream.get("/DecodeParms")
    globals_ = parms.get("/JBIG2Globals") if isinstance(parms, pikepdf.Dictionary) else None
    for part in (data, globals_.read_raw_bytes() if isinstance(globals_, pikepdf.Stream) else b""):
        for width, height in _jbig2_page_sizes(part):
            if height != 0xFFFFFFFF and width * height > bounds.max_pixels:
                raise Rejected(
                    Reason.image_too_large,
                    f"a JBIG2 image in it declares a page of {width:,} × {height:,} pixels; "
                    f"the limit is {bounds.max_pixels:,} (EAKTE_INGEST_MAX_PIXELS)",
                )


def _jbig2_page_sizes(data: bytes):
    """Width and height of each page information segment (ITU T.88 7.2, embedded
    organisation: segment headers one after another, each followed by its data)."""
    at = 0
    for _ in range(JBIG2_MAX_SEGMENTS):
        if len(data) < at + 6:
            return
        number = int.from_bytes(data[at : at + 4], "big")
        flags, count_byte = data[at + 4], data[at + 5]
        at += 6
        referred = count_byte >> 5
        if referred == 7:  # long form: a 4-byte count, then retention bits
            referred = int.from_bytes(data[at - 1 : at + 3], "big") & 0x1FFFFFFF
            at += 3 + (referred + 8) // 8
        at += referred * (1 if number <= 256 else 2 if number <= 65536 else 4)
        at += 4 if flags & 0x40 else 1
        if len(data) < at + 4:
            return
        length = int.from_bytes(data[at : at + 4], "big")
        at += 4
        if flags & 0x3F == JBIG2_PAGE_INFO and len(data) >= at + 8:
            yield (
                int.from_bytes(data[at : at + 4], "big"),
                int.from_bytes(data[at + 4 : at + 8], "big"),
            )
        if length == 0xFFFFFFFF:  # unknown length: the rest is one region
            return
        at += length


def _check_image(stream: pikepdf.Stream, bounds: Bounds) -> int:
    """Declared dimensions within bounds; returns the most its data may inflate to."""
    try:
        width, height = int(stream.get("/Width", 0)), int(stream.get("/Height", 0))
        bits = int(stream.get("/BitsPerComponent", 8))
    except (TypeError, ValueError) as exc:
        raise Rejected(Reason.pdf_damaged, f"an image has no readable size: {exc}") from None
    parms = stream.get("/DecodeParms")
    if isinstance(parms, pikepdf.Dictionary):  # CCITT says its size once more
        width = max(width, int(parms.get("/Columns", 0)))
        height = max(height, int(parms.get("/Rows", 0)))
    if width <= 0 or height <= 0 or not 1 <= bits <= 16:
        raise Rejected(
            Reason.pdf_damaged, f"an image claims {width} × {height} pixels of {bits} bits"
        )
    if width * height > bounds.max_pixels:
        raise Rejected(
            Reason.image_too_large,
            f"an image in it claims {width:,} × {height:,} = {width * height:,} pixels; the "
            f"limit is {bounds.max_pixels:,} (EAKTE_INGEST_MAX_PIXELS)",
        )
    components = _components(stream.get("/ColorSpace"))
    row = math.ceil(width * components * bits / 8) + 1  # + a PNG predictor byte
    return row * height + INFLATE_CHUNK


def _components(space) -> int:
    if isinstance(space, pikepdf.Array) and len(space) > 1:
        if space[0] == pikepdf.Name.ICCBased and isinstance(space[1], pikepdf.Stream):
            return int(space[1].get("/N", 4))
        space = space[0]
    return COMPONENTS.get(str(space), 4) if space is not None else 1


def _inflated_size(data: bytes, cap: int, stream: pikepdf.Stream) -> int:
    """Inflate ``data`` counting the bytes that come out, ``INFLATE_CHUNK`` at a time;
    ``Rejected`` as soon as more than ``cap`` came out."""
    inflater, produced = zlib.decompressobj(), 0
    pending = data
    try:
        while pending:
            produced += len(inflater.decompress(pending, INFLATE_CHUNK))
            if produced > cap:
                raise Rejected(
                    Reason.decompression_bomb,
                    f"a stream of {len(data):,} bytes (object {stream.objgen[0]}) inflates "
                    f"to more than {cap:,} bytes",
                )
            pending = inflater.unconsumed_tail
            if inflater.eof:
                break
    except zlib.error:
        pass  # a broken stream: renderers show what decodes; counted so far
    return produced


def _hex(data: bytes) -> bytes:
    digits = bytes(c for c in data.split(b">")[0] if c in b"0123456789abcdefABCDEF")
    try:
        return binascii.unhexlify(digits + b"0" * (len(digits) % 2))
    except binascii.Error:
        return b""


def _a85(data: bytes) -> bytes:
    body = data.strip()
    body = body[2:] if body.startswith(b"<~") else body
    try:
        return base64.a85decode(body.split(b"~>")[0], ignorechars=b" \t\n\r\x0b\x0c")
    except ValueError:
        return b""


# ----------------------------------------------------------------------------------- images


def check_pixels(dims: tuple[int, int], mode: str, size: int, bounds: Bounds) -> None:
    """An image's header dimensions: within ``max_pixels``, and not a bomb."""
    width, height = dims
    if width <= 0 or height <= 0:
        raise Rejected(Reason.image_damaged, f"the image claims a size of {width} × {height}")
    pixels = width * height
    if pixels <= bounds.max_pixels:
        return
    decoded = pixels * BITS_PER_PIXEL.get(mode, 32) // 8
    if decoded > size * BOMB_RATIO:
        raise Rejected(
            Reason.decompression_bomb,
            f"{width} × {height} pixels ({decoded / 1e6:,.0f} MB decoded) from a "
            f"{size / 1e3:,.0f} kB file",
        )
    raise Rejected(
        Reason.image_too_large,
        f"{width} × {height} = {pixels:,} pixels; the limit is {bounds.max_pixels:,} "
        "(EAKTE_INGEST_MAX_PIXELS)",
    )


def check_png_chunks(path: Path) -> None:
    """Compressed text and colour-profile chunks must not expand beyond what Pillow allows."""
    with path.open("rb") as fh:
        if fh.read(8) != b"\x89PNG\r\n\x1a\n":
            raise Rejected(Reason.image_damaged, "not a PNG signature")
        while header := fh.read(8):
            if len(header) < 8:
                break
            length, ctype = struct.unpack(">I4s", header)
            if ctype in (b"IDAT", b"IEND"):
                return
            data = fh.read(length)
            fh.seek(4, 1)  # CRC
            compressed = _compressed_part(ctype, data)
            if compressed is None:
                continue
            inflater = zlib.decompressobj()
            try:
                inflater.decompress(compressed, MAX_CHUNK)
            except zlib.error:
                continue  # Pillow skips a broken ancillary chunk as well
            if inflater.unconsumed_tail:
                raise Rejected(
                    Reason.decompression_bomb,
                    f"a {ctype.decode('latin-1')} chunk of {length:,} bytes expands beyond "
                    f"{MAX_CHUNK:,} bytes",
                )


def _compressed_part(ctype: bytes, data: bytes) -> bytes | None:
    if ctype in (b"zTXt", b"iCCP"):
        keyword_end = data.find(b"\0")
        return data[keyword_end + 2 :] if keyword_end >= 0 else None
    if ctype == b"iTXt":
        keyword_end = data.find(b"\0")
        if keyword_end < 0 or len(data) < keyword_end + 3 or data[keyword_end + 1] != 1:
            return None
        rest = data[keyword_end + 3 :]
        language_end = rest.find(b"\0")
        translated_end = rest.find(b"\0", language_end + 1)
        return rest[translated_end + 1 :] if translated_end >= 0 else None
    return None
