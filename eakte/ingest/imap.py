"""Mail from IMAP accounts (issue 17): each message taken in once, then moved or flagged.

The order is what makes a crash harmless: a message is read with ``BODY.PEEK`` (the server
marks nothing), stored and committed through the intake, recorded in ``mail_fetch``, and only
then moved to the after-folder or flagged. A crash (or a dropped connection) between commit and
move leaves the message where it was; the next run reads it again, the intake finds its source
key (Message-ID plus the hash of the bytes) and answers ``existing``, and the move follows:
every message exactly once. The same message in two folders, or sent twice with the same
bytes, has the same key.

Oversized messages are not downloaded: their headers are, and they go to quarantine with the
reason; encrypted ones (S/MIME, PGP) are quarantined by the mail reader of the intake. A lost
connection is tried again with backoff; what was committed before stays.
"""

from __future__ import annotations

import hashlib
import imaplib
import logging
import re
import ssl
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.parser import BytesHeaderParser
from email.policy import default as default_policy

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from eakte.config import Settings
from eakte.db import transaction
from eakte.errors import MailServerError
from eakte.ingest import names
from eakte.ingest.intake_context import DocumentMetadata, Outcome
from eakte.ingest.reasons import Reason, Rejected
from eakte.ingest.validate import Limits
from eakte.models.base import utcnow
from eakte.models.mail_accounts import MailAccount, MailAfter, MailAuth, MailFetch, MailSecurity
from storage.blobstore import BlobStore

log = logging.getLogger(__name__)

TIMEOUT_S = 60.0
BATCH_MESSAGES = 50  # bodies fetched per round trip ...
BATCH_BYTES = 32 * 1024 * 1024  # ... and at most this many bytes of them
ATTEMPTS = 5
BACKOFF_S = 2.0
BACKOFF_MAX_S = 60.0
# what a dropped or refused connection raises; anything else is a fault of ours
CONNECTION_ERRORS = (imaplib.IMAP4.abort, OSError, ssl.SSLError, EOFError)

Connect = Callable[[MailAccount, str], imaplib.IMAP4]


@dataclass
class RunReport:
    account: str
    accepted: int = 0
    duplicate: int = 0
    existing: int = 0
    quarantined: int = 0
    filtered: int = 0  # left on the server: the filters did not match
    settled: int = 0  # moved or flagged
    reconnects: int = 0
    reasons: list[str] = field(default_factory=list)

    def count(self, outcome: Outcome) -> None:
        setattr(self, outcome.value, getattr(self, outcome.value) + 1)


# ------------------------------------------------------------------------------ connecting


def tls_context(account: MailAccount) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=account.ca_file or None)


def connect(account: MailAccount, secret: str) -> imaplib.IMAP4:
    """A signed-in connection; TLS always (STARTTLS before the sign-in, never plain)."""
    context = tls_context(account)
    if account.security == MailSecurity.imaps:
        imap: imaplib.IMAP4 = imaplib.IMAP4_SSL(
            account.host, account.port, ssl_context=context, timeout=TIMEOUT_S
        )
    else:
        imap = imaplib.IMAP4(account.host, account.port, timeout=TIMEOUT_S)
        if "STARTTLS" not in imap.capabilities:
            imap.shutdown()
            raise MailServerError(f"{account.host} offers no STARTTLS: not signing in in clear")
        imap.starttls(context)
    try:
        if account.auth == MailAuth.xoauth2:
            imap.authenticate("XOAUTH2", lambda _: xoauth2(account.username, secret))
        else:
            imap.login(account.username, secret)
    except imaplib.IMAP4.error as exc:
        imap.shutdown()
        raise MailServerError(f"{account.host}: sign-in as {account.username} refused") from exc
    return imap


def xoauth2(username: str, token: str) -> bytes:
    """The SASL XOAUTH2 initial response (imaplib base64-encodes it)."""
    return f"user={username}\x01auth=Bearer {token}\x01\x01".encode()


