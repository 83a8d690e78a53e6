"""R7, R25 (issue 13, finding 4): what moves a retention end belongs to records officers
(``manage_schedules``): the event date and a closure date other than today. Audited old → new;
a changed end re-marks the object locks."""

import json
from datetime import date

import pytest
from sqlalchemy import select

from eakte.errors import BadInput, PermissionDenied
from eakte.models import AuditEvent, Case, Document, Process
from eakte.services import cases, documents, fileplan
from retention import schedules


@pytest.fixture
def event_case(records, world):
    """An open case under a node whose schedule runs 5 years from an event."""
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
        fileplan.import_csv(
            s,
            world.officer,
            b"code;title;parent;schedule;org_unit\n"
            b"32.40;Erlaubnisse;32;Erlaubnis 5 Jahre nach Ablauf;32\n",
        )
    return records.case("Erlaubnis Weber", node="32.40", closed_on=None)


def test_clerk_cannot_set_the_event_date(world, event_case):
    with world.session() as s:
        with pytest.raises(BadInput):
            cases.update_case(s, world.clerk, event_case.id, event_date=date(1990, 1, 1))
        with pytest.raises(PermissionDenied):
            schedules.set_event_date(s, world.clerk, event_case.id, date(1990, 1, 1))
        cases.close_case(s, world.clerk, event_case.id)
        closed = s.get(Case, event_case.id)
        assert closed.event_date is None and closed.retention_end is None  # not due


def test_clerk_cannot_back_date_a_closure(records, world):
    case = records.case("Gewerbe Alt", closed_on=None)
    with world.session() as s:
        with pytest.raises(PermissionDenied):
            cases.close_case(s, world.clerk, case.id, on=date(1990, 1, 1))
        assert not s.get(Case, case.id).is_closed
        closed = cases.close_case(s, world.officer, case.id, on=date(1990, 1, 1))
        assert closed.retention_end == date(2001, 1, 1)


def test_records_officer_sets_the_event_date_audited_and_locks_re_marked(world, event_case):
    with world.session() as s:
        cases.close_case(s, world.clerk, event_case.id)
        s.get(Case, event_case.id).object_lock_pending = False
        s.commit()
        changed = schedules.set_event_date(s, world.officer, event_case.id, date(2030, 6, 30))
        assert changed.retention_end == date(2036, 1, 1)
        assert changed.object_lock_pending
        schedules.set_event_date(s, world.officer, event_case.id, date(2031, 2, 1))
        entries = [
            json.loads(e.details)
            for e in s.scalars(
                select(AuditEvent)
                .where(
                    AuditEvent.object_uuid == str(event_case.uuid), AuditEvent.action == "change"
                )
                .order_by(AuditEvent.id)
            )
        ]
    assert entries == [
        {"changes": {"event_date": [None, "2030-06-30"]}},
        {"changes": {"event_date": ["2030-06-30", "2031-02-01"]}},
    ]


def test_clerk_cannot_refile_into_a_case_with_a_shorter_schedule(records, world):
    """A document moved into a case under another schedule takes that case's retention end."""
    trade = records.case("Gewerbe Lang", closed_on=None)  # 10 years
    dog = records.case("Hund Kurz", node="32.20", closed_on=None)  # 6 years
    with world.session() as s:
        document_id = s.scalar(select(Document.id).join(Process).where(Process.case_id == trade.id))
        target = s.get(Case, dog.id).processes[0].id
        with pytest.raises(PermissionDenied):
            documents.refile_document(s, world.clerk, document_id, target, "falsch abgelegt")
        documents.refile_document(s, world.officer, document_id, target, "falsch abgelegt")
        assert s.get(Document, document_id).process_id == target
