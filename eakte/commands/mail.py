"""``eakte mail``: the IMAP accounts of the mail intake (issue 17)."""

from __future__ import annotations

import sys

import click

from eakte.commands.common import acting_user, load_settings, tenant_option, user_option
from eakte.errors import BadInput, ExitCode
from eakte.ingest import imap
from eakte.runtime import open_runtime
from eakte.services import mail_accounts

WHO = "an administrator or a records officer"


@click.group("mail")
def mail_group() -> None:
    """IMAP accounts whose mail is taken into an inbox (issue 17)."""


@mail_group.command("add")
@click.argument("name")
@click.option("--host", required=True, help="IMAP server.")
@click.option("--port", type=int, default=None, help="Default: 993 (imaps) or 143 (starttls).")
@click.option(
    "--security", type=click.Choice(["imaps", "starttls"]), default="imaps", show_default=True
)
@click.option(
    "--auth",
    type=click.Choice(["password", "xoauth2"]),
    default="password",
    show_default=True,
    help="xoauth2: the secret is an OAuth 2 access token.",
)
@click.option("--login", "login", required=True, help="The account's user name on the server.")
@click.option(
    "--secret-stdin",
    is_flag=True,
    help="Read the password (or token) from stdin; otherwise it is asked for, hidden.",
)
@click.option("--inbox", required=True, help="Org unit code whose inbox receives the mail.")
@click.option(
    "--folders", default="INBOX", show_default=True, help="Folders read, comma-separated."
)
@click.option(
    "--after",
    "after_action",
    type=click.Choice(["move", "flag"]),
    default="move",
    show_default=True,
    help="What is done on the server once a message is stored.",
)
@click.option("--after-folder", default="eAkte", show_default=True, help="Folder moved to.")
@click.option("--after-flag", default="$eAkte", show_default=True, help="Flag set (or \\Seen).")
@click.option("--sender", "sender_filter", default="", help="Only senders containing any of these.")
@click.option(
    "--subject", "subject_filter", default="", help="Only subjects containing any of these."
)
@click.option("--poll-minutes", type=int, default=5, show_default=True, help="Poll interval.")
@click.option("--ca-file", default="", help="CA certificates to trust instead of the system's.")
@click.option("--replace", is_flag=True, help="Change the account of that name (secret too).")
@tenant_option
@user_option(who=WHO)
def mail_add(name, secret_stdin, replace, tenant, username, login, **options):
    """Add IMAP account NAME; its secret is stored encrypted and never shown again."""
    if secret_stdin:
        secret = sys.stdin.readline().rstrip("\n")
    else:
        secret = click.prompt(f"Secret of {login}", hide_input=True, err=True)
    if not secret:
        raise BadInput("the account's secret is empty")
    settings = load_settings()
    spec = mail_accounts.AccountSpec(name=name, username=login, **options)
    with open_runtime(settings) as rt, rt.session() as session:
        actor = acting_user(session, tenant, username)
        account = mail_accounts.add_account(session, actor, settings, spec, secret, replace=replace)
        click.echo(
            f"mail account {account.name}: {account.username}@{account.host}:{account.port} "
            f"({account.security}) → inbox {spec.inbox}, every {account.poll_minutes} min"
        )


@mail_group.command("list")
@tenant_option
@user_option(who=WHO)
def mail_list(tenant, username):
    """List the IMAP accounts (the secrets are not shown)."""
    with open_runtime(load_settings()) as rt, rt.session() as session:
        actor = acting_user(session, tenant, username)
        for a in mail_accounts.list_accounts(session, actor):
            state = "active" if a.active else "inactive"
            last = a.last_run_at.isoformat(timespec="minutes") if a.last_run_at else "never"
            click.echo(
                f"{a.name:16} {a.username}@{a.host}:{a.port} {a.security} {a.auth} "
                f"folders={a.folders} after={a.after_action}:"
                f"{a.after_folder if a.after_action == 'move' else a.after_flag} "
                f"every {a.poll_minutes} min, {state}, last run {last}"
                + (f", error: {a.last_error}" if a.last_error else "")
            )


@mail_group.command("test")
@click.argument("name")
@tenant_option
@user_option(who=WHO)
def mail_test(name, tenant, username):
    """Sign in to account NAME and count the messages waiting in its folders."""
    settings = load_settings()
    with open_runtime(settings) as rt, rt.session() as session:
        actor = acting_user(session, tenant, username)
        account = mail_accounts.get_account(session, actor, name)
        secret = mail_accounts.secret_of(settings, account)
        for folder, count in imap.folder_counts(account, secret).items():
            click.echo(f"{folder}: {count} messages")


@mail_group.command("run")
@click.argument("names", nargs=-1)
@tenant_option
@user_option(who=WHO)
def mail_run(names, tenant, username):
    """Take in the mail of accounts NAMES (default: every active account) now."""
    settings = load_settings()
    with open_runtime(settings) as rt, rt.session() as session:
        actor = acting_user(session, tenant, username)
        accounts = [mail_accounts.get_account(session, actor, n) for n in names] or [
            a for a in mail_accounts.list_accounts(session, actor) if a.active
        ]
        done = mail_accounts.run_accounts(
            session, rt.store, settings, [a.id for a in accounts], enqueue=rt.jobs.enqueue
        )
    failed = False
    for name, report in done.items():
        if isinstance(report, str):
            failed = True
            click.echo(f"{name}: failed: {report}", err=True)
            continue
        click.echo(
            f"{name}: {report.accepted} taken in, {report.duplicate} duplicates, "
            f"{report.existing} taken before, {report.quarantined} quarantined, "
            f"{report.filtered} left by the filters, {report.settled} moved or flagged"
        )
        for reason in report.reasons:
            click.echo(f"  quarantined {reason}")
    if failed:
        raise SystemExit(ExitCode.storage_unavailable)


@mail_group.command("disable")
@click.argument("name")
@tenant_option
@user_option(who=WHO)
def mail_disable(name, tenant, username):
    """Stop polling account NAME (``eakte mail add --replace`` enables it again)."""
    with open_runtime(load_settings()) as rt, rt.session() as session:
        actor = acting_user(session, tenant, username)
        mail_accounts.set_active(session, actor, name, False)
        click.echo(f"mail account {name}: disabled")


COMMANDS: list[click.Command] = [mail_group]
