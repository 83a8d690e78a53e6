"""Mail from IMAP accounts (issue 17) against a real Dovecot: taken in once, moved or flagged
only after the commit, encrypted and oversized mail quarantined, filters, a crash between
storing and moving, and a server killed in the middle of a fetch."""

from __future__ import annotations

import imaplib

import pytest
from sqlalchemy import func, select

from eakte.errors import MailServerError
from eakte.ingest import imap as imap_intake
from eakte.ingest.reasons import Reason
from eakte.models import Document
from eakte.models.ingest import QuarantinedFile
from eakte.models.mail import MailMessage
from eakte.models.mail_accounts import MailAccount, MailFetch
from eakte.services import mail_accounts
from tests.fixtures.app import replace_settings
from tests.fixtures.dovecot import PASSWORD, USER, Dovecot
from tests.ingest.mails import letter, smime, with_attachments


def _letters(count: int, prefix: str = "Antrag") -> list[bytes]:
    return [
        letter(f"{prefix} {n}", f"Sehr geehrte Damen und Herren, Nr. {n}\n").as_bytes()
        for n in range(count)
    ]


def _account(world, dovecot: Dovecot, **changes) -> MailAccount:
    spec = mail_accounts.AccountSpec(
        name=changes.pop("name", "gewerbe"),
        host="127.0.0.1",
        port=changes.pop("port", dovecot.imaps_port),
        username=USER,
        inbox="32",
        ca_file=str(dovecot.ca_file),
        **changes,
    )
    with world.session() as s:
        return mail_accounts.add_account(s, world.officer, world.rt.settings, spec, PASSWORD)


def _run(world, account, settings=None, **kwargs) -> imap_intake.RunReport:
    settings = settings or world.rt.settings
    with world.session() as s:
        found = s.get_one(MailAccount, account.id)
        secret = mail_accounts.secret_of(settings, found)
        return imap_intake.run_account(
            s, world.rt.store, settings, account.id, secret, sleep=lambda _: None, **kwargs
        )


def _messages(world) -> list[str]:
    with world.session() as s:
        return sorted(s.scalars(select(MailMessage.subject)))


def _count(world, model) -> int:
    with world.session() as s:
        return s.scalar(select(func.count()).select_from(model))


def test_messages_taken_in_once_then_moved(world, dovecot):
    dovecot.append(*_letters(3), with_attachments().as_bytes())
    account = _account(world, dovecot)
    report = _run(world, account)
    assert (report.accepted, report.settled, report.quarantined) == (4, 4, 0)
    assert _messages(world) == [  # the forwarded message inside one is a message too
        "Antrag 0",
        "Antrag 1",
        "Antrag 2",
        "Antrag mit Anlagen",
        "Weitergeleitet: Stellungnahme Bauamt",
    ]
    assert dovecot.count("INBOX") == 0 and dovecot.count("eAkte") == 4
    with world.session() as s:
        doc = s.scalar(select(Document).join(MailMessage).where(MailMessage.subject == "Antrag 1"))
        assert doc.inbox_org_unit_id is not None and doc.process_id is None
        assert "juergen.mueller@example.de" in doc.correspondent
        assert s.scalar(select(func.count()).where(MailFetch.settled.is_(True))) == 4
    documents = _count(world, Document)  # the attachments are documents too
    assert documents == 4 + 4  # PDF, PNG, the forwarded message and its PDF (zip quarantined)
    # nothing new on the server: nothing new here; the same mail again (another folder): once
    assert _run(world, account).accepted == 0
    dovecot.append(_letters(1)[0])
    again = _run(world, account)
    assert (again.accepted, again.existing, again.settled) == (0, 1, 1)
    assert _count(world, Document) == documents


def test_encrypted_and_oversized_mail_quarantined_with_reasons(world, dovecot):
    big = letter("Große Pläne", "x" * 1_200_000 + "\n").as_bytes()
    dovecot.append(smime(), big, _letters(1)[0])
    account = _account(world, dovecot)
    settings = replace_settings(world.rt.settings, max_upload_mb=1)
    report = _run(world, account, settings)
    assert (report.accepted, report.quarantined, report.settled) == (1, 2, 3)
    with world.session() as s:
        reasons = sorted(s.scalars(select(QuarantinedFile.reason_code)))
        assert reasons == sorted([Reason.mail_encrypted.value, Reason.too_large.value])
        fetched = {f.outcome for f in s.scalars(select(MailFetch))}
        assert fetched == {"accepted", "quarantined"}
    assert dovecot.count("INBOX") == 0  # quarantined is taken too: it is kept here
    assert _run(world, account, settings).quarantined == 0


