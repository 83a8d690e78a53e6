"""Issue 25, part 1: nothing is ever lost at intake. Whatever a parser or a step raises, the
file ends as a document or in quarantine with its bytes and a reason a person can read; a
failure in the worker ends ``failed`` with such a reason, and the document can be retried.

Failures are injected (fakes only for that) at every intake step and inside the parsers the
steps call; the TIFF that Pillow rejects with a ``TypeError`` is a real generated file taken in
through ``eakte import``."""

from __future__ import annotations

import functools
import re
import struct

import pytest
from PIL import Image, UnidentifiedImageError
from sqlalchemy import select

from eakte.ingest import intake as intake_steps
from eakte.ingest.reasons import Reason
from eakte.models import StoredObject
from eakte.models.ingest import QuarantinedFile
from eakte.services.intake import Outcome, retry_document
from tests.fixtures.cli import eakte
from tests.ingest import odd_files
from tests.ingest.conftest import born_digital_pdf, scan_image, scanned_pdf


class Oddity(Exception):
    """An exception type nobody has heard of (a library's own)."""


class Silent(Exception):
    pass


WORKDIR = "/tmp/doc-12-xyz1abc/original"
# Every kind of failure a parser has been seen to raise (and some it might).
FAILURES = {
    "KeyError": lambda: KeyError("/Width"),
    "ZeroDivisionError": lambda: ZeroDivisionError("division by zero"),
    "RecursionError": lambda: RecursionError("maximum recursion depth exceeded"),
    "struct.error": lambda: struct.error("unpack requires a buffer of 4 bytes"),
    "TypeError": lambda: TypeError("Missing dimensions"),
    "AttributeError": lambda: AttributeError("'NoneType' object has no attribute 'read'"),
    "ValueError-empty": lambda: ValueError(""),
    "DecompressionBombError": lambda: Image.DecompressionBombError(
        "Image size (2000000000 pixels) exceeds limit of 178956970 pixels"
    ),
    "UnidentifiedImageError": lambda: UnidentifiedImageError(
        "cannot identify image file <_io.BytesIO object at 0x7f3a1c2b9d50>"
    ),
    "unknown-with-repr-and-path": lambda: Oddity(
        f"<pikepdf.Object object at 0x7f00deadbeef> in {WORKDIR}: bad"
    ),
    "unknown-silent": lambda: Silent(),
    "MemoryError": lambda: MemoryError(),
}
STEPS = [s.__name__ for s in intake_steps.INTAKE_STEPS if s is not intake_steps.quarantine]
# Parsers the steps call: detection, validation (type, bounds, active content), text.
PARSERS = [
    "eakte.ingest.intake.mime_of",
    "eakte.ingest.intake.inspect",
    "eakte.ingest.validate.check_pdf",
    "eakte.ingest.validate.active_content",
    "eakte.ingest.intake.page_texts",
]
REPR = re.compile(r"<[^<>]*(?: at 0x|class |object)[^<>]*>|0x[0-9a-f]{6,}")


def _raising(make, original=None):
    def fake(*_args, **_kwargs):
        raise make()

    return functools.wraps(original)(fake) if original is not None else fake


def _readable(reason: str) -> None:
    assert reason.strip(), "empty reason"
    assert not REPR.search(reason), reason
    assert "/tmp" not in reason and "doc-12" not in reason and "/spool" not in reason, reason
    assert "Traceback" not in reason, reason


def _ends_well(desk, result, data: bytes) -> str:
    """Accepted, or quarantined with the very bytes and a readable reason."""
    assert result.outcome in (Outcome.accepted, Outcome.quarantined), result
    if result.outcome == Outcome.accepted:
        return "document"
    _readable(result.reason)
    assert result.reason_code in set(Reason)
    with desk.rt.session() as s:
        entry = s.get(QuarantinedFile, result.quarantined.id)
        _readable(entry.reason)
        assert entry.sha256 and entry.size == len(data)
        stored = s.get(StoredObject, entry.stored_object_id)
    with desk.rt.store.open(stored.key, stored.version_id, stored.sha256) as kept:
        assert kept.read() == data
    return "quarantine"


@functools.cache
def _letter() -> bytes:
    return born_digital_pdf(1, "Antrag auf Sondernutzung")


def _unique_pdf(label: str) -> bytes:
    return _letter() + f"\n% {label}\n".encode()  # after %%EOF: still the same PDF


def test_a_failure_of_any_kind_at_any_intake_step_loses_nothing(desk, monkeypatch):
    real = list(intake_steps.INTAKE_STEPS)
    settings = desk.rt.settings  # text read at intake: every step runs
    for step in STEPS:
        data = _unique_pdf(step)  # the same bad bytes again are kept once, and found
        for name, make in FAILURES.items():
            steps = [_raising(make, s) if s.__name__ == step else s for s in real]
            monkeypatch.setattr(intake_steps, "INTAKE_STEPS", steps)
            result = desk.take(data, "antrag.pdf", settings=settings, source=f"upload {name}")
            assert _ends_well(desk, result, data) == "quarantine", (step, name)
    monkeypatch.undo()
    good = desk.take(_unique_pdf("good"), "gut.pdf", settings=settings)
    assert good.outcome == Outcome.accepted  # the desk goes on


