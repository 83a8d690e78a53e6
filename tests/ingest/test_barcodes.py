"""Cover sheets and separator sheets (issue 17): pages rendered here with real barcodes (made
by zxing-cpp, as the cover sheets eAkte prints), scanned stacks built from them and German text
pages, taken in through ``intake_scan`` and processed by the real pipeline (Tesseract)."""

from __future__ import annotations

import pypdfium2
import pytest
from PIL import Image
from sqlalchemy import select

from eakte.ingest import barcodes, split
from eakte.models import Document
from eakte.models.scanning import ScanBatch
from eakte.services import cases, coversheet, scanning
from eakte.services.intake import IncomingFile, Target
from eakte.services.scan_split import intake_scan
from tests.fixtures.app import replace_settings
from tests.ingest.conftest import multipage_tiff, scan_image, scanned_pdf


def scanned(pdf: bytes, dpi: int = 200) -> Image.Image:
    """A printed page as the scanner sees it: rendered in grey at ``dpi``."""
    doc = pypdfium2.PdfDocument(pdf)
    image = doc[0].render(scale=dpi / 72, grayscale=True).to_pil()
    image.info["dpi"] = (dpi, dpi)
    return image


def text_page(words: str) -> Image.Image:
    return scan_image([words, "Sehr geehrte Damen und Herren,", "Mit freundlichen Grüßen"])


SEPARATOR = None  # made once: rendering the sheet is not what is tested here


def separator() -> Image.Image:
    global SEPARATOR
    if SEPARATOR is None:
        SEPARATOR = scanned(coversheet.separator_sheet("PATCHT"))
    return SEPARATOR


def _case(world):
    with world.session() as s:
        case = cases.create_case(s, world.clerk, "32.10.05", "Gaststätte Zur Linde", year=2026)
        process = cases.add_process(s, world.clerk, case.id, "Erlaubnis nach § 2 GastG")
        return case, process


def _take(world, data, name, actor, settings, batch=None, **kw):
    with world.session() as s:
        return intake_scan(
            s,
            actor,
            world.rt.store,
            IncomingFile(
                data,
                name,
                target=Target(org_unit="32"),
                method="scan",
                source=f"batch:{name}",
                scan_batch_id=batch.id if batch else None,
                **kw,
            ),
            settings=settings,
        )


def _batch(world, actor, name="Stapel 1"):
    with world.session() as s:
        return scanning.open_batch(s, actor, name, org_unit="32")


def _documents(world):
    with world.session() as s:
        return list(s.scalars(select(Document).order_by(Document.id)))


def test_cover_sheet_files_the_stack_into_its_process(desk, world):
    case, process = _case(world)
    with world.session() as s:
        sheet = coversheet.for_process(s, world.clerk, case.file_reference, process.number)
    # what the sheet says: read back from the printed page, as the intake will
    assert barcodes.cover_process(barcodes.read_codes(scanned(sheet, 100))) == process.uuid
    stack = scanned_pdf([scanned(sheet), text_page("Antrag auf Erlaubnis"), text_page("Anlage")])
    batch = _batch(world, world.clerk)
    result = _take(world, stack, "stapel.pdf", world.clerk, desk.settings, batch, source_key="k1")
    doc = desk.document(result.document.id)
    assert doc.process_id == process.id and doc.inbox_org_unit_id is None
    desk.queued.append(doc.id)
    desk.process_queued()  # the real pipeline: OCR with Tesseract
    with world.session() as s:
        done = s.get_one(Document, doc.id)
        assert done.status == "ready" and done.page_count == 2  # the sheet left the document
        assert "Antrag" in done.extracted_text and "Deckblatt" not in done.extracted_text
        note = s.get_one(ScanBatch, batch.id).transfer_note
    assert f"cover sheet (page 1) removed: filed into process {process.uuid}" in note
    again = _take(world, stack, "stapel.pdf", world.clerk, desk.settings, batch, source_key="k1")
    assert again.outcome == "existing" and len(_documents(world)) == 1


