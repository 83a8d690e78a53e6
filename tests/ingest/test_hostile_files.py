"""Hostile files (issue 14): every file eAkte reads is bounded before it is rendered or
inflated, and what slips through ends as a failed job, not a machine out of memory; walks
stay in their folder; names cannot spoof; reasons are readable."""

from __future__ import annotations

import io
import os
import resource
import subprocess
import sys
import time
import tracemalloc
import zipfile
import zlib

import pikepdf
import pytest
from sqlalchemy import select

from eakte.errors import XdomeaRejected
from eakte.ingest import names
from eakte.ingest.confine import JobLimits
from eakte.ingest.hotfolder import HotFolder
from eakte.ingest.reasons import plain
from eakte.ingest.walk import walk
from eakte.models.ingest import QuarantinedFile
from eakte.services.intake import Outcome
from retention.xdomea.reader import MAX_MESSAGE_BYTES, unpack
from tests.fixtures.app import replace_settings
from tests.ingest import hostile
from tests.ingest.conftest import born_digital_pdf, scan_image, scanned_pdf


def _next_document_goes_through(desk):
    good = desk.take(born_digital_pdf(1, "Ordnungsgemäßer Antrag"), "gut.pdf")
    assert good.outcome == Outcome.accepted
    assert desk.process(good.document.id) == "ready"


def test_finding_1_a_page_5_m_wide_or_with_a_huge_userunit_is_quarantined_unrendered(desk):
    for maker in (hostile.huge_mediabox, hostile.huge_userunit):
        result = desk.take(maker(), "plan.pdf")
        assert result.outcome == Outcome.quarantined
        assert result.reason_code == "page_too_large" and "pixels at 400 dpi" in result.reason
    assert desk.queued == []  # nothing reached the worker


def test_all_streams_of_a_pdf_together_inflate_within_the_files_budget(desk):
    def build(pdf):  # two content streams of 10 MB each, each within the per-stream cap
        data = hostile._zeros_deflated(10 << 20)
        pdf.pages[0].Contents = pikepdf.Array(
            [pdf.make_stream(data, Filter=pikepdf.Name.FlateDecode) for _ in range(2)]
        )

    many = hostile._pdf(build)
    settings = replace_settings(desk.settings, ingest_max_decoded_mb=16)
    result = desk.take(many, "viel.pdf", settings=settings)
    assert result.outcome == Outcome.quarantined and result.reason_code == "decompression_bomb"
    assert "EAKTE_INGEST_MAX_DECODED_MB" in result.reason
    assert desk.take(many, "viel.pdf").outcome == Outcome.accepted  # the default: 2 GB


def test_hostile_corpus_ends_in_quarantine_or_a_processed_document(desk):
    outcomes = {}
    for name, (maker, filename, _) in hostile.CORPUS.items():
        result = desk.take(maker(), filename)
        if result.outcome == Outcome.quarantined:
            outcomes[name] = str(result.reason_code)
            assert "<" not in result.reason and "/spool/" not in result.reason, result.reason
        else:
            outcomes[name] = str(desk.process(result.document.id))
    assert outcomes == {name: expected for name, (_, _, expected) in hostile.CORPUS.items()}
    _next_document_goes_through(desk)


def test_second_line_a_job_beyond_its_memory_ends_failed_and_the_worker_lives_on(desk):
    """An inline image declaring 60,000 × 60,000 pixels passes the bounds when their pixel
    limit is raised beyond it; rendering it needs gigabytes. The job's child process hits its
    memory limit, the document fails with a reason, this process stays small."""
    lenient = replace_settings(desk.settings, ingest_max_pixels=4_000_000_000)
    doc_id = desk.take(hostile.inline_image_bomb(), "inline.pdf", settings=lenient).document.id
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    limits = JobLimits(memory_bytes=768 * 2**20)
    assert desk.process(doc_id, limits=limits) == "failed"
    reason = desk.document(doc_id).failure_reason
    assert "memory" in reason and "EAKTE_INGEST_JOB_MEMORY_MB" in reason, reason
    assert "<" not in reason
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 512 * 1024  # kB
    _next_document_goes_through(desk)


def test_second_line_a_job_beyond_its_cpu_time_ends_failed(desk, monkeypatch):
    doc_id = desk.take(scanned_pdf([scan_image()]), "scan.pdf").document.id

    def spin(*_a, **_k):
        while True:
            pass

    monkeypatch.setattr("eakte.ingest.ocr.ocr_to_pdfa", spin)
    limits = JobLimits(cpu_base_s=1, cpu_per_page_s=1)
    assert desk.process(doc_id, limits=limits) == "failed"
    assert "CPU time" in desk.document(doc_id).failure_reason
    monkeypatch.undo()
    _next_document_goes_through(desk)


