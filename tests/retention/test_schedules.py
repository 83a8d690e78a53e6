"""R3, R6, R7 with the database: schedules, inheritance, overrides, the clock on real cases."""

import json
from datetime import date

import pytest
from sqlalchemy import select

from eakte import audit
from eakte.errors import BadInput, Conflict, NoRetentionSchedule, PermissionDenied
from eakte.models import AuditEvent, Case, RetentionSchedule
from eakte.services import cases, fileplan
from retention import schedules
from retention.due import DueFilter, list_due


def test_r6_schedule_has_name_basis_period_trigger_and_action(world):
    with world.session() as s:
        created = schedules.create_schedule(
            s,
            world.officer,
            "Gaststättenerlaubnis",
            period_years=5,
            action="B",
            legal_basis="GastG § 2",
            trigger="event",
            trigger_event="Ablauf der Erlaubnis",
        )
        loaded = s.get(RetentionSchedule, created.id)
        assert (loaded.name, loaded.legal_basis, loaded.period_years) == (
            "Gaststättenerlaubnis",
            "GastG § 2",
            5,
        )
        assert (loaded.trigger, loaded.trigger_event, loaded.action) == (
            "event",
            "Ablauf der Erlaubnis",
            "B",
        )
        permanent = schedules.create_schedule(
            s, world.officer, "Chronik", period_years=None, action="A"
        )
        assert permanent.permanent
        with pytest.raises(BadInput, match="A, V or B"):
            schedules.create_schedule(s, world.officer, "X", period_years=1, action="Z")
        with pytest.raises(BadInput, match="event"):
            schedules.create_schedule(
                s, world.officer, "Y", period_years=1, action="V", trigger="event"
            )
        with pytest.raises(PermissionDenied):
            schedules.create_schedule(s, world.clerk, "Z", period_years=1, action="V")


def test_r6_changing_a_period_moves_closed_cases_and_is_logged(records, world):
    case = records.case("Gewerbe Meyer", closed_on=date(2015, 3, 10))
    assert case.retention_end == date(2026, 1, 1)
    with world.session() as s:
        schedules.update_schedule(s, world.officer, "Gewerbe 10 Jahre", period_years=30)
        moved = s.get(Case, case.id)
        assert moved.retention_end == date(2046, 1, 1)
        assert moved.object_lock_pending  # the S3 lock follows (extended, never shortened)
        entry = s.scalar(
            select(AuditEvent).where(AuditEvent.action == "change").order_by(AuditEvent.id.desc())
        )
        assert json.loads(entry.details)["changes"]["period_years"] == [10, 30]
        with pytest.raises(Conflict, match="used by"):
            schedules.delete_schedule(s, world.officer, "Gewerbe 10 Jahre")
        spare = schedules.create_schedule(s, world.officer, "Unbenutzt", period_years=1, action="V")
        schedules.delete_schedule(s, world.officer, spare.id)
        assert s.get(RetentionSchedule, spare.id) is None


def test_r3_schedule_inherited_downward_and_assigned_by_records_officers(world):
    with world.session() as s:
        fileplan.create_node(s, world.officer, "99.01", "Sonstiges", parent_code="99")
        with pytest.raises(NoRetentionSchedule):
            cases.create_case(s, world.officer, "99.01", "Ohne Frist")
        with pytest.raises(PermissionDenied):
            schedules.assign_schedule(s, world.clerk, "99", "Hund 6 Jahre")
        schedules.assign_schedule(s, world.officer, "99", "Hund 6 Jahre")
        inherited = cases.create_case(s, world.officer, "99.01", "Erbt vom Elternknoten")
        hund = schedules.find_schedule(s, world.officer, "Hund 6 Jahre")
        assert inherited.schedule_id == hund.id
        # The node gets another schedule: existing cases keep theirs, new ones take the new one.
        schedules.assign_schedule(s, world.officer, "99.01", "Gewerbe 10 Jahre")
        assert s.get(Case, inherited.id).schedule_id == hund.id
        later = cases.create_case(s, world.officer, "99.01", "Danach")
        assert later.schedule_id != hund.id


def test_r3_override_with_logged_reason_moves_the_retention_end(records, world):
    case = records.case("Gewerbe Schulz", closed_on=date(2015, 3, 10))
    with world.session() as s:
        hund = schedules.find_schedule(s, world.officer, "Hund 6 Jahre")
        with pytest.raises(PermissionDenied):
            cases.override_schedule(s, world.clerk, case.id, hund.id, "kürzer")
        cases.override_schedule(s, world.officer, case.id, hund.id, "Einzelfallentscheidung")
        assert s.get(Case, case.id).retention_end == date(2022, 1, 1)
        events = [e for e in audit.history(s, str(case.uuid)) if e.action == "override_schedule"]
        assert json.loads(events[-1].details)["reason"] == "Einzelfallentscheidung"


def test_r7_closure_records_the_end_and_reopening_restarts_the_clock(records, world):
    case = records.case("Gewerbe Wagner", closed_on=date(2010, 3, 10))
    assert case.retention_end == date(2021, 1, 1)
    with world.session() as s:
        assert [r.file_reference for r in list_due(s, world.officer).rows] == [case.file_reference]
        cases.reopen_case(s, world.officer, case.id, "Nachtrag eingegangen")
        reopened = s.get(Case, case.id)
        assert reopened.retention_end is None
        assert list_due(s, world.officer).total == 0  # an open case is never due
        cases.close_case(s, world.officer, case.id, on=date(2024, 5, 2))
        assert s.get(Case, case.id).retention_end == date(2035, 1, 1)
        assert list_due(s, world.officer, DueFilter(on=date(2034, 12, 31))).total == 0
        assert list_due(s, world.officer, DueFilter(on=date(2035, 1, 1))).total == 1


def test_r7_event_trigger_takes_the_date_entered_on_the_case(world):
    with world.session() as s:
        schedules.create_schedule(
            s,
            world.officer,
            "Erlaubnis 5 Jahre nach Ablauf",
            period_years=5,
            action="V",
            trigger="event",
            trigger_event="Ablauf der Erlaubnis",
        )
        fileplan.create_node(s, world.officer, "32.30", "Erlaubnisse", parent_code="32")
        schedules.assign_schedule(s, world.officer, "32.30", "Erlaubnis 5 Jahre nach Ablauf")
        case = cases.create_case(s, world.clerk, "32.30", "Erlaubnis Imbiss")
        cases.close_case(s, world.officer, case.id, on=date(2014, 8, 1))
        assert s.get(Case, case.id).retention_end is None  # the event's date is not known yet
        with pytest.raises(PermissionDenied):
            schedules.set_event_date(s, world.clerk, case.id, date(2016, 6, 30))
        schedules.set_event_date(s, world.officer, case.id, date(2016, 6, 30))
        assert s.get(Case, case.id).retention_end == date(2022, 1, 1)


def test_r7_nightly_refresh_repairs_stale_ends(records, world):
    case = records.case("Gewerbe Becker", closed_on=date(2015, 3, 10))
    with world.session() as s:
        with s.begin():
            s.get(Case, case.id).retention_end = date(2099, 1, 1)  # drifted somehow
        report = schedules.refresh_retention(s, batch=1)
        assert report.changed == 1 and report.checked >= 1
        assert s.get(Case, case.id).retention_end == date(2026, 1, 1)