def test_filters_and_flag_instead_of_move(world, dovecot):
    other = letter("Newsletter", "Werbung\n")
    other.replace_header("From", "news@shop.example")
    dovecot.append(*_letters(2), other.as_bytes())
    account = _account(
        world,
        dovecot,
        sender_filter="example.de, usingen.example",
        after_action="flag",
        after_flag="$eAkte",
    )
    report = _run(world, account)
    assert (report.accepted, report.filtered, report.settled) == (2, 1, 2)
    assert dovecot.count("INBOX") == 3 and dovecot.flagged("INBOX", "$eAkte") == 2
    again = _run(world, account)  # flagged ones are not read again; the filtered one stays
    assert (again.accepted, again.existing, again.filtered) == (0, 0, 1)


def test_crash_between_store_and_move_takes_each_once(world, dovecot, monkeypatch):
    dovecot.append(*_letters(5))
    account = _account(world, dovecot)
    real_settle = imap_intake._settle

    def crash(*args, **kwargs):
        raise RuntimeError("the worker died after the commit, before the move")

    monkeypatch.setattr(imap_intake, "_settle", crash)
    with pytest.raises(RuntimeError):
        _run(world, account)
    assert _count(world, MailMessage) == 5 and dovecot.count("INBOX") == 5  # stored, not moved
    monkeypatch.setattr(imap_intake, "_settle", real_settle)
    report = _run(world, account)  # the restart
    assert (report.accepted, report.existing, report.settled) == (0, 5, 5)
    assert _count(world, MailMessage) == 5 and _count(world, MailFetch) == 5
    assert dovecot.count("INBOX") == 0 and dovecot.count("eAkte") == 5


