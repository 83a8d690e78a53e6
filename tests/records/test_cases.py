"""R1-R4, R23, R24: the records hierarchy, file references, schedules, closure and history."""

from datetime import date

import pytest
from sqlalchemy import delete, select

from eakte import audit
from eakte.errors import (
    BadInput,
    CaseClosed,
    ConfigError,
    NoRetentionSchedule,
    NotFound,
    PermissionDenied,
)
from eakte.models import AuditEvent, Case, RetentionSchedule
from eakte.references import validate_pattern
from eakte.services import cases, documents


def test_r1_hierarchy_with_stable_uuids(world):
    with world.session() as s:
        case = cases.create_case(s, world.clerk, "32.10.05", "Gewerbeanmeldung Bäckerei Schmidt")
        process = cases.add_process(s, world.clerk, case.id, "Anmeldung")
    doc = world.inbox_document("Gewerbeanmeldung")
    with world.session() as s:
        filed = documents.file_document(s, world.clerk, doc.id, process.id)
        version = filed.versions[0]
        node = s.get(type(case), case.id).node_id
        uuids = [case.uuid, process.uuid, filed.uuid, version.uuid]
        assert len(set(uuids)) == 4 and all(uuids)
        assert filed.process.case.id == case.id and node
        cases.update_case(s, world.clerk, case.id, title="Gewerbeanmeldung Bäckerei Schmidt GmbH")
        assert s.get(Case, case.id).uuid == case.uuid


def test_r2_file_reference_pattern_and_sequence(world):
    with world.session() as s:
        first = cases.create_case(s, world.clerk, "32.10.05", "Eins", year=2026)
        second = cases.create_case(s, world.clerk, "32.10.05", "Zwei", year=2026)
        other_year = cases.create_case(s, world.clerk, "32.10.05", "Drei", year=2027)
        other_node = cases.create_case(s, world.clerk, "32.10", "Vier", year=2026)
        custom = cases.create_case(
            s, world.clerk, "32.10", "Fünf", year=2026, pattern="{year}/{plan}/{seq}"
        )
    assert first.file_reference == "32.10.05-0001/2026"
    assert second.file_reference == "32.10.05-0002/2026"
    assert other_year.file_reference == "32.10.05-0001/2027"
    assert other_node.file_reference == "32.10-0001/2026"
    assert custom.file_reference == "2026/32.10/2"


def test_r2_pattern_is_validated():
    with pytest.raises(ConfigError, match=r"needs \{seq\}"):
        validate_pattern("{plan}/{year}")
    with pytest.raises(ConfigError, match="unknown field"):
        validate_pattern("{plan}-{seq}-{clerk}")


def test_r2_reference_never_reused_after_destruction(world):
    with world.session() as s:
        doomed = cases.create_case(s, world.clerk, "32.10.05", "Wird vernichtet", year=2026)
        with s.begin():  # what destruction does to the case row
            s.execute(delete(Case).where(Case.id == doomed.id))
        after = cases.create_case(s, world.clerk, "32.10.05", "Danach", year=2026)
    assert doomed.file_reference == "32.10.05-0001/2026"
    assert after.file_reference == "32.10.05-0002/2026"


def test_r3_case_needs_a_schedule(world):
    with world.session() as s:
        with pytest.raises(NoRetentionSchedule):
            cases.create_case(s, world.officer, "99", "Ohne Frist")
        assert s.scalar(select(Case.id)) is None


def test_r3_schedule_inherited_and_overridden_with_reason(world):
    with world.session() as s:
        case = cases.create_case(s, world.clerk, "32.10.05", "Erbt vom Elternknoten")
        assert s.get(RetentionSchedule, case.schedule_id).name == "Gewerbe 10 Jahre"
        permanent = s.scalar(
            select(RetentionSchedule).where(RetentionSchedule.name == "Bau dauernd")
        )
        with pytest.raises(PermissionDenied):
            cases.override_schedule(s, world.clerk, case.id, permanent.id, "bitte")
        with pytest.raises(BadInput):
            cases.override_schedule(s, world.officer, case.id, permanent.id, " ")
        cases.override_schedule(s, world.officer, case.id, permanent.id, "Denkmalschutz")
        assert s.get(Case, case.id).schedule_id == permanent.id
        entry = audit.history(s, str(case.uuid))[-1]
        assert entry.action == "override_schedule" and "Denkmalschutz" in entry.details