def utf7(folder: str) -> str:
    """A folder name in IMAP's modified UTF-7 (RFC 3501 5.1.3), quoted: "Anträge" too."""
    out, pending = [], ""

    def flush() -> None:
        nonlocal pending
        if pending:
            import base64

            encoded = base64.b64encode(pending.encode("utf-16-be")).rstrip(b"=")
            out.append("&" + encoded.decode().replace("/", ",") + "-")
            pending = ""

    for char in folder:
        if 0x20 <= ord(char) <= 0x7E:
            flush()
            out.append("&-" if char == "&" else char)
        else:
            pending += char
    flush()
    name = "".join(out)
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def folder_counts(account: MailAccount, secret: str, connector: Connect = connect) -> dict:
    """``eakte mail test``: sign in and count the messages of each folder read."""
    imap = _guarded(account, connector, secret)
    try:
        counts = {}
        for folder in account.folder_list:
            typ, data = imap.select(utf7(folder), readonly=True)
            if typ != "OK":
                raise MailServerError(f"{account.name}: folder {folder!r} cannot be opened")
            counts[folder] = int(data[0] or 0)
        return counts
    finally:
        _logout(imap)


def _guarded(account: MailAccount, connector: Connect, secret: str) -> imaplib.IMAP4:
    try:
        return connector(account, secret)
    except CONNECTION_ERRORS as exc:
        raise MailServerError(f"{account.host}:{account.port}: {exc}") from exc


def _logout(imap: imaplib.IMAP4) -> None:
    try:
        imap.logout()
    except Exception:  # a dead connection: nothing more to say to it
        log.debug("logout failed", exc_info=True)


# ------------------------------------------------------------------------------ one run


@dataclass
class _Message:
    uid: bytes
    size: int
    message_id: str = ""
    sender: str = ""
    subject: str = ""


def run_account(
    session: Session,
    store: BlobStore,
    settings: Settings,
    account_id: int,
    secret: str,
    *,
    enqueue: Callable[..., None] | None = None,
    connector: Connect = connect,
    attempts: int = ATTEMPTS,
    sleep: Callable[[float], None] = time.sleep,
) -> RunReport:
    """Take in what waits in the account's folders; a dropped connection is tried again with
    backoff (``attempts`` connections in a row without progress, then ``MailServerError``)."""
    account = session.get_one(MailAccount, account_id)
    session.rollback()  # no transaction held while talking to the server
    report = RunReport(account.name)
    failures = 0
    while True:
        progress = report.settled
        try:
            imap = connector(account, secret)
            try:
                for folder in account.folder_list:
                    _run_folder(session, store, settings, account, imap, folder, report, enqueue)
            finally:
                _logout(imap)
            break
        except CONNECTION_ERRORS as exc:
            failures = 0 if report.settled > progress else failures + 1
            if failures >= attempts:
                _note(session, account_id, f"connection lost {failures} times: {exc}")
                raise MailServerError(f"{account.name}: {exc}") from exc
            report.reconnects += 1
            delay = min(BACKOFF_MAX_S, BACKOFF_S * 2 ** (failures - 1))
            log.warning("mail account %s: %s; again in %.0f s", account.name, exc, delay)
            sleep(delay)
        except MailServerError as exc:
            _note(session, account_id, str(exc))
            raise
    _note(session, account_id, "")
    return report


def _note(session: Session, account_id: int, error: str) -> None:
    with transaction(session):
        session.execute(
            update(MailAccount)
            .where(MailAccount.id == account_id)
            .values(last_run_at=utcnow(), last_error=error[:1000])
        )


