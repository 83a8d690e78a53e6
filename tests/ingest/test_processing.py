"""Processing: text layer or OCR, the PDF/A rendition beside the untouched original (R19),
claims that make a job safe to run twice, retries, failures and recovery."""

import io
import os
import re
import subprocess
import time
from datetime import timedelta

import pikepdf
import pypdf
import pytest
from sqlalchemy import select, update

from eakte import audit
from eakte.errors import IngestRetryLater, NotRetryable
from eakte.ingest import claims, conversion, heartbeat, spool, tesseract_api
from eakte.ingest import process as pipeline
from eakte.ingest.heartbeat import ClaimHeartbeat
from eakte.models import Document, FileVersion, StoredObject
from eakte.models.base import utcnow
from eakte.models.ingest import IngestTask
from eakte.services.intake import recover, retry_document
from eakte.verify import VerifyContext, run_verify
from storage.errors import StorageUnavailable
from tests.ingest.conftest import (
    GERMAN,
    born_digital_pdf,
    image_bytes,
    multipage_tiff,
    scan_image,
    scanned_pdf,
)


def img2pdf_convert(data: bytes) -> bytes:
    import img2pdf

    return img2pdf.convert(data)


def _versions(desk, document_id):
    with desk.rt.session() as s:
        return s.scalars(
            select(FileVersion)
            .where(FileVersion.document_id == document_id)
            .order_by(FileVersion.id)
        ).all()


def _rendition_text(desk, version) -> str:
    with desk.rt.store.open(version.s3_key, version.s3_version_id, version.sha256) as reader:
        data = reader.read()
    path = desk.tmp / "r.pdf"
    path.write_bytes(data)
    with pikepdf.open(path) as pdf:
        meta = pdf.open_metadata()
        assert meta.pdfa_status == "2B"  # PDF/A-2b declared (and validated by OCRmyPDF)
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(path).pages)


def test_r19_born_digital_pdf_is_kept_unchanged_and_read_by_its_text_layer(desk):
    data = born_digital_pdf(3, "Hundesteuer Anmeldung Bello")
    result = desk.take(data, "hund.pdf")
    assert desk.process(result.document.id) == "ready"
    doc = desk.document(result.document.id)
    assert doc.page_count == 3 and "Hundesteuer Anmeldung Bello" in doc.extracted_text
    assert doc.index_dirty
    (original,) = _versions(desk, doc.id)  # no rendition: the original is the archival copy
    with desk.rt.store.open(original.s3_key, original.s3_version_id, original.sha256) as r:
        assert r.read() == data
    with desk.rt.session() as s:
        assert [e.action for e in audit.history(s, str(doc.uuid))] == ["create", "processed"]


def test_r19_scan_gets_pdfa_rendition_with_german_text(desk):
    page = scan_image(skew=1.2)  # a slightly crooked scan
    result = desk.take(image_bytes(page), "Gaststätte.png")
    assert desk.process(result.document.id) == "ready"
    doc = desk.document(result.document.id)
    original, rendition = _versions(desk, doc.id)
    assert original.mime == "image/png" and rendition.kind == "rendition"
    assert rendition.mime == "application/pdf" and rendition.s3_key.endswith("/rendition-pdfa")
    assert doc.page_count == 1
    for word in ("Gaststättenerlaubnis", "Gebühren", "Müller"):
        assert word in doc.extracted_text
    assert "Gaststättenerlaubnis" in _rendition_text(desk, rendition)
    with desk.rt.session() as s:  # both objects hash right (R18)
        assert run_verify(VerifyContext(s, desk.rt.store)).clean