def test_separator_sheets_split_a_tiff_stack(desk, world):
    pages = [
        text_page("Erstes Schreiben"),
        separator(),
        text_page("Zweites Schreiben Seite eins"),
        text_page("Zweites Schreiben Seite zwei"),
        separator(),
        separator(),  # two in a row: no empty document
        text_page("Drittes Schreiben"),
    ]
    batch = _batch(world, world.scanner)
    stack = multipage_tiff(pages)
    first = _take(world, stack, "stapel.tif", world.scanner, desk.settings, batch, source_key="t")
    docs = _documents(world)
    assert first.document.id == docs[0].id and len(docs) == 3
    assert [d.inbox_org_unit_id is not None for d in docs] == [True] * 3
    for doc in docs:
        desk.queued.append(doc.id)
    desk.process_queued()
    with world.session() as s:
        done = [s.get_one(Document, d.id) for d in docs]
        assert [d.page_count for d in done] == [1, 2, 1]
        assert "Erstes" in done[0].extracted_text and "Drittes" in done[2].extracted_text
        assert "PATCHT" not in " ".join(d.extracted_text for d in done)
        note = s.get_one(ScanBatch, batch.id).transfer_note
    assert "3 separator sheet(s) removed: page(s) 2, 5, 6" in note
    assert "7 pages, 3 document(s)" in note
    _take(world, stack, "stapel.tif", world.scanner, desk.settings, batch, source_key="t")
    assert len(_documents(world)) == 3  # a re-run: each part found


def test_first_page_only_and_off(desk, world):
    stack = multipage_tiff([text_page("Eins"), separator(), text_page("Zwei")])
    first_only = replace_settings(desk.settings, barcode_pages="first")
    _take(world, stack, "a.tif", world.scanner, first_only)
    off = replace_settings(desk.settings, barcode_pages="off")
    _take(world, stack + b"\0", "b.tif", world.scanner, off)
    assert len(_documents(world)) == 2  # not split either time


def test_cover_sheet_of_a_process_out_of_reach_goes_to_the_inbox(desk, world):
    case, process = _case(world)
    with world.session() as s:
        sheet = coversheet.for_process(s, world.clerk, case.file_reference, process.number)
    stack = scanned_pdf([scanned(sheet), text_page("Antrag")])
    batch = _batch(world, world.scanner)
    result = _take(world, stack, "s.pdf", world.scanner, desk.settings, batch)
    doc = desk.document(result.document.id)
    assert doc.process_id is None and doc.inbox_org_unit_id is not None
    with world.session() as s:
        note = s.get_one(ScanBatch, batch.id).transfer_note
    assert f"names process {process.uuid}: not used" in note


def test_plan_reads_codes_at_low_resolution(tmp_path):
    path = tmp_path / "s.tif"
    path.write_bytes(multipage_tiff([text_page("A"), separator(), text_page("B")]))
    found = split.plan(path, "tiff", pages_read="every", dpi=100, separator="PATCHT")
    assert (found.parts, found.separators, found.cover) == ([[0], [2]], [1], None)
    other = split.plan(path, "tiff", pages_read="every", dpi=100, separator="TRENNER")
    assert other.trivial


def test_coversheet_command(world, env, tmp_path):
    from tests.fixtures.cli import eakte

    case, process = _case(world)
    out = tmp_path / "deckblatt.pdf"
    made = eakte(
        "case", "coversheet", case.file_reference, str(process.number), "-o", str(out),
        "--user", "sachb",
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    codes = barcodes.read_codes(scanned(out.read_bytes(), 100))
    assert barcodes.cover_process(codes) == process.uuid
    missing = eakte("case", "coversheet", "32.10.05/999", "1", "-o", str(out), "--user", "sachb")
    assert missing.returncode == 9


@pytest.mark.parametrize("qr", [True, False])
def test_written_symbols_read_back(qr):
    text = "EAKTE:PROCESS:6f1c1b7e-8a4e-4c55-9d1e-1d7a1f0c2b3a" if qr else "PATCHT"
    assert barcodes.read_codes(barcodes.symbol_image(text, qr=qr, scale=3)) == (text,)


def test_eakte_import_splits_at_separators(world, env, tmp_path):
    """The folder import (and with it the hot folder, which takes files the same way)."""
    from tests.fixtures.cli import eakte

    folder = tmp_path / "stapel"
    folder.mkdir()
    stack = multipage_tiff([text_page("Eins"), separator(), text_page("Zwei")])
    (folder / "stapel.tif").write_bytes(stack)
    first = eakte("import", str(folder), "--user", "scan", "--batch", "Import 1")
    assert first.returncode == 0, first.stderr
    assert len(_documents(world)) == 2
    again = eakte("import", str(folder), "--user", "scan", "--batch", "Import 1")
    assert again.returncode == 0 and len(_documents(world)) == 2
    with world.session() as s:
        note = s.scalar(select(ScanBatch.transfer_note).where(ScanBatch.name == "Import 1"))
    assert "1 separator sheet(s) removed: page(s) 2" in note
