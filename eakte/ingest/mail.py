"""Mail files (.eml, Outlook .msg): recognised by their structure, bounded, read into one
``Message`` (headers, body text, attachments).

Pure functions over bytes, no database: the intake (``mail_intake``: one document for the
message, one for each attachment) and the worker (``mail_render``: the PDF/A of the message)
both read a message through ``parse``, and so will the IMAP intake (issue 17).

Bounds are checked before the work they bound: the size before anything is parsed, the header
block and a cheap count of MIME boundaries before the parser runs, the parts, nesting and
attachments of the parsed tree before any attachment is taken in. Encrypted mail (S/MIME
enveloped, PGP) cannot be read without a key eAkte does not have: it is rejected with that
reason and kept in quarantine.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from email import policy
from email.message import EmailMessage
from email.message import Message as LegacyMessage
from email.parser import BytesParser
from email.utils import getaddresses, parsedate_to_datetime
from pathlib import Path
from typing import cast

from eakte.ingest.html_text import html_to_text
from eakte.ingest.reasons import Reason, Rejected

EML_MIME = "message/rfc822"
MSG_MIME = "application/vnd.ms-outlook"
KINDS = {EML_MIME: "eml", MSG_MIME: "msg"}
MAIL_KINDS = frozenset(KINDS.values())
# What libmagic calls a mail file it does not recognise as one (many .eml: text/plain or html).
_TEXT_GUESSES = ("text/", "message/", "application/octet-stream")
_OLE_GUESSES = (MSG_MIME, "application/CDFV2", "application/x-ole-storage", "application/cdfv2")

# A header block: the field names a mail has, at least two of them, before the first blank line.
_MAIL_FIELDS = {"from", "date", "subject", "message-id", "mime-version", "received"}
_FIELD = re.compile(rb"^([!-9;-~]+)[ \t]*:")
_BOUNDARY_LINE = re.compile(rb"^--", re.MULTILINE)
# Parts that sign a message rather than carry content: listed, kept in the original, not
# taken in as documents of their own.
SIGNATURE_TYPES = {
    "application/pkcs7-signature",
    "application/x-pkcs7-signature",
    "application/pgp-signature",
}
ENCRYPTED_TYPES = {"application/pkcs7-mime", "application/x-pkcs7-mime", "multipart/encrypted"}
_PGP_ARMOUR = b"-----BEGIN PGP MESSAGE-----"


@dataclass(frozen=True)
class MailLimits:
    max_bytes: int = 64 * 1024 * 1024  # a message parsed in memory: bounded apart from files
    max_header_bytes: int = 256 * 1024  # the header block of the message (and of each part)
    max_parts: int = 500  # MIME parts (OLE streams for .msg) in the whole message
    max_attachments: int = 200
    max_depth: int = 12  # multipart inside multipart
    max_nested_messages: int = 3  # a message attached to a message attached to …
    max_body_chars: int = 1_000_000  # of the rendition's text (the original keeps all)


@dataclass
class Attachment:
    index: int  # 1-based, in the order of the message: part of the attachment's source key
    filename: str
    mime: str  # as the message declares it (the intake detects the content itself)
    data: bytes = field(repr=False)
    signature: bool = False  # a signature part: listed, not taken in


@dataclass
class Message:
    kind: str  # eml or msg
    subject: str = ""
    sender: str = ""
    to: str = ""
    cc: str = ""
    date: datetime | None = None
    date_text: str = ""
    message_id: str = ""
    body: str = ""
    body_from_html: bool = False
    attachments: list[Attachment] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what the reader should know (English)

    def header_rows(self) -> list[tuple[str, str]]:
        rows = [
            ("From", self.sender),
            ("To", self.to),
            ("Cc", self.cc),
            ("Date", self.date_text),
            ("Subject", self.subject),
            ("Message-ID", self.message_id),
        ]
        return [(label, value) for label, value in rows if value]

    @property
    def documents(self) -> list[Attachment]:
        """The attachments that become documents of their own."""
        return [a for a in self.attachments if not a.signature]


# ------------------------------------------------------------------------------ detection


def refine_mime(path: Path, head: bytes, guess: str) -> str:
    """libmagic's guess, corrected by structure: a header block makes a mail (whatever libmagic
    said about text), an OLE file with Outlook's streams a .msg (and one without them not)."""
    if guess in _OLE_GUESSES:
        from eakte.ingest.msg import is_outlook_message

        if is_outlook_message(path):
            return MSG_MIME
        return "application/x-ole-storage" if guess == MSG_MIME else guess
    if guess.startswith(_TEXT_GUESSES) and looks_like_mail(head):
        return EML_MIME
    return guess


def looks_like_mail(head: bytes) -> bool:
    """Header lines (or their continuations) up to the first blank line, among them at least
    two of From, Date, Subject, Message-ID, MIME-Version, Received."""
    end = _header_end(head)
    if end is None:
        return False
    seen: set[str] = set()
    lines = head[:end].splitlines()
    if lines and lines[0].startswith(b"From "):  # an mbox "From " line before the headers
        lines = lines[1:]
    for number, line in enumerate(lines):
        if line[:1] in (b" ", b"\t") and number:
            continue
        match = _FIELD.match(line)
        if match is None:
            return False
        seen.add(match.group(1).decode("ascii").lower())
    return len(seen & _MAIL_FIELDS) >= 2


