"""IMAP accounts a tenant's post arrives in (issue 17), and each message taken from them.

The account's secret (password or XOAUTH2 access token) is kept encrypted with a key derived
from the installation's secret key (``eakte.mailbox.secrets``): it is written once, used by the
worker, never shown or logged again.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from eakte.models.base import Base, CreatedMixin, UuidMixin


class MailSecurity(enum.StrEnum):
    imaps = "imaps"  # TLS from the first byte (port 993)
    starttls = "starttls"  # plain connection upgraded before anything is sent (port 143)


class MailAuth(enum.StrEnum):
    password = "password"  # noqa: S105 (a method's name, not a secret)
    xoauth2 = "xoauth2"


class MailAfter(enum.StrEnum):
    move = "move"  # to ``after_folder``
    flag = "flag"  # set ``after_flag`` (a keyword, or \Seen)


class MailAccount(UuidMixin, CreatedMixin, Base):
    __tablename__ = "mail_account"
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenant.id"), index=True)
    name: Mapped[str] = mapped_column(String(80))  # e.g. "gewerbe"
    host: Mapped[str] = mapped_column(String(255))
    port: Mapped[int] = mapped_column(Integer)
    security: Mapped[str] = mapped_column(String(20), default=MailSecurity.imaps.value)
    auth: Mapped[str] = mapped_column(String(20), default=MailAuth.password.value)
    username: Mapped[str] = mapped_column(String(255))
    secret_encrypted: Mapped[str] = mapped_column(Text, default="")
    # a CA bundle to trust instead of the system's (a municipal server's own CA); "" = system
    ca_file: Mapped[str] = mapped_column(String(1024), default="")
    inbox_org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"))
    folders: Mapped[str] = mapped_column(String(1000), default="INBOX")  # comma-separated
    after_action: Mapped[str] = mapped_column(String(10), default=MailAfter.move.value)
    after_folder: Mapped[str] = mapped_column(String(255), default="eAkte")
    after_flag: Mapped[str] = mapped_column(String(100), default="$eAkte")
    sender_filter: Mapped[str] = mapped_column(String(500), default="")  # substring, any of ,
    subject_filter: Mapped[str] = mapped_column(String(500), default="")
    poll_minutes: Mapped[int] = mapped_column(Integer, default=5)
    active: Mapped[bool] = mapped_column(default=True)
    last_run_at: Mapped[datetime | None]
    last_error: Mapped[str] = mapped_column(String(1000), default="")

    @property
    def folder_list(self) -> list[str]:
        return [f.strip() for f in self.folders.split(",") if f.strip()]


class MailFetch(Base):
    """One message taken from an account: where it was (folder, UIDVALIDITY, UID), what it
    became, and whether the after-action is done. Written in the intake's commit's wake, so a
    crash between storing and moving is finished by the next run (found by its source key)."""

    __tablename__ = "mail_fetch"
    __table_args__ = (UniqueConstraint("account_id", "message_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("mail_account.id"), index=True)
    message_key: Mapped[str] = mapped_column(String(64))  # sha256 of Message-ID + bytes
    message_id: Mapped[str] = mapped_column(String(500), default="")
    folder: Mapped[str] = mapped_column(String(255), default="")
    uid: Mapped[int] = mapped_column(Integer, default=0)
    outcome: Mapped[str] = mapped_column(String(20), default="")
    reason: Mapped[str] = mapped_column(String(500), default="")
    document_id: Mapped[int | None] = mapped_column(ForeignKey("document.id"))
    quarantined_file_id: Mapped[int | None] = mapped_column(ForeignKey("quarantined_file.id"))
    fetched_at: Mapped[datetime]
    settled: Mapped[bool] = mapped_column(default=False)  # moved / flagged on the server
