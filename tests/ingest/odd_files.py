"""Odd but readable files, generated (issue 25): what real scanners, fax servers and phones
send that is legal (or that readers accept) but unusual — and the damaged ones a parser
rejects with an exception type nobody expects. Each maker returns the file's bytes."""

from __future__ import annotations

import io
import struct

from PIL import Image


def _tiff_directories(data: bytes) -> list[int]:
    """Offsets of the image file directories of a little-endian TIFF."""
    offsets, at = [], struct.unpack("<I", data[4:8])[0]
    while at:
        offsets.append(at)
        count = struct.unpack("<H", data[at : at + 2])[0]
        at = struct.unpack("<I", data[at + 2 + 12 * count : at + 6 + 12 * count])[0]
    return offsets


def tiff_second_page_without_width() -> bytes:
    """Two pages; the second directory's ImageWidth tag renamed to an unknown tag. Pillow
    opens the first page and raises ``TypeError("Missing dimensions")`` on seeking to the
    second (its open catches that, its seek does not)."""
    out = io.BytesIO()
    pages = [Image.new("L", (16, 8), 0), Image.new("L", (16, 8), 255)]
    pages[0].save(out, "TIFF", save_all=True, append_images=pages[1:])
    data = bytearray(out.getvalue())
    second = _tiff_directories(bytes(data))[1]
    for index in range(struct.unpack("<H", data[second : second + 2])[0]):
        entry = second + 2 + 12 * index
        if struct.unpack("<H", data[entry : entry + 2])[0] == 256:  # ImageWidth
            struct.pack_into("<H", data, entry, 65000)
    return bytes(data)


# ------------------------------------------------------------------------- odd but readable

SERIF = "/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf"
WORDS = "Bescheid Gebühren"


def text_page(size=(560, 90), mode: str = "L", words: str = WORDS) -> Image.Image:
    """A small page with one line of text (OCR stays quick), at 200 dpi."""
    from PIL import ImageDraw, ImageFont

    page = Image.new("L", size, 255)
    ImageDraw.Draw(page).text((20, 20), words, font=ImageFont.truetype(SERIF, 40), fill=0)
    page = page.convert(mode) if mode != "L" else page
    page.info["dpi"] = (200, 200)
    return page


def _saved(image: Image.Image, fmt: str, **options) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, dpi=(200, 200), **options)
    return out.getvalue()


def _g4(image: Image.Image) -> bytes:
    """The CCITT T.6 (G4) coding of a bilevel image, 0 bits white (as fax and JBIG2's MMR
    mode code it): the single strip of a G4 TIFF of the inverted image (Pillow writes
    black-is-zero)."""
    from PIL import ImageOps

    inverted = ImageOps.invert(image.convert("L")).convert("1")
    out = io.BytesIO()
    inverted.save(out, "TIFF", compression="group4", tiffinfo={278: image.height})
    with Image.open(io.BytesIO(out.getvalue())) as tiff:
        offset, length = tiff.tag_v2[273][0], tiff.tag_v2[279][0]
    return out.getvalue()[offset : offset + length]


def jbig2_data(image: Image.Image) -> bytes:
    """An embedded JBIG2 stream (ITU T.88, as PDF carries it): a page information segment
    and one immediate generic region, MMR-coded."""

    def segment(number: int, kind: int, data: bytes) -> bytes:
        return struct.pack(">IBBBI", number, kind, 0, 1, len(data)) + data

    width, height = image.size
    page = segment(0, 48, struct.pack(">IIIIBH", width, height, 0, 0, 0, 0))
    region = struct.pack(">IIIIB", width, height, 0, 0, 0) + b"\x01" + _g4(image)
    return page + segment(1, 38, region)


def _image_pdf(data: bytes, size: tuple[int, int], dpi: int = 200, **entries) -> bytes:
    import pikepdf

    pdf = pikepdf.new()
    points = (size[0] * 72 / dpi, size[1] * 72 / dpi)
    pdf.add_blank_page(page_size=points)
    image = pikepdf.Stream(pdf, data)
    image.Type, image.Subtype = pikepdf.Name.XObject, pikepdf.Name.Image
    image.Width, image.Height = size
    for key, value in entries.items():
        image[f"/{key}"] = value
    page = pdf.pages[0]
    page.Resources = pikepdf.Dictionary(XObject=pikepdf.Dictionary(Im0=image))
    page.Contents = pdf.make_stream(f"q {points[0]} 0 0 {points[1]} 0 0 cm /Im0 Do Q".encode())
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


