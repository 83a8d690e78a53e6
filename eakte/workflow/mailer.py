"""Delivering the notices (outbox) by SMTP (``EAKTE_SMTP_*``; off without a host).

Each notice is marked sent only after the server took it; a failure counts an attempt and
keeps it for the next run (at most ``MAX_ATTEMPTS``), so a mail server that is away loses
nothing. The password is never logged; mails carry German text and links, no content."""

from __future__ import annotations

import contextlib
import logging
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from sqlalchemy import select
from sqlalchemy.orm import Session

from eakte.config import SmtpSettings
from eakte.db import transaction
from eakte.models.workflow import MailAddress, Notice
from eakte.workflow import clock

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 10
BATCH = 200  # notices per connection and transaction
TIMEOUT_S = 30


def _message(smtp: SmtpSettings, subject: str, body: str, address: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = smtp.sender
    message["To"] = address
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=smtp.sender.rpartition("@")[2] or "eakte")
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies to it
    message.set_content(body.replace("{base_url}", smtp.base_url))
    return message


def _connect(smtp: SmtpSettings) -> smtplib.SMTP:
    client = smtplib.SMTP(smtp.host, smtp.port, timeout=TIMEOUT_S)
    if smtp.starttls:
        client.starttls(context=ssl.create_default_context())
    if smtp.user:
        client.login(smtp.user, smtp.password)
    return client


def send_pending(session: Session, smtp: SmtpSettings, limit: int = 5000) -> int:
    """Send what is queued; returns how many were sent. Does nothing when mail is off.

    The batch is read, sent, then marked: no database transaction stays open while the mail
    server answers (a crash in between sends a mail twice rather than never)."""
    if not smtp.enabled:
        return 0
    sent = 0
    while sent < limit:
        batch = session.execute(
            select(Notice.id, Notice.subject, Notice.body, MailAddress.address)
            .join(MailAddress, MailAddress.user_id == Notice.user_id)
            .where(Notice.sent_at.is_(None), Notice.attempts < MAX_ATTEMPTS)
            .order_by(Notice.id)
            .limit(BATCH)
        ).all()
        session.rollback()  # end the read before talking to the mail server
        if not batch:
            break
        outcome: dict[int, str] = {}  # notice id -> "" (sent) or the error
        try:
            client = _connect(smtp)
        except (OSError, smtplib.SMTPException) as exc:
            log.warning("mail server %s:%s unreachable: %s", smtp.host, smtp.port, exc)
            outcome = {row.id: f"connect: {type(exc).__name__}" for row in batch}
        else:
            try:
                for row in batch:
                    try:
                        client.send_message(_message(smtp, row.subject, row.body, row.address))
                        outcome[row.id] = ""
                    except (OSError, smtplib.SMTPException) as exc:
                        outcome[row.id] = f"{type(exc).__name__}: {str(exc)[:200]}"
                        log.warning("notice %s not sent: %s", row.id, type(exc).__name__)
            finally:
                with contextlib.suppress(OSError, smtplib.SMTPException):
                    client.quit()
        with transaction(session):
            now = clock.now(session)
            for notice in session.scalars(select(Notice).where(Notice.id.in_(list(outcome)))):
                if outcome[notice.id]:
                    notice.attempts += 1
                    notice.last_error = outcome[notice.id]
                else:
                    notice.sent_at = now
        done = sum(1 for error in outcome.values() if not error)
        sent += done
        if done < len(batch) or len(batch) < BATCH:
            break
    return sent
