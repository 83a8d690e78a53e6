"""R12 (issue 13, finding 2): holds follow the records. Moving a node, case or process is its own
audited operation; creating and importing never silently move or rename; no move leaves or
enters the scope of a standing hold."""

import json
import re

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from eakte.cli import main
from eakte.errors import (
    BadInput,
    ChangesNeedConfirmation,
    ExitCode,
    LegalHoldActive,
    MoveUnderHold,
    NodeExists,
    PermissionDenied,
)
from eakte.models import AuditEvent, Case, Document, FilePlanNode, Process
from eakte.services import cases, documents, fileplan
from retention import disposal, holds
from tests.fixtures.plan70 import ESCAPE_CSV, PLAN_70, parent_of, release_all_holds


@pytest.fixture
def held_70(records, world):
    """Node 70 under a hold; beneath it 70.1 with a case closed long ago (due) and an open one
    with a document; 71 a node elsewhere with an open case."""
    with world.session() as s:
        fileplan.import_csv(s, world.officer, PLAN_70.encode())
    case = records.case("Ansiedlung Müller", node="70.1")
    frozen = records.case("Ansiedlung Meier", node="70.1", closed_on=None)
    outside = records.case("Sonstiges offen", node="71", closed_on=None)
    with world.session() as s:
        holds.place_hold(
            s,
            world.officer,
            "node",
            "70",
            reason="Klage",
            authority="VG Frankfurt 5 K 1/26",
            store=records.store,
        )
    return case, frozen, outside


def _actions(world, obj_uuid):
    with world.session() as s:
        return [
            (e.action, json.loads(e.details))
            for e in s.scalars(
                select(AuditEvent)
                .where(AuditEvent.object_uuid == str(obj_uuid))
                .order_by(AuditEvent.id)
            )
        ]


def test_r12_hold_on_node_70_not_escaped_by_moving_70_1(records, world, held_70):
    case, frozen, outside = held_70
    with world.session() as s:
        # the "new node" path: an existing code is refused, never moved
        with pytest.raises(NodeExists):
            fileplan.create_node(s, world.officer, "70.1", "Ansiedlungen", parent_code="71")
        # the CSV path: the move is listed for confirmation, and refused when confirmed
        with pytest.raises(ChangesNeedConfirmation) as listed:
            fileplan.import_csv(s, world.officer, ESCAPE_CSV.encode())
        assert [str(c) for c in listed.value.changes] == ["70.1: parent '70' -> '71'"]
        with pytest.raises(MoveUnderHold):
            fileplan.import_csv(s, world.officer, ESCAPE_CSV.encode(), confirm=listed.value.token)
        # the move operation itself, for the node, its case and its process
        with pytest.raises(MoveUnderHold):
            fileplan.move_node(s, world.officer, "70.1", "71")
        with pytest.raises(MoveUnderHold):
            fileplan.move_node(s, world.officer, "70.1", None)
        with pytest.raises(MoveUnderHold):
            cases.move_case(s, world.officer, case.id, "71")
        process_id = s.scalar(select(Process.id).where(Process.case_id == frozen.id))
        with pytest.raises(MoveUnderHold):
            cases.move_process(s, world.officer, process_id, outside.id)
    assert parent_of(world, "70.1") == "70"
    with world.session() as s:
        assert s.get(Case, case.id).node.code == "70.1"
        # the open case's documents still frozen for the clerk; the due case not proposable
        document_id = s.scalar(select(Document.id).where(Document.process_id == process_id))
        with pytest.raises(LegalHoldActive):
            documents.update_document(s, world.clerk, document_id, title="Geändert")
        with pytest.raises(LegalHoldActive):
            disposal.propose(s, world.officer, [case.id])
        assert s.get(Document, document_id).title == "Ansiedlung Meier Dokument 0"
    assert [a for a, _ in _actions(world, case.uuid)].count("move") == 0


def test_r12_nothing_moves_into_a_held_node(records, world, held_70):
    outside = held_70[-1]
    with world.session() as s:
        with pytest.raises(MoveUnderHold):
            fileplan.move_node(s, world.officer, "71", "70.1")
        with pytest.raises(MoveUnderHold):
            cases.move_case(s, world.officer, outside.id, "70")
        into = "code;title;parent;schedule;org_unit\n71;Sonstiges;70;Gewerbe 10 Jahre;32\n"
        with pytest.raises(ChangesNeedConfirmation) as listed:
            fileplan.import_csv(s, world.officer, into.encode())
        with pytest.raises(MoveUnderHold):
            fileplan.import_csv(s, world.officer, into.encode(), confirm=listed.value.token)
    assert parent_of(world, "71") is None
    with world.session() as s:
        assert s.get(Case, outside.id).node.code == "71"


