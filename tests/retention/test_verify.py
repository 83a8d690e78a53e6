"""`eakte verify` reports every object version whose S3 lock falls short of what it should have
(issue 13): the floor of a live record, a closed case's retain-until (R25), the S3 legal hold
beneath a hold (R12)."""

import threading
from datetime import date

import pytest
from sqlalchemy import select, update

from eakte.models import Case, FileVersion, StoredObject
from eakte.verify import VerifyContext, check_objects, run_verify
from retention import holds
from retention.verify import check_retention_locks
from storage.errors import StorageUnavailable
from tests.fixtures.s3 import wait_for_floor
from tests.retention.conftest import FaultyStore


def _findings(world, store, checks=(check_retention_locks,)):
    with world.session() as s:
        return run_verify(VerifyContext(s, store), checks)


def test_r25_verify_reports_every_version_without_the_lock_it_should_have(records, world):
    held = records.case("Gewerbe Prüfung", closed_on=date(2020, 6, 1))
    unsynced = records.case("Gewerbe ohne Sperre", closed_on=date(2020, 6, 1))
    inbox = world.inbox_document("Eingang Prüfung")
    report = _findings(world, records.store)
    assert report.clean and report.checked["retention locks pending"] == 2
    records.sync_locks(case_ids=[held.id])
    with world.session() as s, s.begin():
        # A lock the application decided but never applied (the pending mark lost).
        s.execute(update(Case).where(Case.id == unsynced.id).values(object_lock_pending=False))
    with world.session() as s:
        inbox_key = s.scalar(select(FileVersion.s3_key).where(FileVersion.document_id == inbox.id))
        s.rollback()
        holds.place_hold(
            s,
            world.officer,
            "case",
            held.id,
            reason="Prüfung",
            authority="RPA",
            store=records.store,
        )
    report = _findings(world, records.store)
    assert report.checked["retention lock versions"] == 3
    (held_key,) = records.keys_of_case(held.id)
    (held_version,) = records.versions_under(held_key)
    records.store.set_legal_hold(held_key, held_version.version_id, False)  # behind eAkte's back
    wait_for_floor(records.store)  # and the nightly floor extension did not run

    findings = _findings(world, records.store).findings
    problems = {f.subject.split("@")[0].split(": ")[-1]: f.problem for f in findings}
    assert len(findings) == 3
    assert problems[inbox_key].startswith("no retention lock")
    (unsynced_key,) = records.keys_of_case(unsynced.id)
    assert "needs 2031-01-01 (R25)" in problems[unsynced_key]
    assert problems[held_key] == "no S3 legal hold beneath an active hold (R12)"

    # Within the whole of `eakte verify` the lock states come from the fixity check's reads:
    # the same findings, without a request of their own.
    heads = FaultyStore(records.store, "stat", lambda *_: None)
    full = _findings(world, heads, (check_objects, check_retention_locks)).findings
    assert [f for f in full if f.check == "retention"] == findings and heads.calls == 0


class _Overlapping:
    """The real store; the first read waits (up to 10 s) until a second one has started."""

    def __init__(self, store):
        self._store = store
        self._second = threading.Event()
        self._lock = threading.Lock()
        self.reads = 0
        self.overlapped = False

    def __getattr__(self, name):
        return getattr(self._store, name)

    def verify_version(self, *args):
        with self._lock:
            self.reads += 1
            first = self.reads == 1
        if first:
            self.overlapped = self._second.wait(10)
        else:
            self._second.set()
        return self._store.verify_version(*args)


def test_r18_verify_reads_objects_in_parallel_and_reports_in_order(world):
    docs = [world.inbox_document(f"Antrag {n}") for n in range(40)]
    with world.session() as s, s.begin():
        ids = [d.stored_object_id for d in _originals(s, docs)]
        # bytes that no longer match (the database's sha256 changed) and a version gone
        s.execute(update(StoredObject).where(StoredObject.id == ids[5]).values(sha256="0" * 64))
        gone = s.get(StoredObject, ids[33])
        gone.key = gone.key + "-gone"
        subjects = {
            n: f"{s.get(StoredObject, ids[n]).key}@{s.get(StoredObject, ids[n]).version_id}"
            for n in (5, 33)
        }

    store = _Overlapping(world.rt.store)
    report = _findings(world, store, (check_objects,))
    assert store.overlapped and store.reads == report.checked["objects"] == 40
    assert [(f.subject, f.problem.split(":")[0]) for f in report.findings] == [
        (subjects[5], "sha256 mismatch"),
        (subjects[33], "missing in object storage"),
    ]

    # A store that cannot be reached is not a finding: verify fails.
    def unreachable(call, *args):
        if call == 20:
            raise StorageUnavailable("S3 down")

    with pytest.raises(StorageUnavailable):
        _findings(
            world, FaultyStore(world.rt.store, "verify_version", unreachable), (check_objects,)
        )


def _originals(s, docs):
    return [
        s.scalar(
            select(FileVersion).where(
                FileVersion.document_id == d.id, FileVersion.kind == "original"
            )
        )
        for d in docs
    ]
