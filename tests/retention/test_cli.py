"""The `eakte retention` and `eakte hold` commands against the real servers."""

import json
import os
import pwd
import re
from datetime import UTC, date, datetime, timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from eakte.cli import main
from eakte.errors import ExitCode
from eakte.models import AuditEvent, FileVersion
from tests.fixtures.app import PASSWORD
from tests.fixtures.s3 import wait_for_floor

SECRET = PASSWORD + "\n"


@pytest.fixture
def cli(env):
    runner = CliRunner()

    def run(*args, stdin=None):
        return runner.invoke(main, [str(a) for a in args], input=stdin, catch_exceptions=False)

    return run


def test_disposal_and_holds_from_the_command_line(cli, records, world, tmp_path):
    due = records.case("Gewerbe Kommandozeile", closed_on=date(2010, 2, 1))
    other = records.case("Hund Kommandozeile", node="32.20", closed_on=date(2010, 2, 1))
    officer = ["--user", "registratur"]
    password = ["--password-stdin"]  # deciding from the command line needs the password

    listed = cli("retention", "due", *officer)
    assert listed.exit_code == 0, listed.output
    assert due.file_reference in listed.output and "2 case(s) due" in listed.output
    csv_path = tmp_path / "due.csv"
    assert cli("retention", "due", "--node", "32.20", "--csv", csv_path, *officer).exit_code == 0
    assert (
        other.file_reference in csv_path.read_text()
        and due.file_reference not in csv_path.read_text()
    )
    assert cli("retention", "due").exit_code == ExitCode.permission_denied  # admin: not allowed

    held = cli(
        "hold",
        "add",
        "--case",
        other.file_reference,
        "--reason",
        "Klage",
        "--authority",
        "VG Frankfurt",
        *officer,
    )
    assert held.exit_code == 0, held.output
    hold_uuid = re.search(r"hold (\S+) placed", held.output).group(1)
    assert other.file_reference in cli("hold", "list", *officer).output
    refused = cli("retention", "propose", other.file_reference, *officer)
    assert refused.exit_code == ExitCode.conflict and "legal hold" in refused.output

    proposed = cli("retention", "propose", "--all-due", "--note", "Aussonderung", *officer)
    assert proposed.exit_code == 0, proposed.output
    request = re.search(r"disposal request (\S+) proposed with 1 case", proposed.output).group(1)
    same = cli("retention", "approve", request[:8], *officer, *password, stdin=SECRET)
    assert same.exit_code == ExitCode.permission_denied
    assert (
        cli("retention", "execute", request, *officer, *password, stdin=SECRET).exit_code
        == ExitCode.conflict
    )
    approved = cli(
        "retention", "approve", request[:8], "--user", "registratur2", *password, stdin=SECRET
    )
    assert approved.exit_code == 0, approved.output
    wait_for_floor(records.store)  # disposal deletes only what is past its floor
    executed = cli("retention", "execute", request, *officer, *password, stdin=SECRET)
    assert executed.exit_code == 0, executed.output
    assert "1 destroyed" in executed.output and "request completed" in executed.output
    pdf = tmp_path / "nachweis.pdf"
    shown = cli("retention", "certificates", "--case", due.file_reference, "--pdf", pdf, *officer)
    assert shown.exit_code == 0, shown.output
    assert pdf.read_bytes().startswith(b"%PDF")

    released = cli(
        "hold",
        "release",
        hold_uuid,
        "--reason",
        "Verfahren eingestellt",
        *officer,
        *password,
        stdin=SECRET,
    )
    assert released.exit_code == 0, released.output
    past = cli("retention", "past-due", *officer)
    assert other.file_reference in past.output and "1 case(s) past due" in past.output