def _run_folder(
    session: Session,
    store: BlobStore,
    settings: Settings,
    account: MailAccount,
    imap: imaplib.IMAP4,
    folder: str,
    report: RunReport,
    enqueue: Callable[..., None] | None,
) -> None:
    typ, _ = imap.select(utf7(folder))
    if typ != "OK":
        raise MailServerError(f"{account.name}: folder {folder!r} cannot be opened")
    if account.after_action == MailAfter.move:
        imap.create(utf7(account.after_folder))  # "already exists" is an answer too
        criteria = "ALL"  # what is still here was not taken in
    elif account.after_flag.lower() == "\\seen":
        criteria = "UNSEEN"
    else:
        criteria = f"UNKEYWORD {account.after_flag}"
    typ, data = imap.uid("SEARCH", criteria)
    uids = data[0].split() if typ == "OK" and data and data[0] else []
    limits = Limits.from_settings(settings)
    for chunk_start in range(0, len(uids), BATCH_MESSAGES):
        waiting = _headers(imap, uids[chunk_start : chunk_start + BATCH_MESSAGES])
        taken = [m for m in waiting if _wanted(account, m)]
        report.filtered += len(waiting) - len(taken)
        done: list[bytes] = []
        big = [m for m in taken if m.size > limits.max_bytes]
        for message in big:
            problem = Rejected(
                Reason.too_large,
                f"the message has {message.size} bytes, more than {limits.max_bytes}",
            )
            key = message_key(message.message_id, f"size:{message.size}".encode())
            _take(
                session,
                store,
                settings,
                account,
                folder,
                message,
                b"",
                key,
                problem,
                report,
                enqueue,
            )
            done.append(message.uid)
        for message, raw in _bodies(imap, [m for m in taken if m not in big]):
            key = message_key(message.message_id, raw)
            _take(
                session, store, settings, account, folder, message, raw, key, None, report, enqueue
            )
            done.append(message.uid)
        _settle(session, account, imap, folder, done, report)


def message_key(message_id: str, raw: bytes) -> str:
    """Message-ID and the bytes' hash: one key for the message wherever it is found."""
    digest = hashlib.sha256(raw).hexdigest()
    return hashlib.sha256(f"{message_id.strip()}\n{digest}".encode()).hexdigest()


_FETCH_HEAD = re.compile(rb"UID (\d+)|RFC822\.SIZE (\d+)")


def _fetched(data: list) -> Iterator[tuple[dict[bytes, int], bytes]]:
    """(UID and size, literal) of each message in a FETCH answer."""
    for item in data:
        if isinstance(item, tuple):
            found: dict[bytes, int] = {}
            for uid, size in _FETCH_HEAD.findall(item[0]):
                if uid:
                    found[b"uid"] = int(uid)
                if size:
                    found[b"size"] = int(size)
            yield found, item[1]


def _headers(imap: imaplib.IMAP4, uids: list[bytes]) -> list[_Message]:
    typ, data = imap.uid(
        "FETCH",
        b",".join(uids).decode(),
        "(UID RFC822.SIZE BODY.PEEK[HEADER.FIELDS (MESSAGE-ID FROM SUBJECT)])",
    )
    if typ != "OK":
        raise imaplib.IMAP4.abort(f"FETCH of headers answered {typ}")
    parser = BytesHeaderParser(policy=default_policy)
    found = []
    for head, literal in _fetched(data):
        headers = parser.parsebytes(literal)
        found.append(
            _Message(
                str(head[b"uid"]).encode(),
                head.get(b"size", 0),
                str(headers.get("Message-ID", "") or "")[:500],
                str(headers.get("From", "") or ""),
                str(headers.get("Subject", "") or ""),
            )
        )
    return found


def _wanted(account: MailAccount, message: _Message) -> bool:
    """The filters: any of the comma-separated parts found in sender / subject (case ignored)."""
    for wanted, value in (
        (account.sender_filter, message.sender),
        (account.subject_filter, message.subject),
    ):
        parts = [p.strip().lower() for p in wanted.split(",") if p.strip()]
        if parts and not any(p in value.lower() for p in parts):
            return False
    return True


