"""R25: S3 Object Lock enforces what the application decides, in COMPLIANCE mode: retain-until =
retention end at closure, extended on reopening; the floor on everything else that lives,
extended nightly; nothing bypasses a lock, not even the approved disposal (issue 13)."""

import io
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from PIL import Image, ImageDraw
from sqlalchemy import select

from eakte.errors import BadInput, Conflict
from eakte.ingest.process import process_document
from eakte.models import AuditEvent, Case, Document, FileVersion, StoredObject
from eakte.services import cases, documents, listing
from eakte.services.intake import IncomingFile, Target, intake
from retention import floor, schedules
from retention.execution import execute_request
from retention.holds import place_hold
from retention.models import DisposalItem
from storage.errors import ObjectLocked
from tests.fixtures.app import csrf_token
from tests.fixtures.s3 import TEST_FLOOR, wait_for_floor

ROOT = Path(__file__).resolve().parents[2]


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _aware(value: datetime) -> datetime:
    """SQLite hands back the stored UTC time without its zone."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _retention(records, keys):
    return {
        (info.key, info.version_id): records.store.get_retention(info.key, info.version_id)
        for key in keys
        for info in records.versions_under(key)
    }


def test_r25_closure_sets_retain_until_on_every_version(records, world):
    case = records.case("Gewerbe Sommer", closed_on=date(2020, 6, 1), rendition=True)
    keys = records.keys_of_case(case.id)
    original = next(k for k in keys if "/test/" in k)
    records.store.put(original, io.BytesIO(b"a later version"), 15)  # every version counts
    assert case.retention_end == date(2031, 1, 1) and case.object_lock_pending
    report = records.sync_locks()
    assert report.cases == 1 and report.versions_locked == 3
    locked = _retention(records, keys)
    assert len(locked) == 3
    assert {(r.mode, r.retain_until) for r in locked.values()} == {
        ("COMPLIANCE", _midnight(date(2031, 1, 1)))
    }
    with world.session() as s:
        assert not s.get(Case, case.id).object_lock_pending
        # Recorded for the nightly floor extension, which then leaves them alone.
        recorded = s.scalars(select(StoredObject.retain_until).where(StoredObject.key.in_(keys)))
        assert {_aware(until) for until in recorded} == {_midnight(date(2031, 1, 1))}
    assert records.sync_locks().versions_locked == 0  # idempotent


def test_r25_reopening_extends_and_never_shortens(records, world):
    case = records.case("Gewerbe Winter", closed_on=date(2020, 6, 1))
    keys = records.keys_of_case(case.id)
    records.sync_locks()
    with world.session() as s:
        cases.reopen_case(s, world.officer, case.id, "Widerspruch")
    records.sync_locks()
    extended = date(date.today().year + 11, 1, 1)  # the earliest end a closure today gives
    assert {r.retain_until for r in _retention(records, keys).values()} == {_midnight(extended)}
    with world.session() as s:
        # A shorter schedule afterwards moves the retention end, but S3 keeps the longer lock.
        hund = schedules.find_schedule(s, world.officer, "Hund 6 Jahre")
        cases.close_case(s, world.officer, case.id, on=date(2020, 7, 1))
        cases.override_schedule(s, world.officer, case.id, hund.id, "kürzere Frist")
        assert s.get(Case, case.id).retention_end == date(2027, 1, 1)
    records.sync_locks()
    assert {r.retain_until for r in _retention(records, keys).values()} == {_midnight(extended)}


def test_r25_a_lock_wins_even_over_an_approved_disposal(records, world):
    """COMPLIANCE: no bypass, for nobody. A shortened schedule makes the case due, but its
    objects stay until the retain-until set at closure has run out."""
    # Closed seven years ago under a 10-year schedule: locked for another four years.
    closed = date(date.today().year - 7, 1, 1)
    locked = records.case("Gesperrt", closed_on=closed)
    records.sync_locks()
    (key,) = records.keys_of_case(locked.id)
    with pytest.raises(ObjectLocked):
        records.store.delete_all_versions(key)
    with world.session() as s:
        hund = schedules.find_schedule(s, world.officer, "Hund 6 Jahre")
        cases.override_schedule(s, world.officer, locked.id, hund.id, "Frist verkürzt")
    request = records.approved(locked.id, wait=False)
    with world.session() as s:
        report = execute_request(s, world.officer, records.store, request.id)
        assert not report.completed and report.held == [locked.file_reference]
        item = s.scalar(select(DisposalItem).where(DisposalItem.request_id == request.id))
        assert item.state == "held" and "S3 lock" in item.note and "COMPLIANCE" in item.note
    assert len(records.versions_under(key)) == 1


def test_r25_disposal_deletes_once_the_lock_has_run_out(records, world):
    """Every deletion happens because a lock ran out: past its end and past the floor of its
    versions, the approved disposal removes everything without any bypass."""
    case = records.case("Abgelaufen", closed_on=date(2010, 3, 10), rendition=True)
    records.sync_locks()  # the end (2021) is past: no retain-until beyond the floor
    keys = records.keys_of_case(case.id)
    request = records.approved(case.id, wait=False)
    with world.session() as s:
        early = execute_request(s, world.officer, records.store, request.id)
    assert not early.completed  # still within the floor of its versions
    assert all(records.versions_under(key) for key in keys)
    wait_for_floor(records.store)
    with world.session() as s:
        assert execute_request(s, world.officer, records.store, request.id).completed
    assert [records.versions_under(key) for key in keys] == [[], []]


def test_r25_no_code_path_asks_for_a_bypass():
    """Nothing sends x-amz-bypass-governance-retention or asks minio for it."""
    callers = [
        path.relative_to(ROOT).as_posix()
        for package in ("eakte", "retention", "web", "indexing", "storage")
        for path in (ROOT / package).rglob("*.py")
        if any(
            needle in path.read_text(encoding="utf-8")
            for needle in ("bypass_governance", "bypass-governance", "Retention(GOVERNANCE")
        )
    ]
    assert callers == []


def _versions_with_rows(world, keys):
    with world.session() as s:
        return s.execute(
            select(StoredObject.key, StoredObject.version_id, StoredObject.created_at).where(
                StoredObject.key.in_(keys)
            )
        ).all()


def test_r25_inbox_open_case_rendition_and_past_end_objects_are_stored_under_the_floor(
    records, world
):
    inbox = world.inbox_document("Eingang ungelesen")
    open_case = records.case("Offen", closed_on=None, rendition=True)
    past_end = records.case("Lange vorbei", closed_on=date(2010, 3, 10), rendition=True)
    with world.session() as s:
        inbox_keys = list(
            s.scalars(select(FileVersion.s3_key).where(FileVersion.document_id == inbox.id))
        )
    keys = inbox_keys + records.keys_of_case(open_case.id) + records.keys_of_case(past_end.id)
    rows = _versions_with_rows(world, keys)
    assert len(rows) == 5  # inbox original; original + rendition of each case
    for key, version_id, created in rows:
        info = records.store.stat(key, version_id)
        assert info.retention_mode == "COMPLIANCE", key
        assert info.retain_until >= _aware(created).replace(microsecond=0) + TEST_FLOOR, key


def _extended(records, world, keys) -> dict[str, bool]:
    """Which keys carry a lock of about a day (the longer floor of the nightly run)."""
    soon = datetime.now(UTC) + timedelta(hours=12)
    return {
        key: records.store.stat(key, version_id).retain_until > soon
        for key, version_id, _ in _versions_with_rows(world, keys)
    }


def test_r25_nightly_extension_keeps_live_records_locked_and_lets_the_rest_run_out(records, world):
    inbox = world.inbox_document("Eingang Nacht")
    open_case = records.case("Offen Nacht", closed_on=None)
    permanent = records.case("Bauakte Nacht", node="60.01", closed_on=date(2020, 1, 1))
    past_end = records.case("Vorbei Nacht", closed_on=date(2010, 3, 10))
    held_past_end = records.case("Vorbei gesperrt", closed_on=date(2010, 3, 10))
    records.sync_locks()  # the permanent case gets no far date: it keeps the floor instead
    with world.session() as s:
        place_hold(
            s, world.officer, "case", held_past_end.id, reason="Klage", authority="VG Frankfurt"
        )
        inbox_key = s.scalar(select(FileVersion.s3_key).where(FileVersion.document_id == inbox.id))
    live = [inbox_key, *records.keys_of_case(open_case.id), *records.keys_of_case(permanent.id)]
    held = records.keys_of_case(held_past_end.id)
    gone = records.keys_of_case(past_end.id)
    # The nightly run with a floor of a day: everything at the tests' floor of seconds is near.
    nightly = world.rt.store.__class__(
        world.rt.settings.s3.endpoint,
        world.rt.settings.s3.access_key,
        world.rt.settings.s3.secret_key,
        world.rt.settings.s3.bucket,
        min_retention=timedelta(days=1),
    )
    with world.session() as s:
        report = floor.extend_floors(s, nightly, batch=2)  # batches of two: several rounds
    assert not report.failed and report.extended == 4
    assert _extended(records, world, live + held + gone) == {
        **dict.fromkeys(live + held, True),
        **dict.fromkeys(gone, False),
    }
    with world.session() as s:
        assert floor.extend_floors(s, nightly).extended == 0  # nothing near any more
        recorded = s.scalars(select(StoredObject.retain_until).where(StoredObject.key.in_(live)))
        assert all(_aware(until) > datetime.now(UTC) + timedelta(hours=12) for until in recorded)


def _scan(text: str) -> bytes:
    """A small scanned page (PNG): the worker OCRs it and stores a PDF/A rendition."""
    image = Image.new("L", (800, 300), 255)
    ImageDraw.Draw(image).text((40, 120), text, fill=0, font_size=40)
    out = io.BytesIO()
    image.save(out, format="PNG", dpi=(200, 200))
    return out.getvalue()


def test_r12_versions_stored_after_the_hold_get_the_s3_legal_hold(records, world):
    """Finding 2's rendition: what the worker stores beneath a hold after it was placed is held
    in S3 from the start, not only after the next sync."""
    case = records.case("Gesperrt offen", closed_on=None, documents_=0)
    with world.session() as s:
        process = cases.add_process(s, world.officer, case.id, "Vorgang 2")
        result = intake(
            s,
            world.clerk,
            records.store,
            IncomingFile(
                _scan("Schriftsatz der Gegenseite"),
                "schriftsatz.png",
                target=Target(process=process.id),
            ),
            settings=world.rt.settings,
        )
        document_id = result.document.id
        place_hold(
            s, world.officer, "case", case.id, reason="Klage", authority="VG", store=records.store
        )
    with world.session() as s:
        process_document(s, records.store, document_id)
        document = s.get(Document, document_id)
        versions = [(v.kind, v.s3_key, v.s3_version_id) for v in document.versions]
    assert sorted(kind for kind, _, _ in versions) == ["original", "rendition"]
    for _, key, version_id in versions:
        info = records.store.stat(key, version_id)
        assert info.legal_hold and info.retention_mode == "COMPLIANCE", key


def test_r25_a_document_discarded_from_the_inbox_is_marked_audited_and_runs_out(
    records, world, sign_in
):
    """A wrong upload set aside by mistake: marked, audited with the reason, out of the inbox;
    its objects cannot be deleted before the floor, are not extended, and run out after it."""
    stray = world.inbox_document("Falsch eingescannt")
    with world.session() as s:
        (key,) = s.scalars(select(FileVersion.s3_key).where(FileVersion.document_id == stray.id))
    clerk = sign_in("sachb")
    page = clerk.get(f"/dokumente/{stray.uuid}").get_data(as_text=True)
    assert "Aus dem Posteingang verwerfen" in page
    answer = clerk.post(
        f"/dokumente/{stray.uuid}/verwerfen",
        data={"discard-csrf_token": csrf_token(page), "discard-reason": "Fremdes Schreiben"},
    )
    assert answer.status_code == 302
    with world.session() as s:
        assert s.get(Document, stray.id).status == "discarded"
        entry = s.scalar(select(AuditEvent).where(AuditEvent.action == "discard"))
        assert entry.object_uuid == str(stray.uuid) and "Fremdes Schreiben" in entry.details
        assert listing.inbox(s, world.clerk).total == 0
        nightly = world.rt.store.__class__(
            world.rt.settings.s3.endpoint,
            world.rt.settings.s3.access_key,
            world.rt.settings.s3.secret_key,
            world.rt.settings.s3.bucket,
            min_retention=timedelta(days=1),
        )
        assert floor.extend_floors(s, nightly).extended == 0  # not kept alive
    with pytest.raises(ObjectLocked):
        records.store.delete_all_versions(key)
    wait_for_floor(records.store)
    assert records.store.delete_all_versions(key) == 1  # run out: whoever cleans up may


def test_only_an_inbox_document_can_be_discarded(records, world):
    case = records.case("Abgelegt", closed_on=None)
    with world.session() as s:
        (document_id,) = s.scalars(
            select(Document.id).join(Document.process).where(Document.process.has(case_id=case.id))
        )
        with pytest.raises(Conflict):
            documents.discard_document(s, world.clerk, document_id, "versehentlich")
        with pytest.raises(BadInput):
            documents.discard_document(s, world.clerk, document_id, " ")
