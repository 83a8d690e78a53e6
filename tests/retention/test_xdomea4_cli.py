"""Issue 27: `eakte xdomea` for records officers — the archive's version chosen, a disposal
request exported in it, a handover written and taken in, a refused container reported, the
messages listed."""

import zipfile
from datetime import date

import pytest
from click.testing import CliRunner

from eakte.cli import main
from eakte.models import Role
from eakte.services import accounts
from retention import disposal
from tests.fixtures.app import PASSWORD
from tests.fixtures.s3 import wait_for_floor
from tests.retention.test_xdomea import archive_plan  # noqa: F401  (fixture)


@pytest.fixture
def cli(env):
    runner = CliRunner()

    def run(*args):
        return runner.invoke(main, [str(a) for a in args], catch_exceptions=False)

    return run


def test_xdomea_from_the_command_line(
    cli,
    records,
    world,
    archive_plan,  # noqa: F811
    tmp_path,
):
    officer = ["--user", "registratur"]
    case = records.case("Rathaus Kommandozeile", node="60.02", closed_on=date(2012, 1, 1))
    with world.session() as s:
        request = disposal.propose(s, world.officer, [case.id])
        disposal.approve(s, world.officer2, request.id)
    wait_for_floor(records.store)

    made = cli("xdomea", "archive", "Landesarchiv", "--version", "4.0.0", "--max-mb", "5", *officer)
    assert made.exit_code == 0, made.output
    assert "4.0.0" in cli("xdomea", "archives", *officer).output
    out = tmp_path / "out"
    sent = cli(
        "xdomea",
        "export",
        request.uuid,
        "--message",
        "0501",
        "--archive",
        "Landesarchiv",
        "--out",
        out,
        *officer,
    )
    assert sent.exit_code == 0, sent.output
    assert f"{request.xdomea_process_id}_0501_1.zip" in sent.output and "4.0.0" in sent.output
    listed = cli("xdomea", "messages", *officer)
    assert " out 0501 1/1 " in listed.output

    handed = cli(
        "xdomea", "handover", case.file_reference, "--to", "Nachbar", "--out", out, *officer
    )
    assert handed.exit_code == 0, handed.output
    container = next(out.glob("*_0401_1.zip"))
    # A container with one primary document missing: refused, each problem named.
    broken = tmp_path / "broken.zip"
    with zipfile.ZipFile(container) as zin, zipfile.ZipFile(broken, "w") as zout:
        names = zin.namelist()
        dropped = next(n for n in names if not n.endswith(".xml"))
        for name in names:
            if name != dropped:
                zout.writestr(name, zin.read(name))
    with world.session() as s:  # taking in files documents: the intake right as well
        accounts.create_user(
            s,
            world.tenant,
            "archivar",
            PASSWORD,
            {Role.records_officer, Role.clerk},
            org_unit_code="60",
        )
    refused = CliRunner().invoke(
        main, ["xdomea", "take-in", str(broken), "--node", "60.03", "--user", "archivar"]
    )
    assert refused.exit_code != 0
    assert f"{dropped}: primary document missing" in refused.output
    imports = cli("xdomea", "imports", *officer)
    assert "refused" in imports.output and dropped in imports.output
