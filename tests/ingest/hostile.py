"""A corpus of hostile files, generated (each a few kB): what an attacker or a broken scanner
sends. ``CORPUS``: name -> (maker, what must become of it: a quarantine reason code, or
"ready"/"failed" after processing). Shared by tests/ingest/test_hostile_files.py and
bench/hostile_files_bench.py."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib

import pikepdf
from PIL import Image

from tests.ingest.conftest import born_digital_pdf, png_chunk, png_header


def _pdf(build, pages: int = 1, size=(595, 842)) -> bytes:
    pdf = pikepdf.new()
    for _ in range(pages):
        pdf.add_blank_page(page_size=size)
    build(pdf)
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


def _zeros_deflated(size: int) -> bytes:
    packer, chunk = zlib.compressobj(9), b"\0" * (1 << 20)
    parts = [packer.compress(chunk) for _ in range(size >> 20)]
    return b"".join(parts) + packer.flush()


def _image(pdf: pikepdf.Pdf, data: bytes, **entries) -> None:
    image = pikepdf.Stream(pdf, data)
    image.Type, image.Subtype = pikepdf.Name.XObject, pikepdf.Name.Image
    for key, value in entries.items():
        image[f"/{key}"] = value
    page = pdf.pages[0]
    page.Resources = pikepdf.Dictionary(XObject=pikepdf.Dictionary(Im0=image))
    page.Contents = pdf.make_stream(b"q 595 0 0 842 0 0 cm /Im0 Do Q")


def huge_mediabox() -> bytes:
    return _pdf(lambda pdf: None, size=(14400, 14400))


def huge_userunit() -> bytes:
    def build(pdf):
        pdf.pages[0].obj.UserUnit = 75000

    return _pdf(build)


def deep_nesting() -> bytes:
    def build(pdf):
        nested = pikepdf.Array([1])
        for _ in range(300):
            nested = pikepdf.Array([nested])
        pdf.pages[0].obj.Junk = nested

    return _pdf(build)


def stream_bomb() -> bytes:  # a content stream: 160 kB inflating to 160 MB
    def build(pdf):
        stream = pikepdf.Stream(pdf, _zeros_deflated(160 << 20))
        stream.Filter = pikepdf.Name.FlateDecode
        pdf.pages[0].Contents = stream

    return _pdf(build)


def image_inflate_bomb() -> bytes:  # a 100 × 100 image whose data inflates to 40 MB
    return _pdf(
        lambda pdf: _image(
            pdf,
            _zeros_deflated(40 << 20),
            Width=100,
            Height=100,
            BitsPerComponent=8,
            ColorSpace=pikepdf.Name.DeviceGray,
            Filter=pikepdf.Name.FlateDecode,
        )
    )


def image_huge_dimensions() -> bytes:
    return _pdf(
        lambda pdf: _image(
            pdf,
            b"\0" * 100,
            Width=100_000,
            Height=100_000,
            BitsPerComponent=8,
            ColorSpace=pikepdf.Name.DeviceRGB,
        )
    )


def _jbig2(width: int, height: int) -> bytes:
    """A JBIG2 image object of ``width`` × ``height`` whose data (a page information
    segment) declares a page of 200,000 × 200,000."""
    page_info = b"\0\0\0\0\x30\0\1\0\0\0\x13" + struct.pack(">II", 200_000, 200_000)
    return _pdf(
        lambda pdf: _image(
            pdf,
            page_info + b"\0" * 11,
            Width=width,
            Height=height,
            BitsPerComponent=1,
            ColorSpace=pikepdf.Name.DeviceGray,
            Filter=pikepdf.Name.JBIG2Decode,
        )
    )


def jbig2_bomb() -> bytes:  # the image object itself declares 200,000²
    return _jbig2(200_000, 200_000)


def jbig2_page_bomb() -> bytes:  # a 100 × 100 image whose JBIG2 data says 200,000²
    return _jbig2(100, 100)


def ccitt_bomb() -> bytes:  # small /Width and /Height, the decoder told 100,000 × 100,000
    return _pdf(
        lambda pdf: _image(
            pdf,
            b"\0" * 64,
            Width=1728,
            Height=10,
            BitsPerComponent=1,
            ColorSpace=pikepdf.Name.DeviceGray,
            Filter=pikepdf.Name.CCITTFaxDecode,
            DecodeParms=pikepdf.Dictionary(K=-1, Columns=100_000, Rows=100_000),
        )
    )


def inline_image_bomb() -> bytes:
    """An inline image (inside the content stream) declaring 60,000 × 60,000 pixels: found
    at intake since issue 25 (``pdf_content``); with the limit raised, the second line (the
    job's limits) stops it."""

    def build(pdf):
        content = b"q 595 0 0 842 0 0 cm BI /W 60000 /H 60000 /BPC 8 /CS /G ID \0\0\0\0 EI Q"
        pdf.pages[0].Contents = pdf.make_stream(content)

    return _pdf(build)


def thousands_of_tiny_pages() -> bytes:
    return _pdf(lambda pdf: None, pages=2001, size=(3, 3))


def self_referencing_objects() -> bytes:
    def build(pdf):
        loop = pdf.make_indirect(pikepdf.Dictionary())
        loop.Self = loop
        loop.Kids = pikepdf.Array([loop])
        pdf.pages[0].obj.Loop = loop

    return _pdf(build)


def page_tree_loop() -> bytes:
    """A page tree whose /Kids lead back to itself (qpdf repairs or refuses it)."""
    data = born_digital_pdf(1)
    return data.replace(b"/Type /Page\n", b"/Type /Pages /Kids [1 0 R]\n", 1)


def broken_font_and_content() -> bytes:
    def build(pdf):
        font_file = pikepdf.Stream(pdf, b"\x00\x01\x00\x00 not a font at all" * 20)
        descriptor = pikepdf.Dictionary(
            Type=pikepdf.Name.FontDescriptor,
            FontName=pikepdf.Name.Broken,
            Flags=32,
            FontBBox=[0, 0, 1000, 1000],
            FontFile2=font_file,
        )
        font = pikepdf.Dictionary(
            Type=pikepdf.Name.Font,
            Subtype=pikepdf.Name.TrueType,
            BaseFont=pikepdf.Name.Broken,
            FontDescriptor=descriptor,
        )
        page = pdf.pages[0]
        page.Resources = pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=font))
        page.Contents = pdf.make_stream(b"BT /F1 12 Tf 72 700 Td (Bescheid) Tj ET ((( [[[ } Tj")

    return _pdf(build)