def test_a_failure_of_any_kind_inside_a_parser_at_intake_loses_nothing(desk, monkeypatch):
    settings = desk.rt.settings
    for parser in PARSERS:
        ends = set()
        for name, make in FAILURES.items():
            monkeypatch.setattr(parser, _raising(make))
            data = _unique_pdf(f"{parser} {name}" if "page_texts" in parser else parser)
            ends.add(_ends_well(desk, desk.take(data, "antrag.pdf", settings=settings), data))
        # text at intake is a shortcut only: without it the worker reads the text
        assert ends == ({"document"} if parser.endswith("page_texts") else {"quarantine"})
        monkeypatch.undo()


def test_reasons_say_what_failed_in_words(desk, monkeypatch):
    monkeypatch.setattr("eakte.ingest.validate.check_pdf", _raising(FAILURES["KeyError"]))
    result = desk.take(_unique_pdf("words"), "antrag.pdf")
    assert result.reason_code == Reason.pdf_damaged
    assert result.reason == (
        "checking the PDF failed unexpectedly: an entry the reader needs is missing (/Width)"
    )
    bomb = FAILURES["DecompressionBombError"]
    monkeypatch.setattr("eakte.ingest.validate.check_pdf", _raising(bomb))
    result = desk.take(_unique_pdf("bomb"), "antrag.pdf")
    assert result.reason_code == Reason.decompression_bomb
    assert "it would expand to an unreasonable size" in result.reason


def test_a_tiff_pillow_rejects_with_a_type_error_is_quarantined_by_eakte_import(
    tmp_path, world, env
):
    """The issue's lost file: a two-page TIFF whose second directory has no width makes
    Pillow raise ``TypeError`` (not one of the errors the check expects); ``eakte import``
    reported a Python error and the file was neither in nor in quarantine."""
    root = tmp_path / "post"
    root.mkdir()
    data = odd_files.tiff_second_page_without_width()
    (root / "fax.tif").write_bytes(data)
    result = eakte("import", str(root), "--user", "scan")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "quarantined:  1" in result.stdout and "failed:       0" in result.stdout
    assert "TypeError" not in result.stdout + result.stderr
    with world.session() as s:
        entry = s.scalar(select(QuarantinedFile))
        assert entry.reason_code == "image_damaged" and entry.size == len(data)
        _readable(entry.reason)
        assert "checking the TIFF image failed unexpectedly" in entry.reason
        stored = s.get(StoredObject, entry.stored_object_id)
    with world.rt.store.open(stored.key, stored.version_id, stored.sha256) as kept:
        assert kept.read() == data


# --------------------------------------------------------------------------------- worker


@pytest.mark.parametrize("name", ["KeyError", "unknown-with-repr-and-path", "unknown-silent"])
def test_a_worker_failure_is_readable_and_the_document_can_be_retried(
    desk, monkeypatch, world, name
):
    doc_id = desk.take(scanned_pdf([scan_image(size=(300, 120))]), "scan.pdf").document.id
    monkeypatch.setattr("eakte.ingest.ocr.ocr_to_pdfa", _raising(FAILURES[name]))
    assert desk.process(doc_id) == "failed"
    reason = desk.document(doc_id).failure_reason
    _readable(reason)
    assert reason.startswith("processing the file failed unexpectedly: "), reason
    assert "internal error" not in reason and name.split("-")[0] not in reason
    monkeypatch.undo()
    with desk.rt.session() as s:
        retry_document(s, world.scanner, doc_id, enqueue=desk.enqueue)
    assert desk.process(doc_id) == "ready"


def test_a_failure_outside_the_confined_child_is_readable_too(desk, monkeypatch):
    from eakte.ingest import process

    doc_id = desk.take(_unique_pdf("outside"), "antrag.pdf").document.id
    steps = [
        _raising(FAILURES["unknown-with-repr-and-path"], s) if s is process.fetch else s
        for s in process.STEPS
    ]
    monkeypatch.setattr(process, "STEPS", steps)
    assert desk.process(doc_id) == "failed"
    reason = desk.document(doc_id).failure_reason
    _readable(reason)
    assert reason.startswith("processing failed unexpectedly: "), reason


@pytest.mark.parametrize(
    ("message", "shown"),
    [
        ("", "no details were given"),
        (f"[Errno 2] No such file or directory: '{WORKDIR}'", "No such file or directory"),
        ("cannot open '/srv/Eingang Scans/Antrag 2.pdf' now", "cannot open 'the file' now"),
        ("expected <class 'pikepdf.Dictionary'>", "expected an object"),
        ('Traceback (most recent call last):\n  File "/srv/x.py"\nKeyError: 1', "KeyError: 1"),
        ("saved to C:\\Users\\amt\\scan.pdf", "saved to the file"),
    ],
)
def test_plain_leaves_out_reprs_paths_and_tracebacks(message, shown):
    from eakte.ingest.reasons import plain

    text = plain(message)
    assert shown in text
    _readable(text)
    assert "Eingang" not in text and "Users" not in text and "File" not in text