def test_second_line_a_job_that_hangs_without_progress_is_stopped(desk, monkeypatch):
    doc_id = desk.take(scanned_pdf([scan_image()]), "scan.pdf").document.id
    monkeypatch.setattr("eakte.ingest.ocr.ocr_to_pdfa", lambda *_a, **_k: time.sleep(600))
    assert desk.process(doc_id, limits=JobLimits(stall_s=2)) == "failed"
    assert "no progress" in desk.document(doc_id).failure_reason
    monkeypatch.undo()
    _next_document_goes_through(desk)


def test_finding_2_import_never_follows_a_link_out_of_its_folder_nor_reads_the_data_dir(
    tmp_path, world, env
):
    data_dir = world.rt.settings.data_dir
    (data_dir / "secret_key").write_text("geheim")
    outside = tmp_path / "fremd"
    outside.mkdir()
    (outside / "vorschau.pdf").write_bytes(born_digital_pdf(1, "Fremder Mandant"))
    folder = tmp_path / "import"
    folder.mkdir()
    (folder / "antrag.pdf").write_bytes(born_digital_pdf(1, "Antrag"))
    os.symlink(data_dir, folder / "daten")
    os.symlink(outside / "vorschau.pdf", folder / "vorschau.pdf")
    os.symlink(data_dir / "secret_key", folder / "schluessel.pdf")
    done = _import(folder)
    assert done.returncode == 0, done.stderr
    assert "imported:     1" in done.stdout and "link_outside: 3" in done.stdout, done.stdout
    with world.session() as s:
        entries = s.scalars(select(QuarantinedFile)).all()
    assert len(entries) == 3
    assert all(e.stored_object_id is None and e.s3_key == "" for e in entries)  # no bytes
    assert {e.reason_code for e in entries} == {"link_outside"}
    inside = _import(data_dir)
    assert inside.returncode != 0 and "data directory" in inside.stderr


def _import(folder):
    return subprocess.run(
        [sys.executable, "-m", "eakte", "import", str(folder), "--user", "scan"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "EAKTE_LOG_LEVEL": "WARNING"},
    )


def test_finding_2_the_hot_folder_moves_a_link_out_of_it_to_failed_unfollowed(tmp_path):
    data_dir = tmp_path / "daten"
    data_dir.mkdir()
    (data_dir / "secret_key").write_text("geheim")
    folder = HotFolder(tmp_path / "scanner", interval=5, protected=(data_dir,))
    os.symlink(data_dir, folder.root / "daten")
    os.symlink(data_dir / "secret_key", folder.root / "scan.pdf")
    later = time.time() + 60
    assert folder.complete_files(now=later) == []  # first sight
    found = folder.complete_files(now=later)
    assert sorted(e.path.name for e in found) == ["daten", "scan.pdf"]
    assert {e.problem.code for e in found} == {"link_outside"} and all(e.size == 0 for e in found)
    for entry in found:
        folder.settle(entry, accepted=False, reason=entry.problem.detail)
    assert (folder.failed / "daten").is_symlink() and (data_dir / "secret_key").exists()


def test_finding_2_a_file_of_the_data_dir_hard_linked_into_the_folder_is_not_read(tmp_path):
    """A hard link names no target: the walk knows it by its inode, not by a path."""
    data_dir = tmp_path / "daten"
    data_dir.mkdir()
    (data_dir / "secret_key").write_text("geheim")
    folder = tmp_path / "import"
    folder.mkdir()
    (folder / "antrag.pdf").write_bytes(b"%PDF-1.4")
    os.link(data_dir / "secret_key", folder / "schluessel.pdf")
    os.link(folder / "antrag.pdf", folder / "antrag-kopie.pdf")  # linked inside: still read
    found = {e.relative: e for e in walk(folder, protected=[data_dir])}
    assert found["schluessel.pdf"].problem.code == "link_outside"
    assert found["schluessel.pdf"].size == 0
    assert found["antrag.pdf"].problem is None and found["antrag-kopie.pdf"].problem is None


def test_finding_10_bidi_and_invisible_characters_leave_file_names(desk):
    spoofed = "rechnung\u202efdp.exe"  # shown as "rechnungexe.pdf"
    assert names.sanitise(spoofed) == "rechnungfdp.exe"
    for char in "\u202a\u202b\u202c\u202d\u2066\u2067\u2068\u2069\u200e\u200f\u061c\u200b\x85":
        assert names.sanitise(f"Antrag{char}.pdf") == "Antrag.pdf"
    assert names.sanitise("Mu\u0308ller.pdf") == "Müller.pdf"  # NFC
    result = desk.take(born_digital_pdf(1), "bescheid\u202egnp.pdf")
    assert desk.document(result.document.id).versions[0].filename == "bescheidgnp.pdf"


