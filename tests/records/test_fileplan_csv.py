"""R5: the file plan imports from and exports to CSV; a bad file imports nothing."""

import pytest
from sqlalchemy import func, select

from eakte.errors import PermissionDenied
from eakte.models import FilePlanNode
from eakte.services import fileplan
from eakte.services.fileplan import FilePlanImportError


def _count(s):
    return s.scalar(select(func.count(FilePlanNode.id)))


def test_r5_export_then_import_round_trip(world):
    with world.session() as s:
        exported = fileplan.export_csv(s, world.officer)
        lines = exported.decode().splitlines()
        assert lines[0] == "code;title;parent;schedule;org_unit"
        assert "32.10;Gewerbeangelegenheiten;32;Gewerbe 10 Jahre;32" in lines
        # parents come before children, so the file imports again as it is
        assert lines.index("32;Öffentliche Sicherheit und Ordnung;;;32") < lines.index(
            "32.10;Gewerbeangelegenheiten;32;Gewerbe 10 Jahre;32"
        )
        before = _count(s)
        result = fileplan.import_csv(s, world.officer, exported)
        assert (result.created, result.updated) == (0, before)
        assert fileplan.export_csv(s, world.officer) == exported


def test_r5_windows_1252_and_comma(world):
    data = "code,title,parent,schedule\n32.30,Straßenverkehrsbehörde,32,Gewerbe 10 Jahre\n"
    with world.session() as s:
        result = fileplan.import_csv(s, world.officer, data.encode("cp1252"))
        assert result.created == 1
        node = s.scalar(select(FilePlanNode).where(FilePlanNode.code == "32.30"))
        assert node.title == "Straßenverkehrsbehörde"
        assert node.parent.code == "32"


def test_r5_utf8_with_bom_and_children_before_parents(world):
    data = "\ufeffcode;title;parent;schedule\n70.1.1;Enkel;70.1;\n70.1;Kind;70;\n70;Wurzel;;\n"
    with world.session() as s:
        assert fileplan.import_csv(s, world.officer, data.encode("utf-8")).created == 3
        grandchild = s.scalar(select(FilePlanNode).where(FilePlanNode.code == "70.1.1"))
        assert grandchild.parent.parent.code == "70"


@pytest.mark.parametrize(
    ("csv_text", "expected"),
    [
        ("code;title\n1;A\n", ["line 1: missing column(s): parent"]),
        (
            "code;title;parent;schedule\n80;Gut;;\n81;Unbekannt;79;\n82;;80;\n80;Doppelt;;\n"
            "83;Frist;80;Gibt es nicht\n",
            [
                "line 5: duplicate code '80' (also line 2)",
                "line 4: empty title for code '82'",
                "line 6: unknown schedule 'Gibt es nicht'",
                "line 3: unknown parent '79'",
            ],
        ),
        ("code;title;parent;schedule\n84;A;85;\n85;B;84;\n", ["parent cycle"]),
    ],
)
def test_r5_bad_file_reported_line_by_line_nothing_imported(world, csv_text, expected):
    with world.session() as s:
        before = _count(s)
        with pytest.raises(FilePlanImportError) as info:
            fileplan.import_csv(s, world.officer, csv_text.encode())
        message = str(info.value)
        for line in expected:
            assert line in message
        assert _count(s) == before


def test_r5_only_authorised_roles_import(world):
    with world.session() as s, pytest.raises(PermissionDenied):
        fileplan.import_csv(s, world.clerk, b"code;title;parent;schedule\n90;X;;\n")


def test_r5_schedule_and_org_unit_columns_optional_issue21(world):
    """A municipality's export without schedule and org unit: nodes without a schedule inherit
    their parent's; an existing node keeps its schedule and org unit; R3 still refuses a case
    under a node that has none, inherited or its own."""
    from eakte.errors import NoRetentionSchedule
    from eakte.services import cases

    data = "code;title;parent\n32.10;Gewerbeangelegenheiten;32\n32.10.07;Reisegewerbe;32.10\n"
    data += "98;Ohne Frist;\n98.1;Kind ohne Frist;98\n"
    with world.session() as s:
        result = fileplan.import_csv(s, world.officer, data.encode())
        assert (result.created, result.updated) == (3, 1)
        existing = s.scalar(select(FilePlanNode).where(FilePlanNode.code == "32.10"))
        assert existing.schedule_id is not None and existing.org_unit_id is not None
        case = cases.create_case(s, world.officer, "32.10.07", "Reisegewerbekarte Müller")
        assert case.schedule_id == existing.schedule_id
        with pytest.raises(NoRetentionSchedule):
            cases.create_case(s, world.officer, "98.1", "Nirgends")
