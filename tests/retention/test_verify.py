"""`eakte verify` reports object versions whose S3 lock falls short of what retention decided."""

from datetime import UTC, date, datetime, timedelta

from eakte.verify import VerifyContext, check_retention_locks, run_verify
from retention import holds


def _findings(world, store):
    with world.session() as s:
        return run_verify(VerifyContext(s, store), [check_retention_locks])


def test_r25_verify_reports_a_missing_retain_until_and_s3_legal_hold(records, world):
    case = records.case("Gewerbe Prüfung", closed_on=date(2020, 6, 1))
    (key,) = records.keys_of_case(case.id)
    (version,) = records.versions_under(key)
    report = _findings(world, records.store)
    assert report.clean and report.checked["retention locks pending"] == 1
    records.sync_locks()
    report = _findings(world, records.store)
    assert report.clean and report.checked["retention lock versions"] == 1

    # Someone with the bypass right shortens the lock behind the application's back.
    soon = datetime.now(UTC) + timedelta(days=1)
    records.store.set_retention(key, version.version_id, soon, bypass_governance=True)
    with world.session() as s:
        holds.place_hold(
            s,
            world.officer,
            "case",
            case.id,
            reason="Prüfung",
            authority="RPA",
            store=records.store,
        )
    records.store.set_legal_hold(key, version.version_id, False)
    problems = [f.problem for f in _findings(world, records.store).findings]
    assert any("retain-until" in p and "2031-01-01" in p for p in problems)
    assert any("no S3 legal hold" in p for p in problems)