def jbig2_pdf() -> bytes:
    import pikepdf

    page = text_page(mode="1")
    return _image_pdf(
        jbig2_data(page),
        page.size,
        BitsPerComponent=1,
        ColorSpace=pikepdf.Name.DeviceGray,
        Filter=pikepdf.Name.JBIG2Decode,
    )


def ccitt_pdf() -> bytes:
    """A fax page: G4 TIFF → PDF (img2pdf embeds the CCITT data as it is)."""
    import img2pdf

    return img2pdf.convert(_saved(text_page(mode="1"), "TIFF", compression="group4"))


def junk_before_header(junk: int = 300) -> bytes:
    """A PDF behind ``junk`` bytes (a mail gateway's or a scanner's prefix): readers look for
    ``%PDF-`` in the first 1024 bytes."""
    from tests.ingest.conftest import born_digital_pdf

    prefix = (b"X-Scanner: Kyocera\r\n" + bytes(range(256)))[:junk].ljust(junk, b"\0")
    return prefix + born_digital_pdf(1, "Bescheid über Gebühren")


def tiny(fmt: str, size: tuple[int, int]) -> bytes:
    options = {"compression": "tiff_lzw"} if fmt == "TIFF" else {}
    return _saved(Image.new("L", size, 0), fmt, **options)


def sixteen_bit(fmt: str, mode: str) -> bytes:
    """16 bits per sample: grey ("I;16") or RGB (PNG and TIFF; Pillow cannot write 16-bit
    RGB, so the PNG is assembled by hand and the TIFF through its raw writer)."""
    page = text_page()
    if mode == "I;16":
        return _saved(page.convert("I").point(lambda v: v * 257).convert("I;16"), fmt)
    width, height = page.size
    samples = b"".join(struct.pack(">H", v * 257) * 3 for v in page.tobytes())
    if fmt == "PNG":
        import zlib

        from tests.ingest.conftest import png_chunk, png_header

        rows = b"".join(b"\0" + samples[y * width * 6 : (y + 1) * width * 6] for y in range(height))
        return (
            png_header(width, height, bit_depth=16, colour=2)
            + png_chunk(b"IDAT", zlib.compress(rows))
            + png_chunk(b"IEND", b"")
        )
    return _rgb16_tiff(width, height, samples)


def _rgb16_tiff(width: int, height: int, big_endian_samples: bytes) -> bytes:
    body = big_endian_samples
    entries = [
        (256, 4, 1, width), (257, 4, 1, height), (258, 3, 3, 0), (259, 3, 1, 1),
        (262, 3, 1, 2), (273, 4, 1, 0), (277, 3, 1, 3), (278, 4, 1, height),
        (279, 4, 1, len(body)), (284, 3, 1, 1),
    ]  # fmt: skip
    ifd_at = 8
    ifd_size = 2 + 12 * len(entries) + 4
    bits_at = ifd_at + ifd_size
    data_at = bits_at + 6
    out = bytearray(b"MM\0*" + struct.pack(">I", ifd_at) + struct.pack(">H", len(entries)))
    for tag, kind, count, value in entries:
        value = {258: bits_at, 273: data_at}.get(tag, value)
        packed = struct.pack(">HHI", tag, kind, count)
        short = kind == 3 and count == 1  # a SHORT value sits left-aligned in the field
        packed += struct.pack(">HH", value, 0) if short else struct.pack(">I", value)
        out += packed
    out += struct.pack(">I", 0) + struct.pack(">HHH", 16, 16, 16) + body
    return bytes(out)


def cmyk(fmt: str) -> bytes:
    return _saved(text_page().convert("CMYK"), fmt)


def phone_photo(orientation: int) -> bytes:
    """A JPEG as a phone writes it: the pixels as the sensor saw them, turned, and the EXIF
    Orientation tag saying how to show them upright (6: turn 90° clockwise; 3: 180°; 8: 90°
    counter-clockwise)."""
    page = text_page().convert("RGB")
    stored = {6: Image.Transpose.ROTATE_90, 3: Image.Transpose.ROTATE_180,
              8: Image.Transpose.ROTATE_270}[orientation]  # fmt: skip
    exif = Image.Exif()
    exif[0x0112] = orientation
    return _saved(page.transpose(stored), "JPEG", exif=exif.tobytes(), quality=90)


