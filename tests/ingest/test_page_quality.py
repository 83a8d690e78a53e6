"""Issue 18 (TR-RESISCAN): each OCRed page's mean word confidence and dictionary share are
stored; pages below the thresholds are listed first in the batch check, accepted or
re-scanned; the batch passes only then, and its transfer note records the check."""

from __future__ import annotations

import pytest
from PIL import ImageFilter
from sqlalchemy import select

from eakte import audit
from eakte.errors import BadInput, PagesUnchecked, PermissionDenied
from eakte.ingest import german_words
from eakte.models import ScanBatch
from eakte.models.recognition import PageQuality
from eakte.services import page_quality, scanning
from tests.fixtures.german_pages import german_page
from tests.ingest.conftest import image_bytes, scanned_pdf


@pytest.fixture
def batch(world):
    with world.session() as s:
        return scanning.open_batch(s, world.scanner, "Posteingang Qualität", dpi=200)


def _good_and_poor():
    good = german_page(21, dpi=200, sparse=True, noise=0.0, blur=0.0).image
    poor = german_page(22, dpi=200, sparse=True, noise=0.0, blur=0.0).image
    # a page scanned far too blurred and faint: Tesseract reads little of it, and unsurely
    poor = poor.filter(ImageFilter.GaussianBlur(3.2)).point(lambda v: 150 + v // 3)
    return good, poor


def test_german_words_are_recognised_also_in_compounds():
    assert german_words.share("Sehr geehrte Damen und Herren") == (1.0, 5)
    assert german_words.is_german("Gewerbeanmeldung")  # not in the list: Gewerbe + Anmeldung
    assert german_words.is_german("Rechtsbehelfsbelehrung")  # with a joining s
    assert not german_words.is_german("nelhcoS")
    assert german_words.share("1234 ..") == (None, 0)


def test_pages_are_assessed_and_the_poor_one_comes_first(desk, world, batch):
    good, poor = _good_and_poor()
    doc = desk.take(scanned_pdf([good, poor]), "stapel.pdf", scan_batch_id=batch.id).document
    assert desk.process(doc.id) == "ready"
    with world.session() as s:
        rows = {r.page: r for r in s.scalars(select(PageQuality))}
        assert set(rows) == {1, 2}
        assert rows[1].verdict == "ok"
        assert rows[1].confidence > page_quality.MIN_CONFIDENCE
        assert rows[1].dictionary_share > 0.8 and rows[1].words >= 10
        assert rows[2].verdict == "low"
        listed = page_quality.batch_pages(s, s.get_one(ScanBatch, batch.id))
        assert [(r.page, r.verdict) for r in listed] == [(2, "low"), (1, "ok")]


def test_the_batch_passes_only_when_low_pages_are_accepted_and_the_note_says_so(desk, world, batch):
    good, poor = _good_and_poor()
    doc = desk.take(scanned_pdf([good, poor]), "stapel.pdf", scan_batch_id=batch.id).document
    desk.process(doc.id)
    with world.session() as s:
        with pytest.raises(PagesUnchecked, match="1 page"):
            scanning.pass_qc(s, world.scanner, batch.id)
        with pytest.raises(PermissionDenied):
            page_quality.accept_page(s, world.clerk, doc.id, 2)
        with pytest.raises(BadInput):
            page_quality.accept_page(s, world.scanner, doc.id, 1)  # not low
        page_quality.accept_page(s, world.scanner, doc.id, 2, "Original ist so blass")
        passed = scanning.pass_qc(s, world.scanner, batch.id, "geprüft")
        assert passed.qc_status == "passed"
        assert "2 pages assessed" in passed.transfer_note
        assert "1 below accepted, 0 re-scanned, 0 open" in passed.transfer_note
        actions = [e.action for e in audit.history(s, str(doc.uuid))]
        assert "accept_page" in actions


def test_a_low_page_replaced_by_a_good_rescan_is_assessed_anew(desk, world, batch, tmp_path):
    good, poor = _good_and_poor()
    doc = desk.take(scanned_pdf([good, poor]), "stapel.pdf", scan_batch_id=batch.id).document
    desk.process(doc.id)
    rescan = tmp_path / "seite2.png"
    rescan.write_bytes(image_bytes(german_page(22, dpi=200, sparse=True).image))
    with world.session() as s:
        scanning.replace_page(
            s,
            world.scanner,
            desk.rt.store,
            doc.id,
            2,
            rescan,
            reason="zu blass",
            settings=desk.settings,
        )
    assert desk.process(doc.id) == "ready"
    with world.session() as s:
        rows = {r.page: r.verdict for r in s.scalars(select(PageQuality))}
        assert rows == {1: "ok", 2: "ok"}
        found = page_quality.summary(s, s.get_one(ScanBatch, batch.id))
        assert (found.low, found.rescanned) == (0, 1)
        passed = scanning.pass_qc(s, world.scanner, batch.id)
        assert "1 re-scanned" in passed.transfer_note
