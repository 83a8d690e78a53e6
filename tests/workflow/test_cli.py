"""``eakte route``, ``eakte wv``, ``eakte deputy`` end to end against the real database."""

from __future__ import annotations

from datetime import date

from click.testing import CliRunner

from eakte.cli import main
from eakte.errors import ExitCode


def test_route_wv_and_deputy_commands(world, desk, env):
    case, _process, doc = desk.filed()
    runner = CliRunner()

    def run(*args):
        return runner.invoke(main, list(args))

    started = run(
        "route",
        "start",
        "--document",
        str(doc.id),
        "--user",
        "sachb",
        "--step",
        "1:mitzeichnung:hund:2027-03-05",
        "--step",
        "1:kenntnis:unit:60",
        "--step",
        "2:schlusszeichnung:registratur",
    )
    assert started.exit_code == 0, started.output
    route_uuid = started.output.strip()
    shown = run("route", "show", route_uuid, "--user", "sachb")
    assert shown.exit_code == 0 and "status   active" in shown.output
    steps = [line.split() for line in shown.output.splitlines() if line.startswith("step")]
    assert [(s[2], s[3], s[4]) for s in steps] == [
        ("1", "current", "mitzeichnung"),
        ("1", "current", "kenntnis"),
        ("2", "future", "schlusszeichnung"),
    ]
    # the deputy of "hund" decides i. V. (the CLI's clock is the real one: from today on)
    added = run("deputy", "add", "bau", "--from", date.today().isoformat(), "--user", "hund")
    assert added.exit_code == 0, added.output
    listed = run("deputy", "list", "--current", "--user", "hund")
    assert "bau" in listed.output and "for hund" in listed.output
    decided = run("route", "decide", steps[0][1], "mitgezeichnet", "--user", "bau")
    assert decided.exit_code == 0, decided.output
    assert "(i. V.)" in run("route", "show", route_uuid, "--user", "sachb").output
    refused = run("route", "decide", steps[0][1], "nicht_mitgezeichnet", "--user", "bau")
    assert refused.exit_code == ExitCode.conflict  # done steps never change
    assert run("deputy", "end", added.output.strip(), "--user", "hund").exit_code == 0
    wv = run(
        "wv",
        "add",
        "--case",
        case.file_reference,
        "--due",
        "2099-01-02",
        "--note",
        "Rückfrage",
        "--user",
        "sachb",
    )
    assert wv.exit_code == 0, wv.output
    assert "2099-01-02  open  Rückfrage" in run("wv", "list", "--user", "sachb").output
    closing = run("case", "close", case.file_reference, "--user", "sachb")
    assert closing.exit_code == ExitCode.conflict
    wv_id = run("wv", "list", "--user", "sachb").output.split()[0]
    assert run("wv", "done", wv_id, "--user", "sachb").exit_code == 0
    recalled = run("route", "recall", route_uuid, "--user", "sachb")
    assert recalled.exit_code == 0 and "recalled" in recalled.output
    assert run("route", "show", route_uuid, "--user", "bau").exit_code == ExitCode.not_found