# ------------------------------------------------------------------ image bombs inside PDFs

BOMB_SIDE = 60_000  # 60,000 × 60,000 = 3.6 gigapixels: gigabytes once decoded
_INLINE = f"BI /W {BOMB_SIDE} /H {BOMB_SIDE} /BPC 8 /CS /G ID \0\0\0\0 EI".encode()


def _one_page(build) -> bytes:
    import pikepdf

    pdf = pikepdf.new()
    pdf.add_blank_page(page_size=(200, 100))
    build(pdf, pdf.pages[0])
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


def _form(pdf, content: bytes, **entries):
    import pikepdf

    form = pdf.make_stream(content)
    form.Type, form.Subtype = pikepdf.Name.XObject, pikepdf.Name.Form
    form.BBox = [0, 0, 200, 100]
    for key, value in entries.items():
        form[f"/{key}"] = value
    return form


def inline_in_page() -> bytes:
    def build(pdf, page):
        page.Contents = pdf.make_stream(b"q 200 0 0 100 0 0 cm " + _INLINE + b" Q")

    return _one_page(build)


def inline_in_nested_form() -> bytes:
    """A form that draws a form that holds the inline image."""
    import pikepdf

    def build(pdf, page):
        inner = _form(pdf, b"q 200 0 0 100 0 0 cm " + _INLINE + b" Q")
        outer = _form(
            pdf, b"/Fx1 Do", Resources=pikepdf.Dictionary(XObject=pikepdf.Dictionary(Fx1=inner))
        )
        page.Resources = pikepdf.Dictionary(XObject=pikepdf.Dictionary(Fx0=outer))
        page.Contents = pdf.make_stream(b"/Fx0 Do")

    return _one_page(build)


def inline_in_annotation() -> bytes:
    """The image in the appearance stream of a stamp annotation (drawn by every viewer)."""
    import pikepdf

    def build(pdf, page):
        appearance = _form(pdf, b"q 200 0 0 100 0 0 cm " + _INLINE + b" Q")
        stamp = pikepdf.Dictionary(
            Type=pikepdf.Name.Annot,
            Subtype=pikepdf.Name.Stamp,
            Rect=[0, 0, 200, 100],
            AP=pikepdf.Dictionary(N=appearance),
        )
        page.Annots = pdf.make_indirect(pikepdf.Array([pdf.make_indirect(stamp)]))

    return _one_page(build)


def inline_in_pattern() -> bytes:
    """A tiling pattern whose cell draws the image; the page is filled with the pattern."""
    import pikepdf

    def build(pdf, page):
        cell = _form(
            pdf,
            b"q 200 0 0 100 0 0 cm " + _INLINE + b" Q",
            PatternType=1,
            PaintType=1,
            TilingType=1,
            XStep=200,
            YStep=100,
        )
        del cell["/Type"], cell["/Subtype"]
        cell.Type = pikepdf.Name.Pattern
        page.Resources = pikepdf.Dictionary(Pattern=pikepdf.Dictionary(P0=cell))
        page.Contents = pdf.make_stream(b"/Pattern cs /P0 scn 0 0 200 100 re f")

    return _one_page(build)


def inline_in_type3_glyph() -> bytes:
    """A Type 3 font whose glyph draws the image; the page shows one character."""
    import pikepdf

    def build(pdf, page):
        glyph = pdf.make_stream(b"1000 0 d0 q 200 0 0 100 0 0 cm " + _INLINE + b" Q")
        font = pikepdf.Dictionary(
            Type=pikepdf.Name.Font,
            Subtype=pikepdf.Name.Type3,
            FontBBox=[0, 0, 1000, 1000],
            FontMatrix=[0.001, 0, 0, 0.001, 0, 0],
            CharProcs=pikepdf.Dictionary(a=glyph),
            Encoding=pikepdf.Dictionary(Differences=[97, pikepdf.Name.a]),
            FirstChar=97,
            LastChar=97,
            Widths=[1000],
            Resources=pikepdf.Dictionary(),
        )
        page.Resources = pikepdf.Dictionary(Font=pikepdf.Dictionary(T0=pdf.make_indirect(font)))
        page.Contents = pdf.make_stream(b"BT /T0 100 Tf 0 0 Td (a) Tj ET")

    return _one_page(build)