def _lying_zip(inflated: int) -> bytes:
    """One XML entry that inflates to ``inflated`` bytes while the ZIP says 10."""
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    body = packer.compress(b"<a>") + b"".join(
        packer.compress(b" " * (1 << 20)) for _ in range(inflated >> 20)
    )
    body += packer.flush()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("0502.xml", b"<a/>")
    data = out.getvalue()
    # rebuild with the big body but the small declared size
    info = zipfile.ZipFile(io.BytesIO(data)).getinfo("0502.xml")
    local = bytearray(data[: info.header_offset + 30 + len(info.filename)])
    local[18:22] = len(body).to_bytes(4, "little")  # compressed size
    local[22:26] = (10).to_bytes(4, "little")  # uncompressed size: a lie
    central_start = data.index(b"PK\x01\x02")
    central = bytearray(data[central_start:])
    central[20:24] = len(body).to_bytes(4, "little")
    central[24:28] = (10).to_bytes(4, "little")
    end = central.index(b"PK\x05\x06")
    central[end + 16 : end + 20] = (len(local) + len(body)).to_bytes(4, "little")
    return bytes(local) + body + bytes(central)


def test_finding_11_a_0502_zip_whose_sizes_lie_is_inflated_only_up_to_the_cap():
    data = _lying_zip(MAX_MESSAGE_BYTES + (8 << 20))
    tracemalloc.start()
    try:
        with pytest.raises(XdomeaRejected):
            unpack(data, "0502.zip")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 8 << 20, f"{peak:,} bytes held while refusing"
    many = io.BytesIO()
    with zipfile.ZipFile(many, "w") as archive:
        for number in range(500):
            archive.writestr(f"anlage-{number}.txt", b"x")
    with pytest.raises(XdomeaRejected, match="entries"):
        unpack(many.getvalue(), "0506.zip")


def test_finding_14_quarantine_reasons_show_no_python_internals(desk):
    broken = b"%PDF-1.4\ngarbage garbage\n%%EOF\n"
    result = desk.take(broken, "kaputt.pdf")
    assert result.outcome == Outcome.quarantined and result.reason_code == "pdf_damaged"
    assert "<_io" not in result.reason and "BufferedReader" not in result.reason
    assert "intake-" not in result.reason  # no working file names either
    assert "trailer" in result.reason
    assert plain("stream <_io.BufferedReader name='/x/y/z'>: damaged") == "damaged"


def test_a_preview_of_a_huge_page_is_rendered_coarser_within_bounds(desk, world):
    """A page taken in before the bounds (here: under a raised pixel limit) is previewed at
    a resolution that fits ``PREVIEW_MAX_PIXELS``, by a Ghostscript under hard limits."""
    from PIL import Image

    from eakte.services import previews
    from tests.fixtures.app import replace_settings

    wide = hostile._pdf(lambda pdf: None, size=(14400, 3000))
    settings = replace_settings(desk.settings, ingest_max_pixels=2_000_000_000)
    document = desk.take(wide, "plan.pdf", settings=settings).document
    with desk.rt.session() as s:
        png = previews.page_image(
            s, world.scanner, desk.rt.store, desk.rt.settings.data_dir, str(document.uuid), 1
        )
    with Image.open(png) as image:
        assert image.width * image.height <= previews.PREVIEW_MAX_PIXELS
        assert image.width > 4 * image.height  # the whole page, only coarser


def test_finding_10_a_stored_spoofed_name_is_downloaded_without_bidi_characters(world, sign_in):
    from sqlalchemy import update

    from eakte.models import FileVersion

    doc = world.inbox_document("Bescheid", data=born_digital_pdf(1))
    with world.session() as s, s.begin():  # a name recorded before names were cleaned
        s.execute(
            update(FileVersion)
            .where(FileVersion.document_id == doc.id)
            .values(filename="rechnung\u202efdp.exe")
        )
        version = s.scalar(select(FileVersion.uuid).where(FileVersion.document_id == doc.id))
    download = sign_in("sachb").get(f"/dokumente/version/{version}")
    assert download.status_code == 200
    header = download.headers["Content-Disposition"]
    assert "%E2%80%AE" not in header.upper() and "\u202e" not in header
    assert "rechnungfdp.exe" in header


def test_a_confined_job_dies_with_its_worker(tmp_path):
    marker = tmp_path / "child.pid"
    script = (
        "import os, time\n"
        "from eakte.ingest.confine import JobLimits, run_confined\n"
        f"def work():\n    open({str(marker)!r}, 'w').write(str(os.getpid()))\n"
        "    time.sleep(120)\n"
        "run_confined(work, JobLimits())\n"
    )
    worker = subprocess.Popen([sys.executable, "-c", script], env={**os.environ})
    try:
        deadline = time.monotonic() + 30
        while not (marker.exists() and marker.read_text()):
            assert time.monotonic() < deadline and worker.poll() is None
            time.sleep(0.05)
        child = int(marker.read_text())
    finally:
        worker.kill()  # kill -9: no chance to clean up
        worker.wait()
    deadline = time.monotonic() + 10
    while os.path.exists(f"/proc/{child}") and "zombie" not in _state(child):
        assert time.monotonic() < deadline, "the job's child outlived its worker"
        time.sleep(0.05)


def _state(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/status") as fh:
            return next((line for line in fh if line.startswith("State:")), "").lower()
    except OSError:
        return "zombie"
