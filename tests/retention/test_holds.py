"""R12: legal holds block content changes, destruction and transfer beneath them — for every
role; several may apply at once; each release is logged; S3 legal holds follow."""

import json
from datetime import date

import pytest
from sqlalchemy import select

from eakte import audit
from eakte.errors import BadInput, LegalHoldActive, PermissionDenied
from eakte.models import AuditEvent, Case, Document, Role
from eakte.services import cases, documents
from retention import disposal, holds
from retention.execution import execute_request


def _hold(world, target_type, target, store=None, actor=None):
    with world.session() as s:
        return holds.place_hold(
            s,
            actor or world.officer,
            target_type,
            target,
            reason="Klage des Antragstellers",
            authority="Verwaltungsgericht Frankfurt, Az. 5 K 123/25",
            store=store,
        )


def test_r12_hold_blocks_content_changes_for_every_role(records, world):
    case = records.case("Gewerbe Klein", closed_on=None, documents_=1)
    loose = world.inbox_document("Nachreichung")
    everything = records.user("allmacht", {Role.admin, Role.records_officer, Role.clerk})
    _hold(world, "case", case.file_reference)
    with world.session() as s:
        process = s.get(Case, case.id).processes[0]
        document_id = s.scalar(select(Document.id).where(Document.process_id == process.id))
        for actor in (world.clerk, world.officer, everything):
            with pytest.raises(LegalHoldActive):
                cases.update_case(s, actor, case.id, title="Geändert")
            with pytest.raises(LegalHoldActive):
                cases.add_process(s, actor, case.id, "Neuer Vorgang")
            with pytest.raises(LegalHoldActive):
                documents.update_document(s, actor, document_id, title="Geändert")
            with pytest.raises(LegalHoldActive):
                documents.file_document(s, actor, loose.id, process.id)
        assert s.get(Case, case.id).title == "Gewerbe Klein"
        # Closing and reopening are not content changes; the hold stays in force either way.
        cases.close_case(s, world.clerk, case.id)
        cases.reopen_case(s, world.officer, case.id, "Akteneinsicht des Gerichts")
        with pytest.raises(LegalHoldActive):
            cases.update_case(s, everything, case.id, title="Geändert")


def test_r12_hold_on_a_process_or_node_covers_what_is_beneath(records, world):
    case = records.case("Gewerbe Lang", closed_on=None)
    other = records.case("Hund Bello", node="32.20", closed_on=None)
    with world.session() as s:
        second = cases.add_process(s, world.clerk, case.id, "Zweiter Vorgang")
        first = s.get(Case, case.id).processes[0]
    _hold(world, "process", first.id)
    with world.session() as s:
        with pytest.raises(LegalHoldActive):
            documents.file_document(s, world.clerk, world.inbox_document("A").id, first.id)
        documents.file_document(s, world.clerk, world.inbox_document("B").id, second.id)
        cases.update_case(s, world.clerk, other.id, title="Hund Bello II")
    _hold(world, "node", "32")  # everything beneath 32, e.g. 32.20
    with world.session() as s, pytest.raises(LegalHoldActive):
        cases.update_case(s, world.clerk, other.id, title="Hund Bello III")


def test_r12_overlapping_holds_and_logged_release(records, world):
    case = records.case("Gewerbe Roth", closed_on=None)
    keys = records.keys_of_case(case.id)
    by_case = _hold(world, "case", case.file_reference, store=records.store)
    by_node = _hold(world, "node", "32.10", store=records.store)
    store = records.store

    def s3_held():
        return {
            store.get_legal_hold(info.key, info.version_id)
            for key in keys
            for info in records.versions_under(key)
        }

    assert s3_held() == {True}
    with world.session() as s:
        assert {h.uuid for h in holds.list_holds(s, world.officer)} == {by_case.uuid, by_node.uuid}
        with pytest.raises(BadInput):
            holds.release_hold(s, world.officer, by_case.id, reason=" ")
        with pytest.raises(PermissionDenied):
            holds.release_hold(s, world.clerk, by_case.id, reason="erledigt")
        holds.release_hold(s, world.officer, by_case.id, reason="Verfahren erledigt", store=store)
        with pytest.raises(LegalHoldActive):  # the node's hold still stands
            cases.update_case(s, world.clerk, case.id, title="Noch gesperrt")
    assert s3_held() == {True}
    with world.session() as s:
        holds.release_hold(s, world.officer, by_node.id, reason="Prüfung beendet", store=store)
        cases.update_case(s, world.clerk, case.id, title="Wieder frei")
        releases = s.scalars(
            select(AuditEvent).where(AuditEvent.action == "hold_release").order_by(AuditEvent.id)
        ).all()
        assert [json.loads(e.details)["reason"] for e in releases] == [
            "Verfahren erledigt",
            "Prüfung beendet",
        ]
        assert {e.username for e in releases} == {world.officer.username}
        placed = [e for e in audit.history(s, str(case.uuid)) if e.action == "hold"]
        assert "Verwaltungsgericht" in json.loads(placed[0].details)["authority"]
    assert s3_held() == {False}


def test_r12_only_records_officers_place_holds_and_a_reason_is_required(records, world):
    case = records.case("Gewerbe Frank", closed_on=None)
    with pytest.raises(PermissionDenied):
        _hold(world, "case", case.id, actor=world.clerk)
    with pytest.raises(PermissionDenied):
        _hold(world, "case", case.id, actor=world.admin)
    with world.session() as s, pytest.raises(BadInput):
        holds.place_hold(s, world.officer, "case", case.id, reason="", authority="Gericht")


def test_r12_hold_blocks_destruction_and_transfer(records, world):
    due = records.case("Gewerbe Haas", closed_on=date(2010, 1, 5))
    _hold(world, "node", "32.10", store=records.store)
    with world.session() as s, pytest.raises(LegalHoldActive):
        disposal.propose(s, world.officer, [due.id])
    # Proposed and approved before the hold: execution then finds it held and stops.
    other = records.case("Gewerbe Huber", node="32.20", closed_on=date(2010, 1, 5))
    request = records.approved(other.id)
    _hold(world, "case", other.id, store=records.store)
    with world.session() as s:
        report = execute_request(s, world.officer, records.store, request.id)
        assert report.held == [other.file_reference] and not report.destroyed
        assert s.get(Case, other.id).disposal_state == ""
    for key in records.keys_of_case(other.id):
        assert records.versions_under(key)  # nothing removed
