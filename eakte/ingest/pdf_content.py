"""Image sizes a PDF declares where an object-by-object look does not find them.

``bounds`` checks every image object's ``/Width`` and ``/Height``. An image can also be
written into a content stream itself (an inline image, ``BI … ID … EI``) — in a page, in a
form drawn by a form, in an annotation's appearance, in a tiling pattern's cell, in a Type 3
glyph — and the data of a JPEG or JPEG 2000 image states its own size, which is what the
decoder allocates, whatever the image object says. Both are read here from the declarations,
before anything is decoded: content streams are only inflated (within the bounds already
checked) and searched for ``BI``; JPEG and JPEG 2000 headers are parsed.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Iterator

import pikepdf

from eakte.ingest.reasons import Reason, Rejected

# An inline image: BI, its dictionary, ID (then the data, then EI). BI must stand as an
# operator (after white space or a delimiter), the dictionary is short.
_INLINE = re.compile(rb"(?:^|(?<=[\s\]>)}]))BI[\s/](.{0,4096}?)\sID[\s]", re.S)
_SIDE = re.compile(rb"/(W|Width|H|Height)\s+(\d{1,12})(?![\d.])")
# Filters whose output is bounded before this runs (``bounds._check_stream``); content
# streams under other filters (LZW, run length) are left to the job's limits.
BOUNDED_FILTERS = {"/FlateDecode", "/Fl", "/ASCIIHexDecode", "/AHx", "/ASCII85Decode", "/A85"}
_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


def content_streams(pdf: pikepdf.Pdf) -> Iterator[pikepdf.Stream]:
    """Every stream that holds content operators: pages' contents, forms (annotation
    appearances are forms), tiling patterns, Type 3 glyph procedures."""
    seen: set[tuple[int, int]] = set()

    def once(stream) -> Iterator[pikepdf.Stream]:
        if isinstance(stream, pikepdf.Stream) and stream.objgen not in seen:
            seen.add(stream.objgen)
            yield stream

    for page in pdf.pages:
        contents = page.obj.get("/Contents")
        for part in contents if isinstance(contents, pikepdf.Array) else [contents]:
            yield from once(part)
    for obj in pdf.objects:
        if not isinstance(obj, pikepdf.Dictionary | pikepdf.Stream):
            continue
        if isinstance(obj, pikepdf.Stream) and (
            obj.get("/Subtype") == pikepdf.Name.Form or "/PatternType" in obj
        ):
            yield from once(obj)
        procs = obj.get("/CharProcs")
        if isinstance(procs, pikepdf.Dictionary):
            for glyph in procs.values():
                yield from once(glyph)


def check_inline_images(pdf: pikepdf.Pdf, max_pixels: int) -> None:
    """``Rejected`` if an inline image in any content stream declares more than
    ``max_pixels``."""
    for stream in content_streams(pdf):
        if not _filters(stream) <= BOUNDED_FILTERS:
            continue
        try:
            data = stream.read_bytes()
        except pikepdf.PdfError:
            continue  # a broken stream draws nothing
        for width, height in inline_sizes(data):
            if width * height > max_pixels:
                raise Rejected(
                    Reason.image_too_large,
                    f"an image written into its content (object {stream.objgen[0]}) declares "
                    f"{width:,} × {height:,} pixels; the limit is {max_pixels:,} "
                    "(EAKTE_INGEST_MAX_PIXELS)",
                )


def inline_sizes(data: bytes) -> Iterator[tuple[int, int]]:
    for found in _INLINE.finditer(data):
        sides = {key[:1]: int(value) for key, value in _SIDE.findall(found.group(1))}
        if b"W" in sides and b"H" in sides:
            yield sides[b"W"], sides[b"H"]


def check_coded_size(data: bytes, codec: str, objnum: int, max_pixels: int) -> None:
    """The size a JPEG (``/DCTDecode``) or JPEG 2000 (``/JPXDecode``) image's own header
    declares: the decoder allocates that, not the image object's ``/Width`` × ``/Height``."""
    size = jpeg_size(data) if codec in ("/DCTDecode", "/DCT") else jpx_size(data)
    if size is not None and size[0] * size[1] > max_pixels:
        raise Rejected(
            Reason.image_too_large,
            f"the data of an image in it (object {objnum}) declares {size[0]:,} × "
            f"{size[1]:,} pixels; the limit is {max_pixels:,} (EAKTE_INGEST_MAX_PIXELS)",
        )


def jpeg_size(data: bytes) -> tuple[int, int] | None:
    """Width and height from the first start-of-frame segment."""
    at = 2 if data[:2] == b"\xff\xd8" else None
    while at is not None and at + 9 <= len(data):
        if data[at] != 0xFF:
            return None
        marker = data[at + 1]
        if marker == 0xFF:  # fill byte
            at += 1
            continue
        if marker in _SOF:
            height, width = struct.unpack(">HH", data[at + 5 : at + 9])
            return width, height
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            at += 2
            continue
        (length,) = struct.unpack(">H", data[at + 2 : at + 4])
        at += 2 + length
    return None


def jpx_size(data: bytes) -> tuple[int, int] | None:
    """Width and height from the SIZ marker of the codestream (in a JP2 file or bare)."""
    at = data.find(b"\xff\x4f\xff\x51")
    if at < 0 or len(data) < at + 24:
        return None
    xsiz, ysiz, xosiz, yosiz = struct.unpack(">IIII", data[at + 8 : at + 24])
    return max(0, xsiz - xosiz), max(0, ysiz - yosiz)


def _filters(stream: pikepdf.Stream) -> set[str]:
    filters = stream.get("/Filter")
    if isinstance(filters, pikepdf.Name):
        return {str(filters)}
    if isinstance(filters, pikepdf.Array):
        return {str(f) for f in filters}
    return set()
