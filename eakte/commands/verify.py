"""``eakte verify``: fixity and consistency report."""

from __future__ import annotations

import json

import click

from eakte.commands.common import load_settings
from eakte.errors import VerifyFailed
from eakte.runtime import open_runtime
from eakte.verify import VerifyContext, run_verify, save_report


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def verify(as_json: bool) -> None:
    """Check everything eAkte keeps; exit code 0 only when all is well.

    Hashes every stored object against the database (R18), reports missing and orphaned
    objects, checks the audit trail's hash chain and every anchor of it in the bucket (R20),
    naming the first broken entry or anchor, then anchors the current head; reports data dir
    paths that other users may read.
    """
    settings = load_settings()
    with open_runtime(settings) as rt, rt.session() as session:
        report = run_verify(VerifyContext(session, rt.store, settings))
    save_report(report, settings.data_dir)
    if as_json:
        click.echo(
            json.dumps(
                {
                    "clean": report.clean,
                    "checked": report.checked,
                    "findings": [f.__dict__ for f in report.findings],
                },
                indent=2,
            )
        )
    else:
        for finding in report.findings:
            click.echo(f"{finding.check}: {finding.subject}: {finding.problem}")
        counts = ", ".join(f"{n} {what}" for what, n in report.checked.items())
        click.echo(f"checked {counts}; {len(report.findings)} problem(s)")
    if not report.clean:
        raise VerifyFailed(f"verify found {len(report.findings)} problem(s)")


COMMANDS: list[click.Command] = [verify]
