"""R9-R11: four-eyes disposal, destruction of every copy, certificates; the execution job
resumes after a crash and yields to a legal hold placed while it runs."""

import io
import json
from datetime import date

import pytest
from sqlalchemy import func, select

from eakte.errors import (
    FourEyesViolation,
    NotDue,
    NotFound,
    PermissionDenied,
    RequestNotApproved,
)
from eakte.models import (
    AuditEvent,
    Case,
    Document,
    DocumentStatus,
    FileVersion,
    StoredObject,
)
from eakte.services import cases, documents
from eakte.services.objects import store_object
from eakte.verify import VerifyContext, run_verify
from retention import disposal, holds
from retention.execution import execute_request
from retention.models import DestructionCertificate, DisposalItem, ItemState
from retention.rules import PERMANENT_RETAIN_UNTIL
from storage.errors import ObjectNotFound
from tests.fixtures.s3 import wait_for_floor
from tests.retention.conftest import Crash, FaultyStore


def test_r9_only_due_cases_can_be_proposed(records, world):
    open_case = records.case("Offen", closed_on=None)
    recent = records.case("Jüngst geschlossen", closed_on=date.today())
    permanent = records.case("Bauakte", node="60.01", closed_on=date(2000, 1, 1))
    due = records.case("Fällig", closed_on=date(2010, 1, 1))
    with world.session() as s:
        for case in (open_case, recent, permanent):
            with pytest.raises(NotDue):
                disposal.propose(s, world.officer, [due.id, case.id])
        assert s.scalar(select(func.count(DisposalItem.id))) == 0  # all or nothing
        with pytest.raises(PermissionDenied):
            disposal.propose(s, world.clerk, [due.id])
        request = disposal.propose(s, world.officer, [due.file_reference], note="Aussonderung 2025")
        assert [i.case_id for i in request.items] == [due.id]
        with pytest.raises(Exception, match="already in disposal request"):
            disposal.propose(s, world.officer2, [due.id])


def test_r9_approver_equal_to_proposer_refused(records, world):
    due = records.case("Vier Augen", closed_on=date(2010, 1, 1))
    with world.session() as s:
        request = disposal.propose(s, world.officer, [due.id])
        with pytest.raises(FourEyesViolation):
            disposal.approve(s, world.officer, request.id)
        with pytest.raises(FourEyesViolation):
            disposal.reject(s, world.officer, request.id, reason="doch nicht")
        with pytest.raises(PermissionDenied):
            disposal.approve(s, world.clerk, request.id)
        refused = s.scalars(
            select(AuditEvent).where(
                AuditEvent.action == "approve", AuditEvent.outcome == "refused"
            )
        ).all()
        assert refused and refused[0].username == world.officer.username
        disposal.approve(s, world.officer2, str(request.uuid)[:8])
        assert disposal.get_request(s, world.officer, request.id).status == "approved"


def test_r9_nothing_is_destroyed_without_an_approved_request(records, world):
    due = records.case("Nicht genehmigt", closed_on=date(2010, 1, 1))
    rejected = records.case("Abgelehnt", closed_on=date(2010, 1, 1))
    with world.session() as s:
        proposed = disposal.propose(s, world.officer, [due.id])
        turned_down = disposal.propose(s, world.officer, [rejected.id])
        disposal.reject(s, world.officer2, turned_down.id, reason="Akte wird noch gebraucht")
        for request in (proposed, turned_down):
            with pytest.raises(RequestNotApproved):
                execute_request(s, world.officer, records.store, request.id)
    for case in (due, rejected):
        for key in records.keys_of_case(case.id):
            assert records.versions_under(key)


def _add_extras(records, world, case):
    """Beyond the original: a rendition and its text, a second version of the original's key,
    a delete marker, and a thumbnail under the document's UUID."""
    with world.session() as s:
        document = s.scalars(
            select(Document).join(Document.process).where(Document.process.has(case_id=case.id))
        ).first()
        original = document.versions[0]
    records.add_rendition(document.id)
    store = records.store
    store.put(original.s3_key, io.BytesIO(b"overwritten"), 11)
    store._client.remove_object(store.bucket, original.s3_key)  # a delete marker on top
    with world.session() as s:
        store_object(
            s,
            store,
            tenant_id=world.tenant.id,
            key=f"{world.tenant.slug}/documents/{document.uuid}/thumb-1.png",
            stream=io.BytesIO(b"\x89PNG thumbnail"),
            content_type="image/png",
        )
    return document


