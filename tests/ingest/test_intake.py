"""Intake: bytes to S3 first, then the document row with its transfer note; duplicates linked;
a re-run finds what is already in; people, API clients and targets checked."""

import io

import pytest
from sqlalchemy import func, select

from eakte import audit
from eakte.errors import BadInput, CaseClosed, NotFound, PermissionDenied
from eakte.ingest import keys
from eakte.models import AuditEvent, Document, FileVersion, StoredObject
from eakte.models.ingest import IngestTask, TransferNote
from eakte.services import cases
from eakte.services.intake import ApiClient, DocumentMetadata, Outcome, Target
from eakte.verify import VerifyContext, run_verify
from storage.errors import StorageUnavailable
from tests.ingest.conftest import born_digital_pdf


def test_r16_accepted_document_has_hash_and_transfer_note(desk, world):
    data = born_digital_pdf(2)
    result = desk.take(data, "Gewerbeanmeldung Schmidt.pdf", source="web upload")
    assert result.outcome == Outcome.accepted and desk.queued == [result.document.id]
    doc = desk.document(result.document.id)
    assert doc.status == "received" and doc.title == "Gewerbeanmeldung Schmidt"
    assert doc.inbox_org_unit_id is not None and doc.process_id is None
    (original,) = doc.versions
    assert original.kind == "original" and original.mime == "application/pdf"
    assert original.s3_key == keys.original_key("default", doc.uuid)
    import hashlib

    sha = hashlib.sha256(data).hexdigest()
    assert doc.sha256 == original.sha256 == sha
    with desk.rt.session() as s:
        note = s.scalar(select(TransferNote).where(TransferNote.document_id == doc.id))
        assert note.sha256 == sha and note.received_by == "scan" and note.method == "upload"
        assert note.file_version_id == original.id and note.created_at is not None
        assert s.get(IngestTask, doc.id) is not None
        events = [e.action for e in audit.history(s, str(doc.uuid))]
    assert events == ["create"]
    # R18: the bytes in S3 carry the same hash in their metadata, and read back verified
    info = desk.rt.store.stat(original.s3_key, original.s3_version_id)
    assert info.sha256 == sha
    with desk.rt.store.open(original.s3_key, original.s3_version_id, sha) as reader:
        assert reader.read() == data


def test_same_bytes_again_are_a_linked_duplicate_not_stored_twice(desk):
    data = born_digital_pdf(1)
    first = desk.take(data, "a.pdf")
    second = desk.take(io.BytesIO(data), "b.pdf")
    assert second.outcome == Outcome.duplicate
    assert second.document.duplicate_of_id == first.document.id
    with desk.rt.session() as s:
        assert s.scalar(select(func.count(StoredObject.id))) == 1
        versions = s.scalars(select(FileVersion)).all()
        assert {v.stored_object_id for v in versions} == {versions[0].stored_object_id}
        actions = [e.action for e in audit.history(s, str(second.document.uuid))]
    assert "duplicate" in actions
    # the duplicate takes over the text of the first once that one is processed
    desk.process(first.document.id)
    assert desk.process(second.document.id) == "ready"
    assert "Seite 1" in desk.document(second.document.id).extracted_text


def test_source_key_makes_a_rerun_find_the_document(desk):
    data = born_digital_pdf(1)
    first = desk.take(data, "x.pdf", source_key="import:/a/x.pdf|1|1")
    again = desk.take(data, "x.pdf", source_key="import:/a/x.pdf|1|1")
    assert first.outcome == Outcome.accepted and again.outcome == Outcome.existing
    assert again.document.id == first.document.id and desk.queued == [first.document.id]