def _bodies(imap: imaplib.IMAP4, messages: list[_Message]) -> Iterator[tuple[_Message, bytes]]:
    """The messages' bytes, fetched in round trips of at most ``BATCH_BYTES``."""
    batch: list[_Message] = []
    size = 0
    for message in [*messages, None]:
        if message is not None and (not batch or size + message.size <= BATCH_BYTES):
            batch.append(message)
            size += message.size
            continue
        if batch:
            by_uid = {m.uid: m for m in batch}
            typ, data = imap.uid("FETCH", b",".join(by_uid).decode(), "(UID BODY.PEEK[])")
            if typ != "OK":
                raise imaplib.IMAP4.abort(f"FETCH of messages answered {typ}")
            for head, literal in _fetched(data):
                wanted = by_uid.get(str(head.get(b"uid", -1)).encode())
                if wanted is not None:  # vanished in between: the next run sees
                    yield wanted, literal
        batch, size = ([message], message.size) if message is not None else ([], 0)


def _take(
    session: Session,
    store: BlobStore,
    settings: Settings,
    account: MailAccount,
    folder: str,
    message: _Message,
    raw: bytes,
    key: str,
    problem: Rejected | None,
    report: RunReport,
    enqueue: Callable[..., None] | None,
) -> None:
    from eakte.services.intake import ApiClient, IncomingFile, Target, intake

    client = ApiClient(account.tenant_id, f"mail:{account.name}", account.inbox_org_unit_id)
    title = names.sanitise(names.name_bytes(message.subject))[:120] or "Nachricht"
    result = intake(
        session,
        client,
        store,
        IncomingFile(
            data=raw,
            filename=f"{title}.eml",
            metadata=DocumentMetadata(
                title=message.subject[:500], correspondent=message.sender[:200]
            ),
            target=Target(org_unit=account.inbox_org_unit_id),
            method="mail",
            source=f"imap://{account.username}@{account.host}/{folder}",
            source_key=f"imap:{account.uuid}:{key}",
            problem=problem,
        ),
        settings=settings,
        enqueue=enqueue,
    )
    report.count(result.outcome)
    if result.outcome == Outcome.quarantined:
        report.reasons.append(f"{message.subject[:80]!r}: {result.reason}")
    try:
        with transaction(session):
            if (
                session.scalar(
                    select(MailFetch.id).where(
                        MailFetch.account_id == account.id, MailFetch.message_key == key
                    )
                )
                is None
            ):
                session.add(
                    MailFetch(
                        account_id=account.id,
                        message_key=key,
                        message_id=message.message_id,
                        folder=folder[:255],
                        uid=int(message.uid),
                        outcome=result.outcome.value,
                        reason=result.reason[:500],
                        document_id=result.document.id if result.document else None,
                        quarantined_file_id=result.quarantined.id if result.quarantined else None,
                        fetched_at=utcnow(),
                    )
                )
    except IntegrityError:
        session.rollback()  # recorded a moment ago by a parallel run


def _settle(
    session: Session,
    account: MailAccount,
    imap: imaplib.IMAP4,
    folder: str,
    uids: list[bytes],
    report: RunReport,
) -> None:
    """Move or flag what is committed: only now does the server learn it was taken."""
    if not uids:
        return
    uid_set = b",".join(uids).decode()
    if account.after_action == MailAfter.move:
        target = utf7(account.after_folder)
        if "MOVE" in imap.capabilities:
            typ, _ = imap.uid("MOVE", uid_set, target)
        else:
            typ, _ = imap.uid("COPY", uid_set, target)
            if typ == "OK":
                imap.uid("STORE", uid_set, "+FLAGS.SILENT", "(\\Deleted)")
                typ, _ = imap.expunge()
    else:
        typ, _ = imap.uid("STORE", uid_set, "+FLAGS.SILENT", f"({account.after_flag})")
    if typ != "OK":
        raise MailServerError(f"{account.name}: {account.after_action} answered {typ}")
    report.settled += len(uids)
    with transaction(session):
        session.execute(
            update(MailFetch)
            .where(
                MailFetch.account_id == account.id,
                MailFetch.folder == folder[:255],
                MailFetch.uid.in_([int(u) for u in uids]),
                MailFetch.settled.is_(False),
            )
            .values(settled=True)
        )