def polyglot_pdf_zip() -> bytes:
    """A born-digital PDF with a ZIP appended (a valid ZIP from its end): kept as a PDF."""
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("payload.exe", b"MZ" + b"\0" * 100)
    return born_digital_pdf(1, "Polyglott Gewerbeanmeldung") + archive.getvalue()


def _tiff_ifd(entries: list[tuple[int, int, int, int]], next_offset: int) -> bytes:
    body = struct.pack("<H", len(entries))
    for tag, kind, count, value in entries:
        body += struct.pack("<HHII", tag, kind, count, value)
    return body + struct.pack("<I", next_offset)


def tiff_many_directories(count: int = 10_000) -> bytes:
    """1 × 1 pixel pages, 10,000 of them."""
    out = bytearray(b"II*\0" + struct.pack("<I", 8))
    ifd_size = 2 + 8 * 12 + 4
    for index in range(count):
        start = len(out)
        pixel = start + ifd_size
        following = pixel + 2 if index < count - 1 else 0
        entries = [
            (256, 4, 1, 1), (257, 4, 1, 1), (258, 3, 1, 8), (259, 3, 1, 1),
            (262, 3, 1, 1), (273, 4, 1, pixel), (278, 4, 1, 1), (279, 4, 1, 1),
        ]  # fmt: skip
        out += _tiff_ifd(entries, following) + b"\x80\0"
    return bytes(out)


def tiff_huge_dimensions() -> bytes:
    entries = [
        (256, 4, 1, 1_000_000), (257, 4, 1, 1_000_000), (258, 3, 1, 8), (259, 3, 1, 8),
        (262, 3, 1, 1), (273, 4, 1, 8 + 2 + 8 * 12 + 4), (278, 4, 1, 1_000_000), (279, 4, 1, 16),
    ]  # fmt: skip
    return b"II*\0" + struct.pack("<I", 8) + _tiff_ifd(entries, 0) + zlib.compress(b"\0" * 64)


def png_bomb() -> bytes:
    idat = zlib.compress(b"\0" * 4096)
    return png_header(100_000, 100_000) + png_chunk(b"IDAT", idat) + png_chunk(b"IEND", b"")


def png_icc_bomb() -> bytes:
    profile = b"sRGB\0\0" + _zeros_deflated(64 << 20)
    idat = zlib.compress(b"\0\0")
    return (
        png_header(1, 1) + png_chunk(b"iCCP", profile) + png_chunk(b"IDAT", idat)
        + png_chunk(b"IEND", b"")
    )  # fmt: skip


def jpeg_huge() -> bytes:
    """A real 8 × 8 JPEG whose frame header says 65535 × 65535."""
    out = io.BytesIO()
    Image.new("L", (8, 8), 255).save(out, "JPEG")
    data = bytearray(out.getvalue())
    sof = data.find(b"\xff\xc0")
    struct.pack_into(">HH", data, sof + 5, 65535, 65535)
    return bytes(data)


# name -> (maker, file name, the quarantine reason; or "ready"/"failed" once processed)
CORPUS = {
    "huge_mediabox": (huge_mediabox, "plan.pdf", "page_too_large"),
    "huge_userunit": (huge_userunit, "plan.pdf", "page_too_large"),
    "deep_nesting": (deep_nesting, "tief.pdf", "too_complex"),
    "stream_inflate_bomb": (stream_bomb, "bombe.pdf", "decompression_bomb"),
    "image_inflate_bomb": (image_inflate_bomb, "bild.pdf", "decompression_bomb"),
    "image_100k_x_100k": (image_huge_dimensions, "bild.pdf", "image_too_large"),
    "jbig2_bomb": (jbig2_bomb, "fax.pdf", "image_too_large"),
    "jbig2_page_bomb": (jbig2_page_bomb, "fax.pdf", "image_too_large"),
    "ccitt_bomb": (ccitt_bomb, "fax.pdf", "image_too_large"),
    "thousands_of_tiny_pages": (thousands_of_tiny_pages, "viele.pdf", "too_many_pages"),
    "tiff_10000_directories": (tiff_many_directories, "akte.tif", "too_many_pages"),
    "tiff_huge_dimensions": (tiff_huge_dimensions, "akte.tif", "decompression_bomb"),
    "png_bomb": (png_bomb, "foto.png", "decompression_bomb"),
    "png_icc_bomb": (png_icc_bomb, "foto.png", "decompression_bomb"),
    "jpeg_65535_x_65535": (jpeg_huge, "foto.jpg", "decompression_bomb"),
    "inline_image_bomb": (inline_image_bomb, "inline.pdf", "image_too_large"),
    "self_referencing_objects": (self_referencing_objects, "schleife.pdf", "ready"),
    "page_tree_loop": (page_tree_loop, "schleife.pdf", "pdf_damaged"),
    "broken_font_and_content": (broken_font_and_content, "schrift.pdf", "ready"),
    "polyglot_pdf_zip": (polyglot_pdf_zip, "antrag.pdf", "ready"),
}
