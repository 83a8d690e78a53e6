"""Born-digital PDFs finished at intake: the text layer read while the file is taken in, the
document ``ready`` in the intake's own transaction, no worker job (R19); everything else still
goes to the worker."""

import io
import threading

import pikepdf
import pytest
from sqlalchemy import select

from eakte import audit
from eakte.models import ScanBatch
from eakte.models.ingest import IngestTask
from eakte.services import scanning
from eakte.services.intake import Outcome
from eakte.verify import VerifyContext, run_verify
from tests.fixtures.app import replace_settings
from tests.ingest.conftest import born_digital_pdf, scan_image, scanned_pdf
from tests.ingest.test_bad_input import _broken_xref_pdf


def test_r19_born_digital_pdf_is_ready_at_intake_without_a_job(desk):
    data = born_digital_pdf(3, "Hundesteuer Anmeldung Bello")
    result = desk.take(data, "hund.pdf", settings=desk.rt.settings)
    assert result.outcome == Outcome.accepted
    assert desk.queued == [] and desk.ready == [result.document.id]  # only the index is told
    doc = desk.document(result.document.id)
    assert doc.status == "ready" and doc.page_count == 3 and doc.index_dirty
    assert doc.extracted_text.count("Hundesteuer Anmeldung Bello") == 15
    (original,) = doc.versions  # the original is its own archival version
    with desk.rt.store.open(original.s3_key, original.s3_version_id, original.sha256) as r:
        assert r.read() == data
    with desk.rt.session() as s:
        assert s.get(IngestTask, doc.id) is None
        assert [e.action for e in audit.history(s, str(doc.uuid))] == ["create", "processed"]
        assert run_verify(VerifyContext(s, desk.rt.store)).clean
    assert desk.process(doc.id) == "nothing to do"  # a stray job changes nothing


def test_r19_same_document_through_the_worker_ends_the_same(desk):
    """Intake and worker must agree: same text, pages and audit trail."""
    data = born_digital_pdf(2, "Sondernutzung Gehweg Hauptstraße")
    at_intake = desk.take(data, "a.pdf", settings=desk.rt.settings).document.id
    by_worker = desk.take(data + b"\n", "b.pdf").document.id  # other bytes, same text
    assert desk.process(by_worker) == "ready"
    first, second = desk.document(at_intake), desk.document(by_worker)
    assert first.extracted_text == second.extracted_text
    assert (first.page_count, first.status) == (second.page_count, second.status)
    with desk.rt.session() as s:
        trails = [[e.action for e in audit.history(s, str(d.uuid))] for d in (first, second)]
    assert trails[0] == trails[1]


@pytest.mark.parametrize(
    "kind", ["scan", "text_and_scan", "repaired", "over_the_page_limit", "switched_off"]
)
def test_everything_else_goes_to_the_worker(desk, kind, tmp_path):
    settings = desk.rt.settings
    if kind == "scan":
        data = scanned_pdf([scan_image()])
    elif kind == "text_and_scan":
        path = tmp_path / "mixed.pdf"
        with (
            pikepdf.open(io.BytesIO(born_digital_pdf(1))) as first,
            pikepdf.open(io.BytesIO(scanned_pdf([scan_image()]))) as second,
        ):
            first.pages.extend(second.pages)
            first.save(path)
        data = path.read_bytes()
    elif kind == "repaired":
        data = _broken_xref_pdf()
    elif kind == "over_the_page_limit":
        settings = replace_settings(settings, ingest_text_at_intake_pages=2)
        data = born_digital_pdf(3)
    else:
        settings = replace_settings(settings, ingest_text_at_intake_pages=0)
        data = born_digital_pdf(1)
    result = desk.take(data, f"{kind}.pdf", settings=settings)
    assert result.outcome == Outcome.accepted
    assert desk.queued == [result.document.id] and desk.ready == []
    assert desk.document(result.document.id).status == "received"
    assert desk.process(result.document.id) == "ready"


def test_scan_batch_counts_the_pages_read_at_intake(desk, world):
    with world.session() as s:
        batch = scanning.open_batch(s, world.scanner, "Posteingang born-digital", dpi=300)
    for n in range(2):
        result = desk.take(
            born_digital_pdf(3, f"Brief {n}"),
            f"brief-{n}.pdf",
            settings=desk.rt.settings,
            scan_batch_id=batch.id,
        )
        assert result.document.status == "ready"
    with world.session() as s:
        assert s.scalar(select(ScanBatch.page_count).where(ScanBatch.id == batch.id)) == 6


def test_parallel_intakes_read_text_layers_safely(desk):
    """PDFium is not thread-safe; import threads and web threads read text layers at once."""
    results, errors = {}, []

    def take(n: int) -> None:
        try:
            data = born_digital_pdf(4, f"Vorgang Nummer {n} Baugenehmigung")
            results[n] = desk.take(data, f"v{n}.pdf", settings=desk.rt.settings)
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=take, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    for n, result in results.items():
        doc = desk.document(result.document.id)
        assert doc.status == "ready"
        words = " ".join(doc.extracted_text.split())
        assert words.count(f"Vorgang Nummer {n} Baugenehmigung") == 20