def _header_end(data: bytes, window: int = 1 << 20) -> int | None:
    """Offset of the blank line that ends the header block (None: none within ``window``)."""
    found = [
        i for i in (data.find(b"\n\n", 0, window), data.find(b"\r\n\r\n", 0, window)) if i >= 0
    ]
    return min(found) if found else None


# ---------------------------------------------------------------------------------- parse


def inspect_message(path: Path, kind: str, limits: MailLimits) -> Message:
    """The checks of ``validate`` for a mail file: raises ``Rejected`` or returns the message."""
    size = path.stat().st_size
    if size > limits.max_bytes:
        raise Rejected(
            Reason.too_large,
            f"the message has {size:,} bytes; messages are read up to {limits.max_bytes:,} bytes",
        )
    return parse(path.read_bytes(), kind, limits)


def parse(raw: bytes, kind: str, limits: MailLimits, depth: int = 0) -> Message:
    """The message in ``raw`` (an .eml or .msg), within ``limits``; ``Rejected`` if it is
    beyond them, encrypted or unreadable."""
    if len(raw) > limits.max_bytes:
        raise Rejected(Reason.too_large, f"the message is larger than {limits.max_bytes:,} bytes")
    if kind == "msg":
        from eakte.ingest.msg import parse_msg

        return parse_msg(raw, limits, depth)
    return parse_eml(raw, limits, depth)


def parse_eml(raw: bytes, limits: MailLimits, depth: int = 0) -> Message:
    end = _header_end(raw, limits.max_header_bytes + 4)
    if end is None and len(raw) > limits.max_header_bytes:
        raise Rejected(
            Reason.mail_too_complex,
            f"the message's header block is longer than {limits.max_header_bytes:,} bytes",
        )
    # Every part begins at a boundary line: more of them than parts allowed (twice, for the
    # closing lines and the odd "-- " signature) stops the parser before it builds them.
    if len(_BOUNDARY_LINE.findall(raw)) > 2 * limits.max_parts + 10:
        raise Rejected(
            Reason.mail_too_complex, f"the message has more than {limits.max_parts} MIME parts"
        )
    try:
        parsed = BytesParser(policy=policy.default).parsebytes(raw)
    except Exception as exc:  # the parser is lenient; anything raised means: unreadable
        raise Rejected(Reason.mail_damaged, f"the message cannot be parsed: {exc}") from None
    reader = _EmlReader(limits, depth)
    try:
        return reader.read(parsed)
    except (Rejected, MemoryError):
        raise
    except Exception as exc:
        # header or content the email package cannot decode (a broken encoded word, …):
        # whatever it raises, the message goes to quarantine with a reason
        raise Rejected(Reason.mail_damaged, f"the message cannot be read: {exc}") from None