def jpeg_larger_inside() -> bytes:
    """An image object that says 100 × 50 pixels, its JPEG data (what the decoder believes)
    60,000 × 60,000."""
    import pikepdf

    data = bytearray(_saved(Image.new("L", (8, 8), 255), "JPEG"))
    sof = data.find(b"\xff\xc0")
    struct.pack_into(">HH", data, sof + 5, BOMB_SIDE, BOMB_SIDE)

    def build(pdf, page):
        image = pikepdf.Stream(pdf, bytes(data))
        image.Type, image.Subtype = pikepdf.Name.XObject, pikepdf.Name.Image
        image.Width, image.Height, image.BitsPerComponent = 100, 50, 8
        image.ColorSpace, image.Filter = pikepdf.Name.DeviceGray, pikepdf.Name.DCTDecode
        page.Resources = pikepdf.Dictionary(XObject=pikepdf.Dictionary(Im0=image))
        page.Contents = pdf.make_stream(b"q 200 0 0 100 0 0 cm /Im0 Do Q")

    return _one_page(build)


def smask_without_subtype() -> bytes:
    """A small image whose soft mask (a stream without ``/Subtype /Image``) declares
    60,000 × 60,000."""
    import pikepdf

    def build(pdf, page):
        mask = pikepdf.Stream(pdf, b"\0" * 16)
        mask.Width, mask.Height, mask.BitsPerComponent = BOMB_SIDE, BOMB_SIDE, 8
        mask.ColorSpace = pikepdf.Name.DeviceGray
        image = pikepdf.Stream(pdf, b"\0" * 4)
        image.Type, image.Subtype = pikepdf.Name.XObject, pikepdf.Name.Image
        image.Width, image.Height, image.BitsPerComponent = 2, 2, 8
        image.ColorSpace, image.SMask = pikepdf.Name.DeviceGray, mask
        page.Resources = pikepdf.Dictionary(XObject=pikepdf.Dictionary(Im0=image))
        page.Contents = pdf.make_stream(b"q 200 0 0 100 0 0 cm /Im0 Do Q")

    return _one_page(build)


def image_in_annotation_form() -> bytes:
    """An image object (declaring the bomb) drawn by a form inside an annotation's
    appearance: found before issue 25 already, as every object of the file is looked at."""
    import pikepdf

    def build(pdf, page):
        image = pikepdf.Stream(pdf, b"\0" * 16)
        image.Type, image.Subtype = pikepdf.Name.XObject, pikepdf.Name.Image
        image.Width, image.Height, image.BitsPerComponent = BOMB_SIDE, BOMB_SIDE, 8
        image.ColorSpace = pikepdf.Name.DeviceGray
        inner = _form(
            pdf, b"/Im0 Do", Resources=pikepdf.Dictionary(XObject=pikepdf.Dictionary(Im0=image))
        )
        appearance = _form(
            pdf, b"/Fx1 Do", Resources=pikepdf.Dictionary(XObject=pikepdf.Dictionary(Fx1=inner))
        )
        stamp = pikepdf.Dictionary(
            Type=pikepdf.Name.Annot,
            Subtype=pikepdf.Name.Stamp,
            Rect=[0, 0, 200, 100],
            AP=pikepdf.Dictionary(N=appearance),
        )
        page.Annots = pdf.make_indirect(pikepdf.Array([pdf.make_indirect(stamp)]))

    return _one_page(build)


HIDDEN_BOMBS = {
    "image_in_annotation_form": image_in_annotation_form,
    "inline_in_page": inline_in_page,
    "inline_in_nested_form": inline_in_nested_form,
    "inline_in_annotation": inline_in_annotation,
    "inline_in_pattern": inline_in_pattern,
    "inline_in_type3_glyph": inline_in_type3_glyph,
    "jpeg_larger_inside": jpeg_larger_inside,
    "smask_without_subtype": smask_without_subtype,
}


def claiming_dpi(size: tuple[int, int], dpi: int) -> bytes:
    """A small image that claims a resolution no scanner has (its page would be under the
    3 points a PDF page needs at least)."""
    out = io.BytesIO()
    text_page(size=size).save(out, "PNG", dpi=(dpi, dpi))
    return out.getvalue()