def test_schedules_and_bad_messages_from_the_command_line(cli, world, tmp_path):
    officer = ["--user", "registratur"]
    added = cli(
        "retention",
        "schedule",
        "add",
        "Sozialhilfe 10 Jahre",
        "--years",
        10,
        "--action",
        "V",
        "--legal-basis",
        "SGB XII",
        *officer,
    )
    assert added.exit_code == 0, added.output
    assert (
        cli("retention", "schedule", "assign", "99", "Sozialhilfe 10 Jahre", *officer).exit_code
        == 0
    )
    changed = cli("retention", "schedule", "set", "Sozialhilfe 10 Jahre", "--years", 12, *officer)
    assert changed.exit_code == 0, changed.output
    listing = cli("retention", "schedule", "list", *officer).output
    assert "Sozialhilfe 10 Jahre\t12 years\tV\tclosure\tSGB XII" in listing
    busy = cli("retention", "schedule", "remove", "Sozialhilfe 10 Jahre", *officer)
    assert busy.exit_code == ExitCode.conflict
    junk = tmp_path / "antwort.xml"
    junk.write_bytes(b"<html>kein xdomea</html>")
    refused = cli("retention", "receive", junk, *officer)
    assert (
        refused.exit_code == ExitCode.bad_input and "not an xdomea 3.1.0 message" in refused.output
    )


def test_r27_deciding_from_the_command_line_needs_the_password(cli, records, world):
    """Issue 13, finding 3: `--user` alone no longer approves (or executes, releases a hold,
    confirms a role); entries say they came from the command line and which OS user ran it."""
    due = records.case("Gewerbe Passwort", closed_on=date(2010, 2, 1))
    proposed = cli("retention", "propose", due.file_reference, "--user", "registratur")
    request = re.search(r"disposal request (\S+) proposed", proposed.output).group(1)
    second = ["retention", "approve", request, "--user", "registratur2"]
    assert cli(*second).exit_code != 0  # no password given: the prompt ends, nothing approved
    wrong = cli(*second, "--password-stdin", stdin="falsch\n")
    assert wrong.exit_code == ExitCode.permission_denied
    assert "proposed" in cli("retention", "requests", "--user", "registratur").output
    approved = cli(*second, "--password-stdin", stdin=SECRET)
    assert approved.exit_code == 0, approved.output

    granted = cli("user", "grant", "sachb", "--role", "records_officer", "--user", "admin")
    grant = re.search(r"grant (\S+): role records_officer", granted.output).group(1)
    confirm = ["user", "confirm", grant, "--user", "registratur"]
    assert cli(*confirm).exit_code != 0
    assert cli(*confirm, "--password-stdin", stdin=SECRET).exit_code == 0

    os_user = pwd.getpwuid(os.getuid()).pw_name
    with world.session() as s:
        entries = {
            e.action: e
            for e in s.scalars(select(AuditEvent).order_by(AuditEvent.id))
            if e.action
            in ("disposal_approve", "confirm_role", "confirm_identity", "disposal_propose")
        }
    for action in ("disposal_approve", "confirm_role", "disposal_propose"):
        details = json.loads(entries[action].details)
        assert details["via"] == "cli" and details["os_user"] == os_user, action
    assert entries["disposal_approve"].username == "registratur2"
    assert entries["confirm_identity"].outcome == "refused"


def test_extend_floors_from_the_command_line(cli, world):
    """What the workers run nightly, at once: with the installation's floor (the default year),
    a live record's version stored under a shorter one is locked for a year from now."""
    document = world.inbox_document("Eingang Kommandozeile")
    extended = cli("retention", "extend-floors")
    assert extended.exit_code == 0, extended.output
    assert "1 version(s) locked for another floor period" in extended.output
    with world.session() as s:
        version = s.scalar(select(FileVersion).where(FileVersion.document_id == document.id))
    info = world.rt.store.stat(version.s3_key, version.s3_version_id)
    assert info.retain_until > datetime.now(UTC) + timedelta(days=364)
    assert "0 version(s)" in cli("retention", "extend-floors").output
