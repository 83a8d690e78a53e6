"""Bulk actions and the work surface's lookups, on SQLite and PostgreSQL: one audit entry per
document, refusals reported with reasons and the rest done; previous/next through the inbox;
filing suggestions only from the clerk's scope."""

import pytest
from sqlalchemy import select

from eakte.models import AuditEvent, Document
from eakte.services import bulk, cases, documents, worklist
from eakte.services.guard import load


@pytest.fixture
def open_process(world):
    with world.session() as s:
        case = cases.create_case(s, world.clerk, "32.10.05", "Gewerbe Bäckerei Schmidt")
        process = cases.add_process(s, world.clerk, case.id, "Anmeldung")
        return str(case.uuid), str(process.uuid)


def _audit(world, action: str, uuid: str) -> list[AuditEvent]:
    with world.session() as s:
        return list(
            s.scalars(
                select(AuditEvent).where(
                    AuditEvent.action == action, AuditEvent.object_uuid == uuid
                )
            )
        )


def test_bulk_filing_files_the_allowed_and_reports_the_rest(world, open_process):
    _, process = open_process
    mine = [world.inbox_document(f"Brief {n}") for n in range(3)]
    foreign = world.inbox_document("Bauantrag", org_unit_code="60")
    with world.session() as s:
        discarded = world.inbox_document("Fehlscan")
        documents.discard_document(s, world.clerk, discarded.id, "leer")
        documents.file_document(s, world.clerk, mine[2].id, process)
    idents = [str(d.uuid) for d in (*mine, foreign, discarded)] + [str(mine[0].uuid)]
    with world.session() as s:
        outcome = bulk.file_documents(s, world.clerk, idents, process)
    assert outcome.done == [str(mine[0].uuid), str(mine[1].uuid)]
    reasons = {r.document: (r.title, r.reason) for r in outcome.refused}
    assert reasons == {
        str(mine[2].uuid): ("Brief 2", bulk.ALREADY_FILED),
        str(foreign.uuid): ("", bulk.NOT_VISIBLE),
        str(discarded.uuid): ("Fehlscan", bulk.DISCARDED),
    }
    for doc in mine[:2]:
        assert len(_audit(world, "file", str(doc.uuid))) == 1  # once, though named twice
    with world.session() as s:
        filed = s.scalars(select(Document).where(Document.process_id.is_not(None))).all()
        assert {d.title for d in filed} == {"Brief 0", "Brief 1", "Brief 2"}


def test_bulk_filing_into_a_closed_case_refuses_each_with_the_reason(world, open_process):
    case, process = open_process
    docs = [world.inbox_document(f"Brief {n}") for n in range(2)]
    with world.session() as s:
        cases.close_case(s, world.clerk, case)
    with world.session() as s:
        outcome = bulk.file_documents(s, world.clerk, [str(d.uuid) for d in docs], process)
    assert outcome.done == []
    assert [r.reason for r in outcome.refused] == [
        "The case is closed (zdA) and cannot be changed."
    ] * 2


def test_bulk_set_fields_audits_each_change(world):
    docs = [world.inbox_document(f"Brief {n}") for n in range(2)]
    foreign = world.inbox_document("Bauantrag", org_unit_code="60")
    with world.session() as s:
        outcome = bulk.set_fields(
            s,
            world.clerk,
            [str(d.uuid) for d in (*docs, foreign)],
            doc_type="Antrag",
            correspondent="Bäckerei Schmidt",
        )
    assert outcome.done == [str(d.uuid) for d in docs]
    assert [r.reason for r in outcome.refused] == [bulk.NOT_VISIBLE]
    for doc in docs:
        (entry,) = _audit(world, "change", str(doc.uuid))
        assert "Bäckerei Schmidt" in entry.details
    with world.session() as s:
        assert load(s, world.clerk, Document, docs[0].id).doc_type == "Antrag"
        assert load(s, world.admin, Document, foreign.id).doc_type == ""