def test_server_killed_mid_fetch_every_mail_once(world, dovecot, monkeypatch):
    """The server dies while a batch of bodies is being fetched (after an earlier batch was
    stored and moved, and with one stored but not moved); it comes back, the run goes on."""
    monkeypatch.setattr(imap_intake, "BATCH_MESSAGES", 3)
    dovecot.append(*_letters(8))
    account = _account(world, dovecot)
    body_fetches, killed = [], []

    def connector(account, secret):
        imap = imap_intake.connect(account, secret)
        real_uid, real_read = imap.uid, imap.read

        def uid(command, *args):
            if command == "FETCH" and "BODY.PEEK[]" in args[-1]:
                body_fetches.append(args)
            return real_uid(command, *args)

        def read(size):
            if len(body_fetches) == 2 and not killed:
                # the second batch: half of a message read, then the server is killed and
                # the socket dies under imaplib (what it raises for a lost connection)
                real_read(size // 2)
                killed.append(1)
                dovecot.stop()
                imap.sock.close()
                raise imaplib.IMAP4.abort("socket error: EOF")
            return real_read(size)

        imap.uid, imap.read = uid, read
        return imap

    restarts = []

    def sleep(_seconds):
        if dovecot.proc is None:
            dovecot.start()
            restarts.append(1)

    with world.session() as s:
        secret = mail_accounts.secret_of(world.rt.settings, s.get_one(MailAccount, account.id))
        report = imap_intake.run_account(
            s, world.rt.store, world.rt.settings, account.id, secret,
            connector=connector, sleep=sleep,
        )  # fmt: skip
    assert restarts == [1] and report.reconnects >= 1
    assert report.accepted == 8 and report.settled == 8
    assert _count(world, MailMessage) == 8 and _count(world, MailFetch) == 8
    assert dovecot.count("INBOX") == 0 and dovecot.count("eAkte") == 8


def test_server_away_gives_up_after_backoff(world, dovecot):
    account = _account(world, dovecot)
    dovecot.stop()
    waits = []
    with world.session() as s:
        secret = mail_accounts.secret_of(world.rt.settings, s.get_one(MailAccount, account.id))
        with pytest.raises(MailServerError):
            imap_intake.run_account(
                s, world.rt.store, world.rt.settings, account.id, secret, sleep=waits.append
            )
        assert "connection lost" in s.get_one(MailAccount, account.id).last_error
    assert waits == [2.0, 4.0, 8.0, 16.0]  # backoff, then the error is kept on the account


def test_secret_stored_encrypted_never_shown(world, dovecot):
    account = _account(world, dovecot)
    with world.session() as s:
        row = s.get_one(MailAccount, account.id)
        assert PASSWORD not in row.secret_encrypted
        assert mail_accounts.secret_of(world.rt.settings, row) == PASSWORD
        from eakte.models import AuditEvent

        trail = " ".join(str(e.details) for e in s.scalars(select(AuditEvent)))
        assert "mail_account" in " ".join(s.scalars(select(AuditEvent.action)))
        assert PASSWORD not in trail
    other = replace_settings(world.rt.settings, secret_key="another-installation-key")
    with world.session() as s, pytest.raises(Exception, match="cannot be decrypted"):
        mail_accounts.secret_of(other, s.get_one(MailAccount, account.id))


def test_wrong_password_and_starttls(world, dovecot):
    account = _account(world, dovecot, security="starttls", port=dovecot.imap_port)
    with world.session() as s:
        row = s.get_one(MailAccount, account.id)
        assert imap_intake.folder_counts(row, PASSWORD) == {"INBOX": 0}
        with pytest.raises(MailServerError, match="refused"):
            imap_intake.folder_counts(row, "wrong")


def test_clerk_may_not_keep_accounts(world, dovecot):
    from eakte.errors import PermissionDenied

    with world.session() as s, pytest.raises(PermissionDenied):
        mail_accounts.list_accounts(s, world.clerk)


def test_xoauth2_and_folder_names():
    assert imap_intake.xoauth2("a@b.de", "tok") == b"user=a@b.de\x01auth=Bearer tok\x01\x01"
    assert imap_intake.utf7("Anträge") == '"Antr&AOQ-ge"'
    assert imap_intake.utf7("A&B") == '"A&-B"'
    assert isinstance(imaplib.IMAP4.abort("x"), imap_intake.CONNECTION_ERRORS)


def test_worker_polls_each_account_by_its_interval(world, dovecot):
    """The periodic task (as the worker runs it): due accounts read, others left for later;
    a refusing account does not stop the others."""
    from datetime import timedelta

    from eakte.jobs import mail_tasks
    from eakte.models.base import utcnow

    dovecot.append(*_letters(2))
    good = _account(world, dovecot, poll_minutes=5)
    broken = _account(world, dovecot, name="bauamt")
    with world.session() as s, s.begin():
        s.get_one(MailAccount, broken.id).secret_encrypted = mail_accounts.seal(
            world.rt.settings, "falsch"
        )
    task = world.rt.jobs.periodic["poll_mail_accounts"].task_class()
    assert task.validate_datetime(utcnow().replace(tzinfo=None))  # every minute
    assert mail_tasks.poll_mail_accounts(world.rt, world.rt.jobs.huey) == 2
    assert _count(world, MailMessage) == 2
    with world.session() as s:
        assert "refused" in s.get_one(MailAccount, broken.id).last_error
        assert s.get_one(MailAccount, good.id).last_error == ""
        assert mail_accounts.due_accounts(s) == []
        later = utcnow() + timedelta(minutes=5)
        assert mail_accounts.due_accounts(s, later) == [good.id, broken.id]
    assert world.rt.jobs.pending_count() >= 2  # the documents' processing was queued


def test_cli_add_list_test_run(world, dovecot, env):
    from tests.fixtures.cli import eakte

    added = eakte(
        "mail", "add", "gewerbe", "--host", "127.0.0.1", "--port", str(dovecot.imaps_port),
        "--login", USER, "--secret-stdin", "--inbox", "32", "--ca-file", str(dovecot.ca_file),
        "--user", "registratur", stdin=PASSWORD + "\n",
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    listed = eakte("mail", "list", "--user", "registratur")
    assert "gewerbe@127.0.0.1" in listed.stdout and PASSWORD not in listed.stdout + added.stdout
    dovecot.append(*_letters(2))
    tested = eakte("mail", "test", "gewerbe", "--user", "admin")
    assert tested.stdout.strip() == "INBOX: 2 messages", tested.stderr
    ran = eakte("mail", "run", "--user", "registratur")
    assert ran.returncode == 0 and "gewerbe: 2 taken in" in ran.stdout, ran.stderr
    assert _count(world, MailMessage) == 2 and dovecot.count("eAkte") == 2
    refused = eakte("mail", "list", "--user", "sachb")
    assert refused.returncode == 8  # a clerk keeps no accounts
    dovecot.stop()
    away = eakte("mail", "run", "gewerbe", "--user", "registratur")
    assert away.returncode == 4 and "failed" in away.stderr