def test_r10_destruction_removes_every_copy_and_r11_leaves_a_certificate(records, world, settings):
    case = records.case("Gewerbe Vogel", closed_on=date(2010, 6, 1), documents_=2)
    document = _add_extras(records, world, case)
    preview_dir = settings.data_dir / "previews" / str(document.uuid)
    preview_dir.mkdir(parents=True)
    (preview_dir / "1.png").write_bytes(b"preview")
    keys = records.keys_of_case(case.id)
    prefix = f"{world.tenant.slug}/documents/{document.uuid}/"
    assert len(keys) == 3 and len(records.versions_under(prefix)) == 2
    with world.session() as s:
        hashes = set(s.scalars(select(FileVersion.sha256)))
        stored = s.execute(select(FileVersion.uuid, FileVersion.s3_key, FileVersion.s3_version_id))
        stored = stored.all()
    request = records.approved(case.id)

    with world.session() as s:
        report = execute_request(
            s, world.officer, records.store, request.id, data_dir=settings.data_dir
        )
        assert report.destroyed == [case.file_reference] and report.completed

        # R10: nothing of the content is retrievable any more.
        for key in keys:
            assert records.versions_under(key) == []
        assert records.versions_under(prefix) == []
        assert not preview_dir.exists()
        assert s.scalar(select(func.count(FileVersion.id))) == 0
        assert s.scalar(select(func.count(StoredObject.id)).where(StoredObject.key.in_(keys))) == 0
        docs = s.scalars(
            select(Document).join(Document.process).where(Document.process.has(case_id=case.id))
        ).all()
        assert {d.status for d in docs} == {DocumentStatus.destroyed}
        assert all(d.extracted_text == "" and d.index_dirty for d in docs)
        destroyed = s.get(Case, case.id)
        assert destroyed.disposal_state == "destroyed" and destroyed.index_dirty

        # R11: one certificate with metadata and hashes, no content.
        certificate = s.scalar(select(DestructionCertificate))
        assert certificate.case_uuid == str(case.uuid)
        assert certificate.file_reference == case.file_reference
        assert (certificate.proposer, certificate.approver) == ("registratur", "registratur2")
        assert certificate.node_code == "32.10.05"
        assert json.loads(certificate.schedule)["name"] == "Gewerbe 10 Jahre"
        assert json.loads(certificate.dates)["closed"] == "2010-06-01"
        manifest = json.loads(certificate.manifest)
        listed = {f["sha256"] for d in manifest for f in d["files"]}
        assert listed == hashes and len(manifest) == 2
        pdf = certificate.pdf_key
        assert pdf.startswith(f"{world.tenant.slug}/certificates/")
        retention = records.store.get_retention(pdf, certificate.pdf_version_id)
        assert retention.mode == "COMPLIANCE"
        assert retention.retain_until == PERMANENT_RETAIN_UNTIL
        with records.store.open(pdf, certificate.pdf_version_id) as reader:
            body = reader.read()
        assert body.startswith(b"%PDF") and b"Gewerbe Vogel Dokument" not in body

        # The file reference stays reserved: the next case of that node and year gets a new one.
        again = cases.create_case(s, world.clerk, "32.10.05", "Danach", year=case.created_at.year)
        assert again.file_reference != case.file_reference
        # Nothing missing, nothing orphaned: the certificate PDF is registered like any object.
        report = run_verify(VerifyContext(s, records.store))
        assert report.clean, report.findings
        for version_uuid, key, version_id in stored:
            with pytest.raises(NotFound):
                documents.open_version(s, world.officer, records.store, str(version_uuid))
            with pytest.raises(ObjectNotFound):
                records.store.open(key, version_id)


class _CrashAt:
    def __init__(self, at: int):
        self.at = at

    def __call__(self, call, *args):
        if call == self.at:
            raise Crash(f"crash at call {call}")


@pytest.mark.parametrize("after", [False, True], ids=["before-delete", "after-delete"])
def test_crash_during_execution_then_resume(records, world, after):
    first = records.case("Absturz Eins", closed_on=date(2010, 1, 1), documents_=2)
    second = records.case("Absturz Zwei", closed_on=date(2010, 1, 1), documents_=2)
    keys = records.keys_of_case(first.id) + records.keys_of_case(second.id)
    request = records.approved(first.id, second.id)
    # The process dies at the third S3 delete: before it, or after it but before the database
    # recorded it.
    crashing = FaultyStore(records.store, "delete_all_versions", _CrashAt(3), after=after)
    with world.session() as s, pytest.raises(Crash):
        execute_request(s, world.officer, crashing, request.id)
    with world.session() as s:
        assert s.scalar(select(func.count(DestructionCertificate.id))) == 1
        report = execute_request(s, world.officer, records.store, request.id)
        assert report.completed
        assert execute_request(s, world.officer, records.store, request.id).destroyed == []
        certificates = s.scalars(select(DestructionCertificate)).all()
        assert sorted(c.case_id for c in certificates) == sorted([first.id, second.id])
        for certificate in certificates:
            assert len(json.loads(certificate.manifest)) == 2  # both documents, once each
            assert certificate.pdf_key
    for key in keys:
        assert records.versions_under(key) == []


