"""The records commands: tenants, users, org units, file plan and cases from the shell."""

import pytest
from click.testing import CliRunner

from eakte.cli import main
from eakte.errors import ExitCode

PLAN = "code;title;parent;schedule\n32;Ordnung;;\n32.10.05;Gewerbeanmeldungen;32;Gewerbe\n"


@pytest.fixture
def cli(env, rt):
    runner = CliRunner()

    def run(*args, stdin=None):
        return runner.invoke(main, list(args), input=stdin)

    assert run("init", "--help").exit_code == 0
    result = runner.invoke(main, ["init"], env={"EAKTE_ADMIN_PASSWORD": "admin password 123"})
    assert result.exit_code == 0, result.output
    return run


def test_records_commands_end_to_end(cli, tmp_path):
    assert cli("orgunit", "add", "32", "Ordnungsamt").exit_code == 0
    added = cli("user", "add", "anna", "--role", "clerk", "--org-unit", "32")
    assert added.exit_code == 0 and "password" in added.output
    officer = cli(
        "user",
        "add",
        "rita",
        "--role",
        "records_officer",
        "--operator",  # the first records officer: from the server's shell (R27)
        "--password-stdin",
        stdin="long enough secret\n",
    )
    assert officer.exit_code == 0 and "password" not in officer.output
    assert "anna\tactive\tclerk" in cli("user", "list").output
    schedule = cli(
        "retention",
        "schedule",
        "add",
        "Gewerbe",
        "--years",
        "10",
        "--action",
        "V",
        "--user",
        "rita",
    )
    assert schedule.exit_code == 0, schedule.output
    plan = tmp_path / "plan.csv"
    plan.write_bytes(PLAN.encode("cp1252"))
    imported = cli("fileplan", "import", str(plan), "--user", "rita")
    assert imported.exit_code == 0 and "2 created" in imported.output
    exported = cli("fileplan", "export", "--user", "rita")
    assert "32.10.05;Gewerbeanmeldungen;32;Gewerbe" in exported.output

    created = cli("case", "create", "32.10.05", "Bäckerei Schmidt", "--user", "anna")
    assert created.exit_code == 0, created.output
    reference = created.stdout.strip()
    assert reference.startswith("32.10.05-0001/")
    shown = cli("case", "show", reference, "--user", "anna")
    assert "Bäckerei Schmidt" in shown.output and "open" in shown.output
    assert cli("case", "close", reference, "--user", "anna").exit_code == 0
    refused = cli("case", "reopen", reference, "--reason", "Nachtrag", "--user", "anna")
    assert refused.exit_code == ExitCode.permission_denied
    assert cli("case", "reopen", reference, "--reason", "Nachtrag", "--user", "rita").exit_code == 0

    assert cli("user", "disable", "anna").exit_code == 0
    disabled = cli("case", "show", reference, "--user", "anna")
    assert disabled.exit_code == ExitCode.permission_denied


def test_bad_file_plan_is_reported_and_nothing_imported(cli, tmp_path):
    plan = tmp_path / "bad.csv"
    plan.write_text("code;parent\n1;\n")  # schedule and org_unit may be absent (R5), title not
    result = cli("fileplan", "import", str(plan))
    assert result.exit_code == ExitCode.bad_input
    assert "missing column(s): title" in result.output
    assert cli("fileplan", "export").output.strip() == "code;title;parent;schedule;org_unit"


def test_tenants(cli):
    added = cli("tenant", "add", "neu-anspach", "Neu-Anspach")
    assert added.exit_code == 0 and "password" in added.output
    listed = cli("tenant", "list").output
    assert "default" in listed and "neu-anspach\tNeu-Anspach" in listed
    assert cli("tenant", "add", "neu-anspach", "Doppelt").exit_code == ExitCode.conflict
    # the new tenant's admin sees its own, empty world
    assert cli("user", "list", "--tenant", "neu-anspach").output.startswith("admin\t")