class _EmlReader:
    def __init__(self, limits: MailLimits, depth: int):
        self.limits = limits
        self.depth = depth  # messages around this one
        self.parts = 0
        self.message = Message(kind="eml")
        self.body_part: EmailMessage | None = None

    def read(self, parsed: EmailMessage) -> Message:
        message = self.message
        message.subject = _header(parsed, "subject")
        message.sender = _header(parsed, "from")
        message.to = _header(parsed, "to")
        message.cc = _header(parsed, "cc")
        message.message_id = _header(parsed, "message-id").strip()[:500]
        message.date_text = _header(parsed, "date")
        message.date = _date(message.date_text)
        self._check_headers(parsed)
        self._walk(parsed, 0)
        if self.body_part is not None:
            message.body = _text_of(self.body_part)
            if self.body_part.get_content_type() == "text/html":
                message.body, message.body_from_html = html_to_text(message.body), True
        if _PGP_ARMOUR.decode() in message.body:
            raise Rejected(Reason.mail_encrypted, "the message is PGP-encrypted (inline)")
        documents = message.documents
        if len(documents) > self.limits.max_attachments:
            raise Rejected(
                Reason.mail_too_complex,
                f"the message has {len(documents)} attachments; at most "
                f"{self.limits.max_attachments} are taken in",
            )
        return message

    def _check_headers(self, part: LegacyMessage) -> None:
        size = sum(len(k) + len(str(v)) + 4 for k, v in part.raw_items())
        if size > self.limits.max_header_bytes:
            raise Rejected(
                Reason.mail_too_complex,
                f"a header block is longer than {self.limits.max_header_bytes:,} bytes",
            )

    def _walk(self, part: EmailMessage, level: int) -> None:
        self.parts += 1
        if self.parts > self.limits.max_parts:
            raise Rejected(
                Reason.mail_too_complex,
                f"the message has more than {self.limits.max_parts} MIME parts",
            )
        if level > self.limits.max_depth:
            raise Rejected(
                Reason.mail_too_complex,
                f"the message's parts are nested more than {self.limits.max_depth} levels deep",
            )
        if level:
            self._check_headers(part)
        ctype = part.get_content_type()
        if ctype in ENCRYPTED_TYPES:
            param = part.get_param("smime-type")  # a tuple when RFC 2231-encoded: not "signed"
            smime = param.lower() if isinstance(param, str) else ""
            what = "S/MIME-signed in an opaque form" if smime == "signed-data" else "encrypted"
            raise Rejected(Reason.mail_encrypted, f"the message is {what} ({ctype})")
        if ctype == "message/rfc822":  # before is_multipart: its payload is the message
            self._nested(part)
            return
        if part.is_multipart():
            # a multipart's payload is the list of its parts, each an EmailMessage (our policy)
            children = cast(list[EmailMessage], part.get_payload())
            if ctype == "multipart/alternative":
                self._alternative(children, level)
                return
            for child in children:
                self._walk(child, level + 1)
            return
        if (
            self.body_part is None
            and ctype in ("text/plain", "text/html")
            and not (part.is_attachment() or part.get_filename())
        ):
            self.body_part = part
            return
        self._attach(part, ctype)

    def _alternative(self, children: list[EmailMessage], level: int) -> None:
        """One body in several forms: plain text preferred, else HTML; other forms and what
        they carry (inline images of the HTML) stay in the original."""
        self.parts += len(children)
        if self.body_part is None:
            for wanted in ("text/plain", "text/html"):
                for child in children:
                    if child.get_content_type() == wanted and not child.is_attachment():
                        self.body_part = child
                        return
        for child in children:  # e.g. multipart/related inside: walk it for its attachments
            if child.is_multipart():
                self._walk(child, level + 1)
                return

    def _nested(self, part: EmailMessage) -> None:
        if self.depth + 1 > self.limits.max_nested_messages:
            raise Rejected(
                Reason.mail_too_complex,
                f"messages are attached inside each other more than "
                f"{self.limits.max_nested_messages} levels deep",
            )
        inner = part.get_payload()
        inner = inner[0] if isinstance(inner, list) and inner else inner
        if isinstance(inner, LegacyMessage):
            data = inner.as_bytes(policy=policy.SMTP)
            # the inner message is read now too: its bounds count against this one
            parse_eml(data, self.limits, self.depth + 1)
        else:
            data = _bytes_of(part)
        subject = _header(inner, "subject") if isinstance(inner, LegacyMessage) else ""
        name = part.get_filename() or f"{_safe_name(subject) or 'message'}.eml"
        self._add(Attachment(0, name, "message/rfc822", data))

    def _attach(self, part: EmailMessage, ctype: str) -> None:
        name = part.get_filename() or ""
        if not name:
            name = f"part-{len(self.message.attachments) + 1}{_extension(ctype)}"
        data = _bytes_of(part)
        self._add(Attachment(0, name, ctype, data, signature=ctype in SIGNATURE_TYPES))

    def _add(self, attachment: Attachment) -> None:
        attachment.index = len(self.message.attachments) + 1
        self.message.attachments.append(attachment)


def _header(part: LegacyMessage, name: str) -> str:
    """A header decoded (RFC 2047 words, folded lines); a broken one as its raw text."""
    try:
        value = part.get(name)
    except (ValueError, LookupError, TypeError, IndexError, AttributeError):
        value = next((v for k, v in part.raw_items() if k.lower() == name), "")
    return " ".join(str(value or "").split())


def _date(text: str) -> datetime | None:
    try:
        return parsedate_to_datetime(text) if text else None
    except (TypeError, ValueError, IndexError):
        return None


def _bytes_of(part: LegacyMessage) -> bytes:
    try:
        decoded = part.get_payload(decode=True)
    except (ValueError, TypeError, LookupError):
        decoded = None
    data = decoded if isinstance(decoded, bytes) else None  # None: a multipart
    if data is None:
        payload = part.get_payload()
        data = payload.encode("utf-8", "surrogateescape") if isinstance(payload, str) else b""
    return data


def _text_of(part: EmailMessage) -> str:
    try:
        content = part.get_content()
    except (LookupError, ValueError, TypeError, AttributeError):
        content = None  # an unknown charset: the bytes as Latin-1 lose nothing
    if not isinstance(content, str):
        payload = part.get_payload(decode=True)
        content = (payload if isinstance(payload, bytes) else b"").decode("latin-1")
    return content


def _extension(ctype: str) -> str:
    import mimetypes

    return mimetypes.guess_extension(ctype) or ".bin"


def _safe_name(text: str) -> str:
    """A subject as a file name: characters that file systems dislike become spaces."""
    return " ".join(re.sub(r"[^\w.,()&+-]+", " ", text).split()).strip(" .")[:80]


def addresses(value: str) -> list[str]:
    """Addresses of a header value (for tests and display)."""
    return [addr for _, addr in getaddresses([value]) if addr]