def test_r4_closed_case_rejects_documents(world):
    with world.session() as s:
        case = cases.create_case(s, world.clerk, "32.10.05", "Abgeschlossen")
        process = cases.add_process(s, world.clerk, case.id, "Vorgang")
        cases.close_case(s, world.officer, case.id, on=date(2026, 3, 10))
    doc = world.inbox_document("Nachzügler")
    with world.session() as s:
        with pytest.raises(CaseClosed):
            documents.file_document(s, world.clerk, doc.id, process.id)
        with pytest.raises(CaseClosed):
            cases.add_process(s, world.clerk, case.id, "Neu")
        with pytest.raises(CaseClosed):
            cases.update_case(s, world.clerk, case.id, title="Geändert")
        reloaded = s.get(Case, case.id)
        assert reloaded.title == "Abgeschlossen" and reloaded.closed_at == date(2026, 3, 10)
        assert documents.get_document(s, world.clerk, doc.id).process_id is None


def test_r4_closed_case_rejects_changes_to_filed_documents(world):
    with world.session() as s:
        case = cases.create_case(s, world.clerk, "32.10.05", "Akte")
        process = cases.add_process(s, world.clerk, case.id, "Vorgang")
        other = cases.add_process(
            s, world.clerk, cases.create_case(s, world.clerk, "32.10.05", "Offen").id, "V"
        )
    doc = world.inbox_document("Brief")
    with world.session() as s:
        documents.file_document(s, world.clerk, doc.id, process.id)
        cases.close_case(s, world.clerk, case.id)
        with pytest.raises(CaseClosed):
            documents.update_document(s, world.clerk, doc.id, title="Neu")
        with pytest.raises(CaseClosed):
            documents.refile_document(s, world.clerk, doc.id, other.id, "falsch abgelegt")


def test_r4_reopen_is_restricted_logged_and_restarts_clock(world):
    with world.session() as s:
        case = cases.create_case(s, world.clerk, "32.10.05", "Wiedereröffnung")
        cases.close_case(s, world.officer, case.id, on=date(2020, 5, 1))
        with pytest.raises(PermissionDenied):
            cases.reopen_case(s, world.clerk, case.id, "neuer Antrag")
        with pytest.raises(BadInput):
            cases.reopen_case(s, world.officer, case.id, "")
        cases.reopen_case(s, world.officer, case.id, "neuer Antrag")
        assert s.get(Case, case.id).closed_at is None
        cases.add_process(s, world.clerk, case.id, "Nachtrag")
        cases.close_case(s, world.officer, case.id, on=date(2026, 2, 1))
        assert s.get(Case, case.id).closed_at == date(2026, 2, 1)
        actions = [e.action for e in audit.history(s, str(case.uuid))]
        assert actions.count("close") == 2 and "reopen" in actions
        reopen = next(e for e in audit.history(s, str(case.uuid)) if e.action == "reopen")
        assert "2020-05-01" in reopen.details and reopen.username == "registratur"


def test_r23_metadata_history_keeps_old_values(world):
    doc = world.inbox_document("Antrag Hund")
    with world.session() as s:
        documents.update_document(s, world.clerk, doc.id, title="Antrag Hundesteuer")
        documents.update_document(
            s, world.clerk, doc.id, title="Antrag Hundesteuer Bello", correspondent="Frau Meier"
        )
        changes = [e.details for e in audit.history(s, str(doc.uuid)) if e.action == "change"]
    assert '"title": ["Antrag Hund", "Antrag Hundesteuer"]' in changes[0]
    assert '"title": ["Antrag Hundesteuer", "Antrag Hundesteuer Bello"]' in changes[1]
    assert '"correspondent": ["", "Frau Meier"]' in changes[1]


def test_r23_unknown_field_refused(world):
    doc = world.inbox_document("X")
    with world.session() as s, pytest.raises(BadInput, match="sha256"):
        documents.update_document(s, world.clerk, doc.id, sha256="0" * 64)


def test_r24_restricted_case_hidden_and_views_logged(world):
    with world.session() as s:
        case = cases.create_case(s, world.clerk, "32.10.05", "Privatperson Müller")
        cases.restrict_case(s, world.clerk, case.id, True, "Art. 18 DSGVO Antrag")
        with pytest.raises(NotFound):
            cases.get_case(s, world.clerk, case.id)
        with pytest.raises(NotFound):
            cases.get_case(s, world.admin, case.id)
        seen = cases.get_case(s, world.officer, case.id)
        assert seen.title == "Privatperson Müller"
        views = [e for e in audit.history(s, str(case.uuid)) if e.action == "view"]
        assert [v.username for v in views] == ["registratur"]
        refused = s.scalars(
            select(AuditEvent).where(
                AuditEvent.action == "get_case", AuditEvent.outcome == "refused"
            )
        ).all()
        assert sorted(e.username for e in refused) == ["admin", "sachb"]


def test_r24_restricted_document_hidden(world):
    doc = world.inbox_document("Gesundheitszeugnis")
    with world.session() as s:
        documents.restrict_document(s, world.clerk, doc.id, True, "Art. 18")
        with pytest.raises(NotFound):
            documents.get_document(s, world.clerk, doc.id)
        assert documents.get_document(s, world.officer, doc.id).restricted
