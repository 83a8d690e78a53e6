"""Issue 25, part 6: odd but readable scans are taken in and processed — JBIG2 and CCITT
pages, a PDF behind a prefix, images a few pixels large, 16-bit and CMYK images, phone photos
turned by their EXIF orientation — and an image bomb hidden inside a PDF is found at intake by
its declared size, before anything is decoded. Every file is generated
(``tests/ingest/odd_files.py``); pages are a single line of text, so OCR stays quick."""

from __future__ import annotations

import hashlib
import io

import pikepdf
import pypdfium2 as pdfium

from eakte.models import VersionKind
from eakte.services.intake import Outcome
from tests.ingest import odd_files


def _processed(desk, data: bytes, filename: str):
    result = desk.take(data, filename)
    assert result.outcome == Outcome.accepted, result.reason
    assert desk.process(result.document.id) == "ready", desk.document(
        result.document.id
    ).failure_reason
    return desk.document(result.document.id)


def _recognised(desk, data: bytes, filename: str, words=("Bescheid",)):
    document = _processed(desk, data, filename)
    for word in words:
        assert word in document.extracted_text, (filename, document.extracted_text)
    return document


def _rendition(desk, document) -> bytes:
    version = next(v for v in document.versions if v.kind == VersionKind.rendition)
    with desk.rt.store.open(version.s3_key, version.s3_version_id, version.sha256) as stored:
        return stored.read()


def test_jbig2_and_ccitt_pages_are_read_and_recognised(desk):
    for data in (odd_files.jbig2_pdf(), odd_files.ccitt_pdf()):
        with pikepdf.open(io.BytesIO(data)) as pdf:
            image = next(iter(pdf.pages[0].get_images().values()))
            codec = image.Filter[-1] if isinstance(image.Filter, pikepdf.Array) else image.Filter
            assert codec in (pikepdf.Name.JBIG2Decode, pikepdf.Name.CCITTFaxDecode)
        _recognised(desk, data, "fax.pdf")


def test_a_jbig2_page_is_read_without_the_jbig2dec_program(desk, monkeypatch):
    """pikepdf decodes JBIG2 with the ``jbig2dec`` program (installed by scripts/setup.sh);
    where it is missing, the page is rendered by PDFium, which decodes JBIG2 itself."""

    def missing(*_args, **_kwargs):
        raise pikepdf.DependencyError("jbig2dec - not installed or not found")

    monkeypatch.setattr("pikepdf.jbig2.JBIG2Decoder.decode_jbig2", missing)
    monkeypatch.setattr("pikepdf.jbig2.JBIG2Decoder.check_available", missing)
    _recognised(desk, odd_files.jbig2_pdf(), "fax.pdf")


def test_a_pdf_behind_a_prefix_is_taken_as_readers_take_it(desk):
    data = odd_files.junk_before_header(300)
    document = _recognised(desk, data, "bescheid.pdf", words=("Gebühren",))
    assert document.sha256 == hashlib.sha256(data).hexdigest()  # the original as it came
    # beyond the first 1024 bytes readers do not look either
    beyond = desk.take(odd_files.junk_before_header(1100), "bescheid.pdf")
    assert beyond.outcome == Outcome.quarantined and beyond.reason_code == "type_not_allowed"


def test_images_a_few_pixels_large_are_taken_in_and_processed(desk):
    for fmt, size, name in [
        ("PNG", (1, 1), "pixel.png"),
        ("JPEG", (3, 5), "klein.jpg"),
        ("TIFF", (3, 5), "klein.tif"),
    ]:
        assert _processed(desk, odd_files.tiny(fmt, size), name).page_count == 1
    # a resolution no scanner has would make its page too small for a PDF: laid out anew
    _recognised(desk, odd_files.claiming_dpi((560, 90), 48_000), "winzig.png")


def test_an_image_gets_a_page_a_pdf_can_have():
    from eakte.ingest.ocr import MAX_POINTS, MIN_POINTS, page_dpi

    assert page_dpi((2480, 3508), 300) == 300  # A4 at 300 dpi: as declared
    strip = page_dpi((64, 61_000), 300)  # 5 m long at 300 dpi: longer than a page may be
    assert 61_000 * 72 / strip <= MAX_POINTS and 64 * 72 / strip >= MIN_POINTS
    assert 560 * 72 / page_dpi((560, 90), 48_000) >= MIN_POINTS


def test_16_bit_and_cmyk_images_are_processed(desk):
    for data, name in [
        (odd_files.sixteen_bit("PNG", "I;16"), "grau16.png"),
        (odd_files.sixteen_bit("PNG", "RGB"), "farbe16.png"),
        (odd_files.sixteen_bit("TIFF", "I;16"), "grau16.tif"),
        (odd_files.sixteen_bit("TIFF", "RGB"), "farbe16.tif"),
        (odd_files.cmyk("JPEG"), "druck.jpg"),
        (odd_files.cmyk("TIFF"), "druck.tif"),
    ]:
        _recognised(desk, data, name)


def test_phone_photos_turned_by_their_exif_orientation_end_upright(desk):
    for orientation in (6, 3, 8):
        document = _recognised(desk, odd_files.phone_photo(orientation), "foto.jpg")
        rendition = pdfium.PdfDocument(_rendition(desk, document))
        width, height = rendition[0].get_size()
        if rendition[0].get_rotation() in (90, 270):  # as shown: /Rotate applied
            width, height = height, width
        assert width > height, orientation  # the line of text runs across, as photographed


def test_an_image_bomb_hidden_in_a_pdf_is_found_at_intake(desk):
    for name, maker in odd_files.HIDDEN_BOMBS.items():
        result = desk.take(maker(), f"{name}.pdf")
        assert result.outcome == Outcome.quarantined, name
        assert result.reason_code == "image_too_large", (name, result.reason)
        assert "60,000 × 60,000" in result.reason and "EAKTE_INGEST_MAX_PIXELS" in result.reason
    assert desk.queued == []  # nothing reached the worker
