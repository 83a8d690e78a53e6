"""``eakte doctor``: check an installation and name each problem with its fix (issue 26)."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from dataclasses import asdict

import click

from eakte.commands.common import load_settings
from eakte.config import Settings, environment_with_config_file
from eakte.errors import ExitCode
from eakte.runtime import Runtime, open_runtime
from eakte.services import doctor_checks as checks
from eakte.services import doctor_host as host
from eakte.services.doctor_checks import Finding

_MARK = {"ok": "ok     ", "problem": "PROBLEM", "note": "note   "}


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the findings as JSON.")
@click.option(
    "--url",
    help="The https:// address users open: check what a browser gets there "
    "(TLS, HSTS, Secure cookies, redirects keeping https).",
)
@click.option(
    "--ca-file",
    type=click.Path(exists=True, dir_okay=False),
    help="CA certificate to check --url's certificate against (default: the system's).",
)
def doctor(as_json: bool, url: str | None, ca_file: str | None) -> None:
    """Check this installation; exit code 0 only when all is well.

    Checks: the data dir and secret files are private; the database schema is current; the
    bucket has versioning and Object Lock (default retention not GOVERNANCE) and the newest
    version is COMPLIANCE-locked; the clock is NTP-synchronised (timedatectl, else chronyc,
    else the kernel's adjtimex state); the last backup (eakte backup) and the last fixity check
    (the worker's nightly verify) are recent and succeeded; free disk space covers 90 days of
    the last 30 days' growth; the proxy settings (and with --url what a browser sees); the
    first admin has changed the password eakte init gave it. Each problem is printed with
    its fix.
    """
    settings = load_settings()
    findings = list(run_checks(settings, url, ca_file))
    if as_json:
        body = {
            "ok": not any(f.status == "problem" for f in findings),
            "findings": [asdict(f) for f in findings],
        }
        click.echo(json.dumps(body, ensure_ascii=False, indent=2))
    else:
        for finding in findings:
            click.echo(f"{_MARK[finding.status]} {finding.check}: {finding.detail}")
            if finding.fix:
                click.echo(f"        fix: {finding.fix}")
        problems = sum(f.status == "problem" for f in findings)
        click.echo(f"{problems} problem(s)" if problems else "all is well")
    if any(f.status == "problem" for f in findings):
        raise click.exceptions.Exit(ExitCode.failure)


def run_checks(settings: Settings, url: str | None, ca_file: str | None) -> Iterator[Finding]:
    environ = environment_with_config_file(os.environ)
    yield _guarded("data dir", lambda: [checks.data_dir_private(settings)])
    yield from _guarded_many("secret file", lambda: checks.secret_files(settings, environ))
    yield _guarded("clock", lambda: [host.clock()])
    yield from _guarded_many("proxy", lambda: host.proxy_settings(settings))
    if url:
        yield from _guarded_many("tls", lambda: host.seen_by_browser(url, ca_file))
    else:
        yield checks.note("tls", "not checked: give --url https://… to see what a browser gets")
    yield _guarded("backup", lambda: [checks.last_backup(settings)])
    yield _guarded("fixity", lambda: [checks.last_fixity(settings)])
    try:
        with open_runtime(settings, require_schema=False) as rt:
            yield from _with_runtime(rt)
    except Exception as exc:
        yield checks.problem(
            "database",
            f"the installation could not be opened: {type(exc).__name__}: {exc}",
            "check EAKTE_DATABASE_URL and EAKTE_S3_* in /etc/eakte/eakte.env; run: eakte init",
        )
    yield host.second_factor()


def _with_runtime(rt: Runtime) -> Iterator[Finding]:
    schema_finding = _guarded("database", lambda: [checks.schema_current(rt.engine)])
    yield schema_finding
    if schema_finding.status != "ok":
        return  # the tables the other checks read may not be there
    with rt.session() as session:
        yield _guarded("first admin", lambda: [checks.first_admin_password(session)])
        yield _guarded("disk", lambda: [checks.disk_space(rt.settings, session)])
        yield from _guarded_many("bucket", lambda: checks.bucket_locks(rt.store, session))


def _guarded(name: str, check: Callable[[], list[Finding]]) -> Finding:
    return next(iter(_guarded_many(name, check)))


def _guarded_many(name: str, check: Callable[[], list[Finding]]) -> list[Finding]:
    """A check that fails is a finding, not the end of the report."""
    try:
        return check()
    except Exception as exc:
        return [
            checks.problem(
                name, f"could not be checked: {type(exc).__name__}: {exc}", "see the message"
            )
        ]


COMMANDS: list[click.Command] = [doctor]