def test_moves_are_audited_with_old_and_new_parent(records, world):
    with world.session() as s:
        fileplan.import_csv(s, world.officer, PLAN_70.encode())
    case = records.case("Ansiedlung Schulz", node="70.1", closed_on=None)
    other = records.case("Zweite Akte", node="70.1", closed_on=None)
    with world.session() as s:
        node = fileplan.move_node(s, world.officer, "70.1", "71")
        assert node.parent.code == "71"
        cases.move_case(s, world.officer, case.id, "70")
        process = s.get(Case, case.id).processes[0]
        moved = cases.move_process(s, world.clerk, process.id, other.id)
        assert (moved.case_id, moved.number) == (other.id, 2)
        assert s.get(Case, case.id).file_reference == case.file_reference  # references stay
    node_entries = [d for a, d in _actions(world, node.uuid) if a == "move"]
    assert node_entries == [{"code": "70.1", "old_parent": "70", "new_parent": "71"}]
    case_entries = [d for a, d in _actions(world, case.uuid) if a == "move"]
    assert case_entries == [
        {"file_reference": case.file_reference, "old_parent": "70.1", "new_parent": "70"}
    ]
    process_entries = [d for a, d in _actions(world, process.uuid) if a == "move"]
    assert process_entries == [
        {
            "old_parent": case.file_reference,
            "new_parent": other.file_reference,
            "old_number": 1,
            "new_number": 2,
        }
    ]


def test_moves_refused_where_they_make_no_sense_or_are_not_allowed(records, world):
    with world.session() as s:
        fileplan.import_csv(s, world.officer, PLAN_70.encode())
    case = records.case("Ansiedlung Kurz", node="70.1", closed_on=None)
    dog = records.case("Hund Bello", node="32.20", closed_on=None)
    with world.session() as s:
        with pytest.raises(BadInput):
            fileplan.move_node(s, world.officer, "70", "70.1")  # beneath itself
        with pytest.raises(PermissionDenied):
            fileplan.move_node(s, world.clerk, "70.1", "71")
        with pytest.raises(PermissionDenied):
            cases.move_case(s, world.clerk, case.id, "71")  # the plan's structure: officers
        process = s.get(Case, case.id).processes[0]
        # another schedule (10 → 6 years) would move the documents' retention end
        with pytest.raises(PermissionDenied):
            cases.move_process(s, world.clerk, process.id, dog.id)
        assert cases.move_process(s, world.officer, process.id, dog.id).case_id == dog.id
    assert parent_of(world, "70") is None


def test_create_and_import_never_silently_rename_or_move(world):
    with world.session() as s:
        fileplan.import_csv(s, world.officer, PLAN_70.encode())
        with pytest.raises(NodeExists):
            fileplan.create_node(s, world.officer, "70", "Neuer Name")
        renamed = PLAN_70.replace("Ansiedlungen;70", "Ansiedlungen neu;71")
        with pytest.raises(ChangesNeedConfirmation) as listed:
            fileplan.import_csv(s, world.officer, renamed.encode())
        assert sorted(str(c) for c in listed.value.changes) == [
            "70.1: parent '70' -> '71'",
            "70.1: title 'Ansiedlungen' -> 'Ansiedlungen neu'",
        ]
        # the token confirms this file only: another file with other changes is refused
        other = PLAN_70.replace("Sonstiges;", "Anderes;")
        with pytest.raises(ChangesNeedConfirmation):
            fileplan.import_csv(s, world.officer, other.encode(), confirm=listed.value.token)
        with pytest.raises(ChangesNeedConfirmation):  # a garbled token is no token
            fileplan.import_csv(s, world.officer, renamed.encode(), confirm="Bestätigt ✓")
        assert parent_of(world, "70.1") == "70"
        fileplan.import_csv(s, world.officer, renamed.encode(), confirm=listed.value.token)
        node = s.scalar(select(FilePlanNode).where(FilePlanNode.code == "70.1"))
        assert (node.title, node.parent.code) == ("Ansiedlungen neu", "71")
    entries = dict(_actions(world, node.uuid)[-2:])
    assert entries["move"] == {"code": "70.1", "old_parent": "70", "new_parent": "71"}
    assert entries["change"] == {"changes": {"title": ["Ansiedlungen", "Ansiedlungen neu"]}}


def test_r12_moves_from_the_command_line(records, world, held_70, tmp_path, env):
    case, frozen, outside = held_70
    runner = CliRunner()

    def cli(*args):
        return runner.invoke(main, [*map(str, args), "--user", "registratur"])

    plan = tmp_path / "plan.csv"
    plan.write_text(ESCAPE_CSV)
    listed = cli("fileplan", "import", plan)
    assert listed.exit_code == ExitCode.conflict
    assert "70.1: parent '70' -> '71'" in listed.output
    token = re.search(r"--confirm-changes (\w+)", listed.output).group(1)
    refused = cli("fileplan", "import", plan, "--confirm-changes", token)
    assert refused.exit_code == ExitCode.conflict and "under legal hold" in refused.output
    assert cli("fileplan", "move", "70.1", "71").exit_code == ExitCode.conflict
    assert cli("case", "move", case.file_reference, "71").exit_code == ExitCode.conflict
    moved = cli("case", "move-process", frozen.file_reference, 1, outside.file_reference)
    assert moved.exit_code == ExitCode.conflict
    assert parent_of(world, "70.1") == "70"
    release_all_holds(world)
    moved = cli("fileplan", "move", "70.1", "71")
    assert moved.exit_code == 0 and "70.1 now under 71" in moved.output
    moved = cli("case", "move-process", frozen.file_reference, 1, outside.file_reference)
    assert moved.exit_code == 0 and f"now process 2 of {outside.file_reference}" in moved.output
    assert cli("fileplan", "move", "70.1", "-").exit_code == 0
    assert parent_of(world, "70.1") is None
