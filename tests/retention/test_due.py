"""R8 (the disposal list: expiry does not delete) and R14 (the past-due report)."""

import csv
import io
import json
from datetime import date

import pytest
from sqlalchemy import select

from eakte.errors import NotFound, PermissionDenied
from eakte.models import AuditEvent
from retention import disposal, holds
from retention.due import DueFilter, export_csv, list_due, past_due
from retention.execution import execute_request


@pytest.fixture
def due_world(records):
    made = {
        "gewerbe_2010": records.case("Gewerbe 2010", closed_on=date(2010, 3, 1)),
        "gewerbe_2011": records.case("Gewerbe 2011", closed_on=date(2011, 12, 31)),
        "hund_2012": records.case("Hund 2012", node="32.20", closed_on=date(2012, 6, 1)),
        "bau_dauernd": records.case("Bau dauernd", node="60.01", closed_on=date(2000, 1, 1)),
        "offen": records.case("Noch offen", closed_on=None),
        "jung": records.case("Jung", closed_on=date.today()),
    }
    return made


def _refs(page):
    return [row.file_reference for row in page.rows]


def test_r8_expiry_does_not_delete_and_the_list_filters(records, world, due_world):
    due = due_world
    with world.session() as s:
        everything = list_due(s, world.officer)
        assert everything.total == 3
        assert _refs(everything) == [
            due["hund_2012"].file_reference,  # earliest retention end first: 2019
            due["gewerbe_2010"].file_reference,  # 2021
            due["gewerbe_2011"].file_reference,  # 2022
        ]
        assert list_due(s, world.officer, limit=1, offset=1).rows[0].file_reference == (
            due["gewerbe_2010"].file_reference
        )
        assert list_due(s, world.officer, DueFilter(node="32")).total == 3  # with the nodes beneath
        assert _refs(list_due(s, world.officer, DueFilter(node="32.20"))) == [
            due["hund_2012"].file_reference
        ]
        assert _refs(list_due(s, world.officer, DueFilter(org_unit="32.2"))) == [
            due["hund_2012"].file_reference
        ]
        assert list_due(s, world.officer, DueFilter(org_unit="32")).total == 3  # units beneath
        assert _refs(list_due(s, world.officer, DueFilter(closure_year=2011))) == [
            due["gewerbe_2011"].file_reference
        ]
        assert list_due(s, world.officer, DueFilter(node="32.10", closure_year=2012)).total == 0
        assert list_due(s, world.officer, DueFilter(on=date(2020, 12, 31))).total == 1
        with pytest.raises(NotFound):
            list_due(s, world.officer, DueFilter(node="77"))
        with pytest.raises(PermissionDenied):
            list_due(s, world.clerk)
    # Listed, not deleted: the content is all still there.
    for key in records.keys_of_case(due["gewerbe_2010"].id):
        assert records.versions_under(key)


def test_r8_disposal_list_exported_as_csv_and_logged(world, due_world):
    with world.session() as s:
        holds.place_hold(
            s, world.officer, "case", due_world["hund_2012"].id, reason="Klage", authority="VG"
        )
        request = disposal.propose(s, world.officer, [due_world["gewerbe_2010"].id])
        out = io.StringIO()
        assert export_csv(s, world.officer, out, DueFilter(node="32")) == 3
        rows = list(csv.DictReader(io.StringIO(out.getvalue()), delimiter=";"))
        by_ref = {row["file_reference"]: row for row in rows}
        held = by_ref[due_world["hund_2012"].file_reference]
        assert held["held"] == "yes" and held["retention_end"] == "2019-01-01"
        assert held["org_unit"] == "32.2" and held["schedule"] == "Hund 6 Jahre"
        proposed = by_ref[due_world["gewerbe_2010"].file_reference]
        assert proposed["request"] == str(request.uuid) and proposed["held"] == "no"
        entry = s.scalar(select(AuditEvent).where(AuditEvent.action == "export"))
        assert json.loads(entry.details)["rows"] == 3 and entry.username == "registratur"


def test_r14_past_due_report_lists_what_was_neither_disposed_of_nor_held(records, world, due_world):
    due = due_world
    with world.session() as s:
        holds.place_hold(s, world.officer, "node", "32.20", reason="Prüfung", authority="RPA")
    request = records.approved(due["gewerbe_2010"].id)
    with world.session() as s:
        execute_request(s, world.officer, records.store, request.id)
        report = past_due(s, world.officer, on=date(2026, 6, 1))
        assert [(r.row.file_reference, r.days_overdue) for r in report] == [
            (due["gewerbe_2011"].file_reference, (date(2026, 6, 1) - date(2022, 1, 1)).days)
        ]
        assert past_due(s, world.officer, on=date(2026, 6, 1), grace_days=5 * 365) == []
        with pytest.raises(PermissionDenied):
            past_due(s, world.clerk)