def test_crash_between_upload_and_commit_is_adopted_on_rerun(desk, monkeypatch):
    """Bytes in S3, row not committed (a crash): the re-run takes those very bytes, no orphan
    stays behind, and verify is clean."""
    import eakte.ingest.intake as steps

    data, key = born_digital_pdf(1), "import:/archiv/brief.pdf|10|20"

    def crash(*_a, **_k):
        raise KeyboardInterrupt  # the process dies right after the upload

    monkeypatch.setattr(steps, "register", crash)
    monkeypatch.setattr(steps, "INTAKE_STEPS", [*steps.INTAKE_STEPS[:-1], crash])
    with pytest.raises(KeyboardInterrupt):
        desk.take(data, "brief.pdf", source_key=key)
    monkeypatch.undo()
    with desk.rt.session() as s:
        assert s.scalar(select(func.count(Document.id))) == 0
    assert len(list(desk.rt.store.list(versions=True))) == 1  # the crashed run's upload
    result = desk.take(data, "brief.pdf", source_key=key)
    assert result.outcome == Outcome.accepted
    assert len(list(desk.rt.store.list(versions=True))) == 1  # adopted, not uploaded again
    with desk.rt.session() as s:
        report = run_verify(VerifyContext(s, desk.rt.store))
    assert report.clean, report.findings


def test_storage_away_means_not_accepted_and_nothing_registered(desk, monkeypatch):
    def away(*_a, **_k):
        raise StorageUnavailable("S3 is down")

    monkeypatch.setattr(desk.rt.store, "put_file", away)
    with pytest.raises(StorageUnavailable):
        desk.take(born_digital_pdf(1), "a.pdf")
    with desk.rt.session() as s:
        assert s.scalar(select(func.count(Document.id))) == 0
    assert desk.queued == []


def test_target_process_files_straight_into_an_open_case(desk, world):
    with world.session() as s:
        case = cases.create_case(s, world.clerk, "32.10.05", "Gaststätte Zur Linde")
        process = cases.add_process(s, world.clerk, case.id, "Erlaubnis")
    result = desk.take(
        born_digital_pdf(1),
        "antrag.pdf",
        actor=world.clerk,
        target=Target(process=process.id),
        metadata=DocumentMetadata(title="Antrag", doc_type="Antrag"),
    )
    doc = desk.document(result.document.id)
    assert doc.process_id == process.id and doc.inbox_org_unit_id is None
    assert doc.title == "Antrag" and doc.doc_type == "Antrag"
    with world.session() as s:
        cases.close_case(s, world.clerk, case.id)
    with pytest.raises(CaseClosed):
        desk.take(
            born_digital_pdf(2), "spät.pdf", actor=world.clerk, target=Target(process=process.id)
        )


def test_permissions_and_targets_are_checked(desk, world):
    with pytest.raises(PermissionDenied):  # records officers file, they do not take in
        desk.take(born_digital_pdf(1), "a.pdf", actor=world.officer)
    with pytest.raises(PermissionDenied):  # another unit's inbox
        desk.take(born_digital_pdf(1), "a.pdf", actor=world.clerk_bau, target=Target(org_unit="32"))
    with pytest.raises(NotFound):
        desk.take(born_digital_pdf(1), "a.pdf", target=Target(org_unit="nope"))
    with world.session() as s:
        refused = s.scalars(select(AuditEvent).where(AuditEvent.outcome == "refused")).all()
    assert len(refused) == 3
    own = desk.take(born_digital_pdf(1), "a.pdf", actor=world.clerk_bau, target=Target())
    assert own.outcome == Outcome.accepted


def test_api_client_delivers_into_its_inbox(desk, world):
    with world.session() as s:
        from eakte.services.accounts import _unit_id

        unit = _unit_id(s, world.tenant.id, "60")
    client = ApiClient(tenant_id=world.tenant.id, name="bauportal", inbox_org_unit_id=unit)
    result = desk.take(
        born_digital_pdf(1), "bauantrag.pdf", actor=client, method="api", target=Target()
    )
    doc = desk.document(result.document.id)
    assert doc.inbox_org_unit_id == unit
    with desk.rt.session() as s:
        note = s.scalar(select(TransferNote).where(TransferNote.document_id == doc.id))
        actions = [e.action for e in audit.history(s, str(doc.uuid))]
    assert note.received_by == "api:bauportal" and note.method == "api"
    assert actions == ["create", "api_intake"]
    with pytest.raises(BadInput):  # no inbox known
        desk.take(
            born_digital_pdf(2), "x.pdf", actor=ApiClient(world.tenant.id, "x"), target=Target()
        )