def test_bulk_limits_are_checked_before_any_work(world):
    doc = world.inbox_document("Brief")
    idents = [str(doc.uuid)] + [f"00000000-0000-0000-0000-{n:012d}" for n in range(200)]
    with world.session() as s, pytest.raises(bulk.TooManyDocuments):
        bulk.set_fields(s, world.clerk, idents, doc_type="Antrag")
    assert _audit(world, "change", str(doc.uuid)) == []
    with world.session() as s, pytest.raises(bulk.BadInput):
        bulk.set_fields(s, world.clerk, [str(doc.uuid)])


def test_inbox_neighbours_walk_newest_first_and_survive_filing(world, open_process):
    _, process = open_process
    docs = [world.inbox_document(f"Brief {n}") for n in range(3)]  # Brief 2 is the newest
    with world.session() as s:
        middle = load(s, world.clerk, Document, docs[1].id)
        around = worklist.inbox_neighbours(s, world.clerk, middle)
        assert (around.previous, around.next) == (str(docs[2].uuid), str(docs[0].uuid))
        assert (around.position, around.total) == (2, 3)
        documents.file_document(s, world.clerk, docs[1].id, process)
    with world.session() as s:
        filed = load(s, world.clerk, Document, docs[1].id)
        around = worklist.inbox_neighbours(s, world.clerk, filed)
        assert around.next == str(docs[0].uuid) and around.position is None
        assert around.total == 2
        other = worklist.inbox_neighbours(s, world.clerk_bau, filed)
        assert (other.previous, other.next, other.total) == (None, None, 0)


def test_filing_suggestions_stay_in_the_clerks_scope(world, open_process):
    with world.session() as s:
        bau = cases.create_case(s, world.clerk_bau, "60.01", "Bauantrag Schmidt")
        cases.add_process(s, world.clerk_bau, bau.id, "Antrag")
        empty = cases.create_case(s, world.clerk, "32.10.05", "Schmidt ohne Vorgang")
    with world.session() as s:
        found = worklist.find_cases(s, world.clerk, "schmidt", for_filing=True)
        assert [c.title for c in found] == ["Gewerbe Bäckerei Schmidt", "Schmidt ohne Vorgang"]
        assert [p.title for p in found[0].processes] == ["Anmeldung"]
        assert found[1].processes == []
        by_reference = worklist.find_cases(s, world.clerk, "32.10.05-0001", for_filing=True)
        assert [c.title for c in by_reference] == ["Gewerbe Bäckerei Schmidt"]
        words = worklist.find_cases(s, world.clerk, "schmidt bäckerei", for_filing=True)
        assert len(words) == 1
        assert worklist.find_cases(s, world.clerk, "100%_", for_filing=True) == []
        bau_view = worklist.find_cases(s, world.clerk_bau, "schmidt", for_filing=True)
        assert [c.title for c in bau_view] == ["Bauantrag Schmidt"]
        cases.close_case(s, world.clerk, empty.id)
    with world.session() as s:
        assert len(worklist.find_cases(s, world.clerk, "schmidt", for_filing=True)) == 1
        assert len(worklist.find_cases(s, world.clerk, "schmidt", for_filing=False)) == 2


def test_bulk_assign_checks_the_assignee_per_document(world):
    mine = [world.inbox_document(f"Brief {n}") for n in range(2)]
    sub = world.inbox_document("Hundesteuer", org_unit_code="32.2")
    with world.session() as s:
        people = {u.username for u in worklist.assignable_people(s, world.clerk)}
        assert {"sachb", "hund", "bau", "registratur"} <= people and "admin" not in people
        # "hund" works in 32.2 only: the letters of 32 are not his
        outcome = bulk.assign_documents(
            s, world.clerk, [str(d.uuid) for d in (*mine, sub)], str(world.clerk_sub.uuid)
        )
    assert outcome.done == [str(sub.uuid)]
    assert [r.reason for r in outcome.refused] == [bulk.NOT_ASSIGNABLE] * 2
    assert len(_audit(world, "assign", str(sub.uuid))) == 1
    with world.session() as s:
        outcome = bulk.assign_documents(s, world.clerk, [str(d.uuid) for d in mine], None)
        assert outcome.done == [str(d.uuid) for d in mine]  # nothing assigned: no entry
        with pytest.raises(bulk.BadInput):
            bulk.assign_documents(s, world.clerk, [str(mine[0].uuid)], str(world.admin.tenant_id))
    assert _audit(world, "unassign", str(mine[0].uuid)) == []
