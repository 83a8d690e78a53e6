"""R20, R21: the append-only, hash-chained audit trail and its verification."""

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DatabaseError

from eakte.models import AuditEvent
from eakte.services import accounts, cases, documents
from eakte.verify import VerifyContext, check_audit_chain, run_verify
from tests.fixtures.app import PASSWORD


def _findings(world):
    with world.session() as s:
        return list(check_audit_chain(VerifyContext(s, world.rt.store), {}))


def _drop_append_only_guard(world):
    """What an attacker with database access does first."""
    with world.rt.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("DROP TRIGGER audit_event_append_only ON audit_event"))
        else:
            conn.execute(text("DROP TRIGGER audit_event_no_update"))
            conn.execute(text("DROP TRIGGER audit_event_no_delete"))


def test_r20_events_recorded_with_user_time_object_outcome(world):
    with world.session() as s:
        case = cases.create_case(s, world.clerk, "32.10.05", "Audit")
        process = cases.add_process(s, world.clerk, case.id, "V")
    doc = world.inbox_document("Brief")
    with world.session() as s:
        documents.file_document(s, world.clerk, doc.id, process.id)
        documents.update_document(s, world.clerk, doc.id, title="Brief 2")
        documents.get_document(s, world.clerk, doc.id)
        version = documents.get_document(s, world.clerk, doc.id).versions[0]
        _, stream = documents.open_version(s, world.clerk, world.rt.store, version.id)
        assert stream.read()
        cases.close_case(s, world.clerk, case.id)
        cases.reopen_case(s, world.officer, case.id, "Nachtrag")
        assert accounts.authenticate(s, "default", "sachb", PASSWORD)
        assert accounts.authenticate(s, "default", "sachb", "falsch") is None
        events = s.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
    actions = {(e.action, e.outcome) for e in events}
    for expected in [
        ("create", "ok"),
        ("file", "ok"),
        ("change", "ok"),
        ("view", "ok"),
        ("download", "ok"),
        ("close", "ok"),
        ("reopen", "ok"),
        ("login", "ok"),
        ("login", "failed"),
    ]:
        assert expected in actions
    filed = next(e for e in events if e.action == "file")
    assert filed.username == "sachb" and filed.object_uuid == str(doc.uuid) and filed.at


def test_r20_chain_verifies_clean(world):
    assert _findings(world) == []


def test_r20_edited_entry_detected(world):
    _drop_append_only_guard(world)
    with world.rt.engine.begin() as conn:
        conn.execute(text("UPDATE audit_event SET username = 'mallory' WHERE id = 5"))
    findings = _findings(world)
    assert [(f.subject, f.problem) for f in findings] == [
        ("entry 5", "was changed after it was written")
    ]


def test_r20_deleted_entry_detected(world):
    _drop_append_only_guard(world)
    with world.rt.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_event WHERE id = 7"))
    assert [(f.subject, f.problem) for f in _findings(world)] == [("entry 7", "entry 7 is missing")]


def test_r20_deleted_last_entry_detected(world):
    _drop_append_only_guard(world)
    with world.rt.engine.begin() as conn:
        last = conn.scalar(text("SELECT max(id) FROM audit_event"))
        conn.execute(text("DELETE FROM audit_event WHERE id = :id"), {"id": last})
    findings = _findings(world)
    assert len(findings) == 1 and "missing" in findings[0].problem


def test_r20_verify_command_names_first_broken_entry(world):
    _drop_append_only_guard(world)
    with world.rt.engine.begin() as conn:
        conn.execute(text("UPDATE audit_event SET details = '{}' WHERE id = 3"))
    with world.session() as s:
        report = run_verify(VerifyContext(s, world.rt.store))
    assert not report.clean
    assert any(f.check == "audit" and f.subject == "entry 3" for f in report.findings)


def test_r21_database_refuses_edit_and_delete(world):
    for statement in ("UPDATE audit_event SET username = 'x'", "DELETE FROM audit_event"):
        with pytest.raises(DatabaseError, match="append-only"), world.rt.engine.begin() as conn:
            conn.execute(text(statement))
    assert _findings(world) == []
