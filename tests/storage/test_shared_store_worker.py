"""Issue 21, finding 3, with real processes: an ``eakte worker`` attached to the embedded object
store another process started keeps processing every document after that process ends (before:
it retried against a dead port for good and recognised nothing)."""

from __future__ import annotations

import pytest

from bench._ingest_setup import installation, stop, wait_for
from tests.ingest.conftest import scan_image, scanned_pdf

pytestmark = pytest.mark.slow


def test_worker_started_before_an_import_outlives_the_imports_store(tmp_path):
    scans = tmp_path / "scans"
    scans.mkdir()
    for n in range(6):
        page = scan_image([f"Bauakte Nummer {n}", "Baugenehmigung Wohnhaus"], dpi=100)
        (scans / f"akte-{n}.pdf").write_bytes(scanned_pdf([page]))
    # The installation's server stands for the one `eakte import` started: the worker and
    # the import attach to it, and it goes away when the import is done.
    with installation("eakte-test-shared-store-") as inst:
        worker = inst.start("worker", log="worker")
        try:
            inst.eakte("import", str(scans), "--user", "scan", timeout=300)
            inst.server.stop()
            wait_for(lambda: inst.counts().get("ready", 0) == 6, timeout=300, poll=1)
        finally:
            stop(worker)
        counts = inst.counts()
        assert counts.get("ready") == 6 and not counts.get("failed"), counts