@pytest.mark.parametrize("seen_by", ["database", "s3"])
def test_r12_hold_placed_while_destruction_runs_wins_for_what_is_left(records, world, seen_by):
    doomed = records.case("Läuft schon", closed_on=date(2010, 1, 1))
    caught = records.case("Wird gesperrt", closed_on=date(2010, 1, 1), documents_=3)
    caught_keys = records.keys_of_case(caught.id)
    request = records.approved(doomed.id, caught.id)
    # The court's order arrives while the job works on the second case. "database": it is
    # committed right after the case's first document went, and the job's next check sees it.
    # "s3": it lands between the job's check and its delete of the second document, and the S3
    # legal hold set after the commit makes the server refuse that delete.
    call_at, after = {"database": (2, True), "s3": (3, False)}[seen_by]

    def place_hold_now(call, key):
        if call == call_at:
            with world.session() as other:
                holds.place_hold(
                    other,
                    world.officer2,
                    "case",
                    caught.id,
                    reason="Beweissicherung",
                    authority="Staatsanwaltschaft",
                    store=records.store,
                )

    racing = FaultyStore(records.store, "delete_all_versions", place_hold_now, after=after)
    with world.session() as s:
        report = execute_request(s, world.officer, racing, request.id)
        assert report.destroyed == [doomed.file_reference]
        assert report.held == [caught.file_reference] and not report.completed
        item = s.scalar(select(DisposalItem).where(DisposalItem.case_id == caught.id))
        assert item.state == ItemState.held
        states = [
            d.status
            for d in s.scalars(
                select(Document)
                .join(Document.process)
                .where(Document.process.has(case_id=caught.id))
                .order_by(Document.id)
            )
        ]
        assert states[0] == DocumentStatus.destroyed
        assert DocumentStatus.destroyed not in states[1:]
        assert (
            s.scalar(
                select(DestructionCertificate).where(DestructionCertificate.case_id == caught.id)
            )
            is None
        )
    remaining = [k for k in caught_keys if records.versions_under(k)]
    assert len(remaining) == 2  # the hold kept what was not destroyed yet
    for key in remaining:
        for info in records.versions_under(key):
            assert records.store.get_legal_hold(key, info.version_id)

    with world.session() as s:
        (hold,) = holds.list_holds(s, world.officer)
        holds.release_hold(s, world.officer2, hold.id, reason="Freigegeben", store=records.store)
    # The hold also gave its versions a fresh floor: a released hold does not make them
    # deletable at once (issue 13), the next run after the floor does.
    wait_for_floor(records.store)
    with world.session() as s:
        report = execute_request(s, world.officer, records.store, request.id)
        assert report.destroyed == [caught.file_reference] and report.completed
        certificate = s.scalar(
            select(DestructionCertificate).where(DestructionCertificate.case_id == caught.id)
        )
        assert len(json.loads(certificate.manifest)) == 3
    assert all(records.versions_under(k) == [] for k in caught_keys)


def test_r10_bytes_shared_with_a_live_document_stay(records, world):
    doomed = records.case("Original", closed_on=date(2010, 1, 1))
    keeper = records.case("Behalten", closed_on=None, documents_=0)
    with world.session() as s:
        source = s.scalars(
            select(FileVersion)
            .join(Document)
            .join(Document.process)
            .where(Document.process.has(case_id=doomed.id))
        ).first()
        twin = Document(
            tenant_id=world.tenant.id,
            title="Duplikat",
            sha256=source.sha256,
            source="test",
            process_id=s.get(Case, keeper.id).processes[0].id,
        )
        s.add(twin)
        twin.versions.append(
            FileVersion(
                kind="original",
                stored_object_id=source.stored_object_id,
                s3_key=source.s3_key,
                s3_version_id=source.s3_version_id,
                sha256=source.sha256,
                size=source.size,
                mime=source.mime,
            )
        )
        s.commit()
        key = source.s3_key
    request = records.approved(doomed.id)
    with world.session() as s:
        execute_request(s, world.officer, records.store, request.id)
        manifest = json.loads(s.scalar(select(DestructionCertificate.manifest)))
        assert manifest[0]["kept_shared"] == [key]
    assert records.versions_under(key)  # still there for the live duplicate


def test_r10_a_document_taken_in_through_intake_is_destroyed_with_its_transfer_note(
    records, world, settings
):
    """Documents that came through the intake carry a transfer note (R16) pointing at their
    original's version: destroying them failed on that reference, so no real scan could be
    disposed of. The note (who sent which file from where) goes with the content."""
    from eakte.models.ingest import TransferNote
    from eakte.services.intake import IncomingFile, intake
    from tests.ingest.conftest import born_digital_pdf

    case = records.case("Gewerbe Intake", closed_on=None, documents_=0)
    with world.session() as s:
        result = intake(
            s,
            world.clerk,
            records.store,
            IncomingFile(born_digital_pdf(1, "Abmeldung Konditorei Weber"), "abmeldung-weber.pdf"),
            settings=settings,
        )
        assert result.accepted
        process = s.scalars(select(Case).where(Case.id == case.id)).one().processes[0]
        documents.file_document(s, world.officer, result.document.id, process.id)
        cases.close_case(s, world.officer, case.id, on=date(2010, 1, 1))
        assert s.scalar(select(func.count(TransferNote.id))) == 1
    request = records.approved(case.id)
    with world.session() as s:
        report = execute_request(
            s, world.officer, records.store, request.id, data_dir=settings.data_dir
        )
        assert report.destroyed == [case.file_reference] and report.completed
        assert s.get(Document, result.document.id).status == DocumentStatus.destroyed
        assert s.scalar(select(func.count(TransferNote.id))) == 0
        assert run_verify(VerifyContext(s, records.store)).clean