@pytest.mark.parametrize("page_format", ["JPEG", "PNG"])
def test_r19_crooked_scanner_pdf_gets_a_straight_page_at_its_size_with_its_text(desk, page_format):
    """A network scanner's PDF (a JPEG per page) and a lossless one: the rendition's page
    image is the page turned straight, at the page's size, with the recognised text on it."""
    from eakte.ingest.deskew import skew_angle
    from tests.ingest.conftest import image_bytes as encoded

    page = scan_image(dpi=200, skew=1.5)
    data = img2pdf_convert(
        encoded(page, page_format, **({"quality": 90} if page_format == "JPEG" else {}))
    )
    result = desk.take(data, "scan.pdf")
    assert desk.process(result.document.id) == "ready"
    doc = desk.document(result.document.id)
    assert "Gaststättenerlaubnis" in doc.extracted_text
    _original, rendition = _versions(desk, doc.id)
    path = desk.tmp / "straight.pdf"
    with desk.rt.store.open(rendition.s3_key, rendition.s3_version_id, rendition.sha256) as r:
        path.write_bytes(r.read())
    with pikepdf.open(path) as pdf:
        (pdf_page,) = pdf.pages
        (image,) = pdf_page.get_images().values()
        width_pt = float(pdf_page.mediabox[2] - pdf_page.mediabox[0])
        expected_filter = "/DCTDecode" if page_format == "JPEG" else "/FlateDecode"
        assert image.Filter == expected_filter
        shown = pikepdf.PdfImage(image).as_pil_image()
    assert abs(width_pt - page.width * 72 / 200) < 1  # same size as the scan
    assert skew_angle(shown) == 0.0  # turned straight
    assert "Gaststättenerlaubnis" in _rendition_text(desk, rendition)
    # The text layer lies over the ink of its words (a wrong resolution would misplace it).
    boxes = subprocess.run(
        ["pdftotext", "-bbox", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    word = re.search(
        r'xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">Gebühren', boxes
    )
    assert word, boxes[:2000]
    box = tuple(round(float(v) * shown.width / width_pt) for v in word.groups())
    ink = shown.convert("L").crop(box).point(lambda v: 255 if v < 128 else 0).histogram()[255]
    assert ink > 0.05 * (box[2] - box[0]) * (box[3] - box[1])


def test_r19_turned_pages_of_a_multipage_tiff_are_set_upright(desk):
    # a full page of text: orientation detection needs some to be sure (OCRmyPDF's threshold)
    full = dict(lines=GERMAN * 3, size=(1240, 1300))
    pages = [scan_image(**full), scan_image(turn=180, **full)]
    result = desk.take(multipage_tiff(pages), "akte.tif")
    assert desk.process(result.document.id) == "ready"
    doc = desk.document(result.document.id)
    assert doc.page_count == 2
    assert doc.extracted_text.count("Gaststättenerlaubnis") == 6


def test_scanned_pdf_with_a_text_page_keeps_that_text_and_ocrs_the_rest(desk):
    text_page = born_digital_pdf(1, "Eingangsstempel Bauamt")
    scan = scanned_pdf([scan_image()])
    with (
        pikepdf.open(io.BytesIO(text_page)) as first,
        pikepdf.open(io.BytesIO(scan)) as second,
    ):
        first.pages.extend(second.pages)
        path = desk.tmp / "mixed.pdf"
        first.save(path)
    result = desk.take(path, "mixed.pdf")
    assert desk.process(result.document.id) == "ready"
    doc = desk.document(result.document.id)
    assert "Eingangsstempel Bauamt" in doc.extracted_text
    assert "Gaststättenerlaubnis" in doc.extracted_text
    assert [v.kind for v in _versions(desk, doc.id)] == ["original", "rendition"]


def test_a_second_job_for_a_document_does_nothing(desk):
    result = desk.take(born_digital_pdf(1), "a.pdf")
    assert desk.process(result.document.id) == "ready"
    assert desk.process(result.document.id) == "nothing to do"
    with desk.rt.session() as s:
        assert len(audit.history(s, str(result.document.uuid))) == 2


def test_a_live_claim_is_respected_and_a_dead_one_taken_over(desk):
    result = desk.take(born_digital_pdf(1), "a.pdf")
    doc_id = result.document.id
    sleeper = subprocess.Popen(["sleep", "30"])
    try:
        with desk.rt.session() as s, s.begin():
            s.execute(update(Document).where(Document.id == doc_id).values(status="processing"))
            s.execute(
                update(IngestTask)
                .where(IngestTask.document_id == doc_id)
                .values(claimed_by=claims.identity("other", sleeper.pid), claimed_at=utcnow())
            )
        assert desk.process(doc_id) == "nothing to do"  # its process lives: hands off
        with desk.rt.session() as s:
            assert recover(s, enqueue=desk.queued.append).still_running == 1
    finally:
        sleeper.kill()
        sleeper.wait()
    desk.queued.clear()
    with desk.rt.session() as s:
        report = recover(s, enqueue=desk.queued.append)
    assert report.requeued == [doc_id] and desk.queued == [doc_id]
    assert desk.process(doc_id) == "ready"


def _claimed_elsewhere(desk, doc_id, claimed_by, claimed_at):
    with desk.rt.session() as s, s.begin():
        s.execute(update(Document).where(Document.id == doc_id).values(status="processing"))
        s.execute(
            update(IngestTask)
            .where(IngestTask.document_id == doc_id)
            .values(claimed_by=claimed_by, claimed_at=claimed_at)
        )


def _wait_for(predicate, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_a_claim_from_another_host_lives_while_its_heartbeat_renews_it(desk):
    doc_id = desk.take(born_digital_pdf(1), "a.pdf").document.id
    other_host = "elsewhere:1:1:job"  # no process to look at: only the lease can tell
    _claimed_elsewhere(desk, doc_id, other_host, utcnow() - timedelta(minutes=4))
    engine = desk.rt.engine
    with ClaimHeartbeat(engine, doc_id, other_host, every=timedelta(milliseconds=20)) as beating:
        _wait_for(lambda: beating.beats >= 2)
    lease = claims.DEFAULT_LEASE
    with desk.rt.session() as s:
        in_4_min = utcnow() + timedelta(minutes=4)  # stale by then had nobody renewed it
        assert recover(s, enqueue=desk.queued.append, now=in_4_min).still_running == 1
        after_lease = utcnow() + lease + timedelta(seconds=5)  # its worker died: taken over
        assert recover(s, enqueue=desk.queued.append, now=after_lease).requeued == [doc_id]
    _claimed_elsewhere(desk, doc_id, "taken:2:2:over", utcnow())
    lost = ClaimHeartbeat(engine, doc_id, other_host, every=timedelta(milliseconds=20))
    with lost:  # the claim is no longer ours: nothing to renew, the heartbeat ends
        _wait_for(lambda: not lost._thread.is_alive())
    assert lost.beats == 0


def test_a_job_without_progress_lets_its_claim_go(desk):
    doc_id = desk.take(born_digital_pdf(1), "a.pdf").document.id
    mine = "here:1:1:job"
    _claimed_elsewhere(desk, doc_id, mine, utcnow())
    fast, stall = timedelta(milliseconds=20), timedelta(milliseconds=300)
    with ClaimHeartbeat(desk.rt.engine, doc_id, mine, every=fast, stalled_after=stall) as moving:
        for _ in range(30):  # a page done every 20 ms: renewed all along
            heartbeat.progressed()
            time.sleep(0.02)
        assert moving._thread.is_alive()
        _wait_for(lambda: not moving._thread.is_alive())  # then nothing for 300 ms: hung
    assert moving.beats >= 10


def test_a_job_renews_its_claim_while_it_works(desk, monkeypatch):
    doc_id = desk.take(scanned_pdf([scan_image()]), "scan.pdf").document.id
    monkeypatch.setattr(claims, "HEARTBEAT", timedelta(milliseconds=20))
    renewed = []
    beat = ClaimHeartbeat.beat
    monkeypatch.setattr(ClaimHeartbeat, "beat", lambda self: renewed.append(beat(self)) or True)
    assert desk.process(doc_id) == "ready"  # OCR of a page takes far longer than 20 ms
    # renewed while working; a last beat may come after the job let go of its claim
    assert renewed.count(True) >= 2 and False not in renewed[: renewed.count(True)]


def test_a_container_of_the_same_name_on_another_machine_is_another_host():
    now, gone = utcnow(), 4_000_000  # no process has that id here
    here = claims.identity("job", gone)
    name = here.split("/", 1)[0]
    elsewhere = f"{name}/ffffffff/4026531836:{gone}::job"  # same host name, another boot
    assert claims.is_stale(here, now, now)  # this machine: its process is gone
    assert not claims.is_stale(elsewhere, now, now)  # another: only the lease can tell
    assert claims.is_stale(elsewhere, now - claims.DEFAULT_LEASE * 2, now)


def test_a_retry_of_the_same_job_is_not_counted_as_a_crash(desk):
    """The database went away mid-job (the claim could not be released): the queue's retry of
    that job takes its claim back, and that is no crash of a worker."""
    doc_id = desk.take(born_digital_pdf(1), "a.pdf").document.id
    _claimed_elsewhere(desk, doc_id, claims.identity("job-7"), utcnow())
    with desk.rt.session() as s, s.begin():
        s.execute(update(IngestTask).where(IngestTask.document_id == doc_id).values(attempts=5))
    assert desk.process(doc_id, job_id="job-7") == "ready"
    with desk.rt.session() as s:
        assert s.get(IngestTask, doc_id).attempts == 5


def test_recover_queues_received_documents_without_a_job(desk):
    first = desk.take(born_digital_pdf(1), "a.pdf").document.id
    second = desk.take(born_digital_pdf(2), "b.pdf").document.id
    desk.queued.clear()
    with desk.rt.session() as s:
        report = recover(s, enqueue=desk.queued.append, queued=[second])
    assert report.requeued == [first]
    with desk.rt.session() as s:  # an expired lease counts as stale too
        s.execute(update(Document).where(Document.id == second).values(status="processing"))
        s.execute(
            update(IngestTask)
            .where(IngestTask.document_id == second)
            .values(claimed_by="elsewhere:1:1:job", claimed_at=utcnow() - timedelta(hours=2))
        )
        s.commit()
        assert recover(s, enqueue=lambda _id: None).requeued == [first, second]


def test_storage_away_releases_the_document_for_a_retry(desk, monkeypatch):
    result = desk.take(born_digital_pdf(1), "a.pdf")

    def away(*_a, **_k):
        raise StorageUnavailable("S3 is down")

    monkeypatch.setattr(desk.rt.store, "get_to_file", away)
    with pytest.raises(IngestRetryLater):
        desk.process(result.document.id, job_id="job-1")
    doc = desk.document(result.document.id)
    assert doc.status == "received"
    with desk.rt.session() as s:
        task = s.get(IngestTask, doc.id)
        assert task.claimed_by == "" and "S3 is down" in task.last_error and task.attempts == 0
    monkeypatch.undo()
    assert desk.process(result.document.id, job_id="job-1") == "ready"


def test_giving_up_after_retries_fails_the_document(desk):
    result = desk.take(born_digital_pdf(1), "a.pdf")
    with desk.rt.session() as s:
        assert pipeline.fail_for_good(s, result.document.id, "job", "gave up: S3 away") == "failed"
    assert desk.document(result.document.id).failure_reason == "gave up: S3 away"


def test_permanent_failure_is_shown_and_can_be_retried(desk, world, monkeypatch):
    page = scan_image()
    result = desk.take(image_bytes(page), "a.png")
    import eakte.ingest.ocr as ocr

    def broken(*_a, **_k):
        raise ocr.OcrFailed("OCR failed (MissingDependencyError): tesseract language deu missing")

    monkeypatch.setattr(ocr, "ocr_to_pdfa", broken)
    assert desk.process(result.document.id) == "failed"
    doc = desk.document(result.document.id)
    assert doc.status == "failed" and "language deu missing" in doc.failure_reason
    with desk.rt.session() as s:
        assert audit.history(s, str(doc.uuid))[-1].action == "ingest_failed"
    monkeypatch.undo()
    desk.queued.clear()
    with desk.rt.session() as s:
        retry_document(s, world.scanner, doc.id, enqueue=desk.queued.append)
        with pytest.raises(NotRetryable):
            retry_document(s, world.scanner, doc.id)
    assert desk.process_queued() == ["ready"]
    assert "Gaststättenerlaubnis" in desk.document(doc.id).extracted_text


def test_an_unexpected_error_fails_the_document_and_the_next_one_goes_through(desk, monkeypatch):
    bad = desk.take(born_digital_pdf(1), "a.pdf").document.id
    good = desk.take(born_digital_pdf(2), "b.pdf").document.id

    def bug(*_a, **_k):
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(conversion, "read_pdf", bug)
    assert desk.process(bad) == "failed"
    monkeypatch.undo()
    assert desk.process(good) == "ready"
    reason = desk.document(bad).failure_reason  # in words, not Python's (issue 25)
    assert "division by zero" in reason and "ZeroDivisionError" not in reason, reason


def test_repeated_crashes_end_in_failed_not_a_loop(desk):
    doc_id = desk.take(born_digital_pdf(1), "a.pdf").document.id
    with desk.rt.session() as s, s.begin():
        s.execute(
            update(IngestTask)
            .where(IngestTask.document_id == doc_id)
            .values(attempts=pipeline.MAX_ATTEMPTS)
        )
    assert desk.process(doc_id) == "failed"
    assert "interrupted 5 times" in desk.document(doc_id).failure_reason


def test_r16_changed_stored_bytes_raise_an_alarm(desk, caplog):
    doc_id = desk.take(born_digital_pdf(1), "a.pdf").document.id
    (original,) = _versions(desk, doc_id)
    with desk.rt.session() as s, s.begin():  # the record and the bytes no longer agree
        s.execute(update(FileVersion).where(FileVersion.id == original.id).values(sha256="0" * 64))
    assert desk.process(doc_id) == "failed"
    assert "integrity alarm" in desk.document(doc_id).failure_reason
    assert "ALARM" in caplog.text
    with desk.rt.session() as s:
        findings = run_verify(VerifyContext(s, desk.rt.store)).findings
    assert any(f.check == "transfer notes" and "ALARM" in f.problem for f in findings)


def test_leftover_rendition_of_a_crashed_attempt_is_replaced(desk, world):
    doc_id = desk.take(image_bytes(scan_image()), "a.png").document.id
    doc = desk.document(doc_id)
    key = pipeline.keys.rendition_key("default", doc.uuid)
    desk.rt.store.put(key, io.BytesIO(b"half a rendition"), content_type="application/pdf")
    assert desk.process(doc_id) == "ready"
    with desk.rt.session() as s:
        assert s.scalar(select(StoredObject).where(StoredObject.key == key)) is not None
        assert run_verify(VerifyContext(s, desk.rt.store)).clean


@pytest.mark.parametrize("mode", ["bilevel_group4", "gray_png"])
def test_ocr_rasteriser_takes_the_page_scan_itself_pixel_for_pixel(tmp_path, mode):
    """The OCR plugin hands OCRmyPDF the scan's own pixels instead of rendering the page."""
    from ocrmypdf.helpers import Resolution
    from PIL import ImageChops

    from eakte.ingest.ocr import image_to_pdf
    from eakte.ingest.ocr_engine import _scan_of_page

    page = scan_image(dpi=300)
    source = tmp_path / "scan"
    if mode == "bilevel_group4":
        page = page.convert("1")
        page.save(source, "TIFF", compression="group4", dpi=(300, 300))
    else:
        page.save(source, "PNG", dpi=(300, 300))
    image_to_pdf(source, tmp_path / "scan.pdf")
    taken = _scan_of_page(tmp_path / "scan.pdf", 1, Resolution(300, 300))
    assert ImageChops.difference(taken, page.convert("L")).getbbox() is None
    assert _scan_of_page(tmp_path / "scan.pdf", 1, Resolution(200, 200)) is None  # rendered


def test_pages_of_a_lone_document_are_recognised_in_parallel(desk):
    """With nothing else waiting the worker gives a document every core: each thread has its
    own Tesseract, and the result is the same as page by page."""
    pages = [scan_image(lines=[f"Seite {n}: Gaststättenerlaubnis Müller"] * 6) for n in (1, 2, 3)]
    together = desk.take(scanned_pdf(pages), "drei.pdf").document.id
    apart = desk.take(scanned_pdf(pages) + b"\n", "drei-einzeln.pdf").document.id
    assert desk.process(together, ocr_threads=3) == "ready"
    assert desk.process(apart, ocr_threads=1) == "ready"
    first, second = desk.document(together), desk.document(apart)
    assert first.page_count == second.page_count == 3
    assert first.extracted_text == second.extracted_text
    for n in (1, 2, 3):
        assert f"Seite {n}" in first.extracted_text
    # what the worker does after such a document: one engine of each kind stays loaded
    tesseract_api.trim(keep=1)
    assert all(len(idle) <= 1 for idle in tesseract_api._idle.values())
    with tesseract_api.borrowed("deu") as one, tesseract_api.borrowed("deu") as two:
        assert one is not two  # two threads at once: two engines
    assert tesseract_api.trim(keep=1) == 1


def test_an_unreachable_job_queue_loses_nothing(desk):
    def queue_away(_document_id, **_kw):
        raise ConnectionError("Redis is away")

    scan = desk.take(scanned_pdf([scan_image()]), "scan.pdf", enqueue=queue_away)
    assert scan.outcome == "accepted"  # stored: the person must not send it again
    with desk.rt.session() as s:
        report = recover(s, enqueue=desk.queued.append)
    assert report.requeued == [scan.document.id]
    assert desk.process(scan.document.id) == "ready"


def test_working_files_of_crashed_attempts_are_swept(desk, tmp_path):
    spool_dir = tmp_path / "spool"
    spool_dir.mkdir()
    crashed = spool_dir / "doc-17-abc"  # a worker killed during OCR
    crashed.mkdir()
    (crashed / "original").write_bytes(b"%PDF-1.4 a scan")
    (spool_dir / "intake-xyz").write_bytes(b"half an upload")  # a web process killed
    running = spool_dir / "doc-18-def"  # a job at work right now
    running.mkdir()
    unrelated = spool_dir / "notes.txt"
    unrelated.write_text("not ours")
    two_days_ago = time.time() - 2 * 86400
    for old in (crashed, spool_dir / "intake-xyz", unrelated):
        os.utime(old, (two_days_ago, two_days_ago))
    assert spool.sweep(spool_dir) == 2
    assert sorted(p.name for p in spool_dir.iterdir()) == ["doc-18-def", "notes.txt"]
