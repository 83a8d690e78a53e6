"""R25: S3 Object Lock enforces what the application decides — retain-until = retention end
at closure (GOVERNANCE), extended on reopening, bypassed only by the approved-disposal job."""

import io
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from eakte.models import Case
from eakte.retention_rules import PERMANENT_RETAIN_UNTIL
from eakte.services import cases
from retention import locks, schedules
from retention.execution import execute_request
from storage.errors import ObjectLocked, StorageUnavailable
from tests.retention.conftest import FaultyStore

ROOT = Path(__file__).resolve().parents[2]


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


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
        ("GOVERNANCE", _midnight(date(2031, 1, 1)))
    }
    with world.session() as s:
        assert not s.get(Case, case.id).object_lock_pending
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


def test_r25_permanent_cases_get_a_far_retain_until(records):
    case = records.case("Baugenehmigung Rathaus", node="60.01", closed_on=date(2020, 1, 1))
    records.sync_locks()
    retention = _retention(records, records.keys_of_case(case.id))
    assert {r.retain_until for r in retention.values()} == {PERMANENT_RETAIN_UNTIL}


def test_r25_only_the_approved_disposal_bypasses_governance(records, world):
    # Closed seven years ago under a 10-year schedule: locked for another four years.
    closed = date(date.today().year - 7, 1, 1)
    locked = records.case("Gesperrt", closed_on=closed)
    records.sync_locks()
    (key,) = records.keys_of_case(locked.id)
    with pytest.raises(ObjectLocked):
        records.store.delete_all_versions(key)
    assert records.versions_under(key)
    # A records officer shortens the schedule to six years: the case is due now, while S3 keeps
    # the longer retain-until. Only the approved disposal may remove it before that date.
    with world.session() as s:
        hund = schedules.find_schedule(s, world.officer, "Hund 6 Jahre")
        cases.override_schedule(s, world.officer, locked.id, hund.id, "Frist verkürzt")
    request = records.approved(locked.id)
    with world.session() as s:
        assert execute_request(s, world.officer, records.store, request.id).completed
    assert records.versions_under(key) == []


def test_r25_no_other_code_path_bypasses_governance():
    """The bypass header is sent from storage/ only when asked, and only the destruction of an
    approved disposal asks for it."""
    callers = [
        path.relative_to(ROOT).as_posix()
        for package in ("eakte", "retention", "web", "indexing")
        for path in (ROOT / package).rglob("*.py")
        if "bypass_governance=True" in path.read_text(encoding="utf-8")
    ]
    assert callers == ["retention/destruction.py"]


def test_r25_lock_sync_retries_after_a_storage_failure(records, world):
    case = records.case("Gewerbe Herbst", closed_on=date(2020, 6, 1))

    def unavailable(call, *args):
        raise StorageUnavailable("object store down")

    broken = FaultyStore(records.store, "set_retention", unavailable)
    with world.session() as s:
        report = locks.sync_object_locks(s, broken)
        assert report.failed and report.cases == 0
        assert s.get(Case, case.id).object_lock_pending  # still to do
    assert records.sync_locks().cases == 1
    assert all(r is not None for r in _retention(records, records.keys_of_case(case.id)).values())
