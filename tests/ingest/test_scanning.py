"""R15-R17: scan batches record who scanned what and how; only a person passes the quality
check; a failed page is re-scanned and replaced, the replacement logged."""

import pytest
from sqlalchemy import select

from eakte import audit
from eakte.errors import (
    BadInput,
    BatchIncomplete,
    Conflict,
    NotAScan,
    PermissionDenied,
    QcNeedsPerson,
)
from eakte.models import FileVersion, ScanBatch
from eakte.models.ingest import TransferNote
from eakte.services import scanning
from eakte.services.intake import ApiClient
from tests.ingest.conftest import born_digital_pdf, image_bytes, scan_image, scanned_pdf


@pytest.fixture
def batch(world):
    with world.session() as s:
        return scanning.open_batch(
            s,
            world.scanner,
            "Posteingang 2026-05-04",
            operator="Anna Scan",
            device="Fujitsu fi-7160",
            dpi=150,
            colour_mode="gray",
        )


def test_r15_batch_records_operator_device_profile_time(world, batch):
    assert (batch.operator, batch.device, batch.dpi, batch.colour_mode) == (
        "Anna Scan",
        "Fujitsu fi-7160",
        150,
        "gray",
    )
    assert batch.scanned_at is not None and batch.qc_status == "pending"
    with world.session() as s:
        again = scanning.open_batch(s, world.scanner, "Posteingang 2026-05-04", dpi=150)
        assert again.id == batch.id  # an import run again continues its batch
        with pytest.raises(Conflict):
            scanning.open_batch(s, world.scanner, "Posteingang 2026-05-04", dpi=300)
        with pytest.raises(BadInput):
            scanning.open_batch(s, world.scanner, "Zu fein", dpi=9600)
        assert [e.action for e in audit.history(s, str(batch.uuid))] == ["create"]


def test_r17_quality_check_is_passed_by_a_person_only(desk, world, batch):
    doc = desk.take(born_digital_pdf(1), "a.pdf", scan_batch_id=batch.id).document
    with world.session() as s:
        with pytest.raises(QcNeedsPerson):
            scanning.pass_qc(s, None, batch.id)
        with pytest.raises(QcNeedsPerson):
            scanning.pass_qc(s, ApiClient(world.tenant.id, "scanstrasse"), batch.id)
        with pytest.raises(PermissionDenied):
            scanning.pass_qc(s, world.clerk, batch.id)
        with pytest.raises(BatchIncomplete, match="1 received"):
            scanning.pass_qc(s, world.scanner, batch.id)
    desk.process(doc.id)
    with world.session() as s:
        passed = scanning.pass_qc(s, world.scanner, batch.name, "Stichprobe 10 %")
        assert passed.qc_status == "passed" and passed.qc_by_id == world.scanner.id
        assert passed.qc_at is not None
        entry = audit.history(s, str(batch.uuid))[-1]
    assert entry.action == "qc_pass" and entry.username == "scan"
    with world.session() as s:
        summary = scanning.batch_summary(s, world.scanner, batch.id)
    assert summary.documents == {"ready": 1} and summary.batch.page_count == 1


def test_r17_failed_page_is_rescanned_and_replaced_with_the_replacement_logged(
    desk, world, batch, tmp_path
):
    pages = [scan_image(dpi=150), scan_image(["Seite zwei schief und unlesbar"], dpi=150)]
    doc = desk.take(scanned_pdf(pages), "akte.pdf", scan_batch_id=batch.id).document
    assert desk.process_queued() == ["ready"]
    with world.session() as s:
        scanning.fail_qc(s, world.scanner, batch.id, "Dokument akte.pdf: Seite 2 unlesbar")
        old = s.scalar(select(FileVersion).where(FileVersion.document_id == doc.id))
    rescan = tmp_path / "seite2.png"
    rescan.write_bytes(image_bytes(scan_image(["Ersatzseite sauber nachgescannt"], dpi=150)))
    with world.session() as s:
        with pytest.raises(BadInput):
            scanning.replace_page(s, world.scanner, desk.rt.store, doc.id, 3, rescan,
                                  reason="x", settings=desk.rt.settings)  # fmt: skip
        scanning.replace_page(
            s,
            world.scanner,
            desk.rt.store,
            doc.id,
            2,
            rescan,
            reason="Seite 2 schief eingezogen",
            settings=desk.rt.settings,
            enqueue=desk.queued.append,
        )
    with world.session() as s:
        versions = s.scalars(
            select(FileVersion).where(FileVersion.document_id == doc.id).order_by(FileVersion.id)
        ).all()
        assert [v.kind for v in versions] == ["original", "rendition", "original"]
        assert versions[0].sha256 == old.sha256  # the first scan stays
        new = versions[-1]
        note = s.scalar(select(TransferNote).where(TransferNote.file_version_id == new.id))
        assert note.method == "rescan" and note.sha256 == new.sha256
        assert "page 2 replaced" in note.anomalies
        entry = audit.history(s, str(doc.uuid))[-1]
        assert entry.action == "replace_page" and old.sha256 in entry.details
        assert new.sha256 in entry.details and "schief eingezogen" in entry.details
        assert s.get(ScanBatch, batch.id).qc_status == "pending"  # to be checked again
    assert desk.process_queued() == ["ready"]
    text = desk.document(doc.id).extracted_text
    assert "Ersatzseite" in text and "unlesbar" not in text and "Gaststättenerlaubnis" in text
    with world.session() as s:
        renditions = s.scalars(
            select(FileVersion).where(
                FileVersion.document_id == doc.id, FileVersion.kind == "rendition"
            )
        ).all()
        assert len(renditions) == 2 and s.get(ScanBatch, batch.id).page_count == 2


def test_r17_only_scans_have_pages_replaced(desk, world, tmp_path):
    doc = desk.take(born_digital_pdf(2), "brief.pdf").document
    desk.process(doc.id)
    rescan = tmp_path / "p.png"
    rescan.write_bytes(image_bytes(scan_image(dpi=150)))
    with world.session() as s, pytest.raises(NotAScan):
        scanning.replace_page(
            s,
            world.scanner,
            desk.rt.store,
            doc.id,
            1,
            rescan,
            reason="x",
            settings=desk.rt.settings,
        )
