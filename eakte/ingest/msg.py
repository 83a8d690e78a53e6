"""Outlook .msg files ([MS-OXMSG]): an OLE compound file read with ``olefile``, properties
read here.

A message's properties are streams named ``__substg1.0_IIIITTTT`` (property id and type) for
strings and binaries, and fixed-size values in ``__properties_version1.0``; recipients and
attachments are storages of their own (``__recip_version1.0_#…``, ``__attach_version1.0_#…``),
an attached Outlook message a message storage inside its attachment. An attached message
becomes an ``.eml`` rendering of itself (headers, body, its attachments) for the intake: the
original .msg, which contains it, is kept byte-exact.
"""

from __future__ import annotations

import codecs
import io
import struct
from datetime import UTC, datetime, timedelta
from email import policy
from email.message import EmailMessage
from email.parser import BytesHeaderParser
from email.utils import format_datetime
from pathlib import Path

import olefile

from eakte.ingest.html_text import html_to_text
from eakte.ingest.mail import (
    Attachment,
    MailLimits,
    Message,
    _date,
    _header,
    _safe_name,
)
from eakte.ingest.reasons import Reason, Rejected
from eakte.ingest.rtf_text import RtfError, decompress, rtf_to_text

PROPERTIES = "__properties_version1.0"
SUBSTG = "__substg1.0_"
ATTACH = "__attach_version1.0_#"
RECIP = "__recip_version1.0_#"
NAMEID = "__nameid_version1.0"

PT_LONG, PT_BOOLEAN, PT_SYSTIME = 0x0003, 0x000B, 0x0040
PT_STRING8, PT_UNICODE, PT_BINARY, PT_OBJECT = 0x001E, 0x001F, 0x0102, 0x000D

SUBJECT, BODY, HTML, RTF = 0x0037, 0x1000, 0x1013, 0x1009
SENDER_NAME, SENDER_EMAIL, SENDER_SMTP = 0x0C1A, 0x0C1F, 0x5D01
DISPLAY_TO, DISPLAY_CC = 0x0E04, 0x0E03
HEADERS, MESSAGE_ID, MESSAGE_CLASS = 0x007D, 0x1035, 0x001A
SUBMIT_TIME, DELIVERY_TIME = 0x0039, 0x0E06
INTERNET_CPID, MESSAGE_CODEPAGE = 0x3FDE, 0x3FFD
ATTACH_DATA, ATTACH_LONG_NAME, ATTACH_NAME, ATTACH_MIME, ATTACH_METHOD = (
    0x3701,
    0x3707,
    0x3704,
    0x370E,
    0x3705,
)
DISPLAY_NAME = 0x3001
EMBEDDED_MESSAGE = 5  # attach method: the attachment is a message storage

_FILETIME_EPOCH = datetime(1601, 1, 1, tzinfo=UTC)
# Streams per attachment or recipient: a message with more directory entries than this many
# per allowed part is beyond the bounds before any of them is read.
ENTRIES_PER_PART = 24


def is_outlook_message(path: Path) -> bool:
    """An OLE compound file with a message's property streams at its root."""
    try:
        if not olefile.isOleFile(str(path)):
            return False
        with olefile.OleFileIO(str(path)) as ole:
            roots = {entry[0] for entry in ole.listdir(streams=True, storages=True)}
    except Exception:  # a damaged OLE file is not an Outlook message we could read
        return False
    return PROPERTIES in roots and any(name.startswith(SUBSTG) for name in roots)


def parse_msg(raw: bytes, limits: MailLimits, depth: int = 0) -> Message:
    try:
        ole = olefile.OleFileIO(io.BytesIO(raw))  # bytes under 1.5 KB would be taken as a path
    except Exception as exc:
        raise Rejected(Reason.mail_damaged, f"the Outlook file cannot be opened: {exc}") from None
    with ole:
        if len(ole.direntries) > ENTRIES_PER_PART * limits.max_parts:
            raise Rejected(
                Reason.mail_too_complex,
                f"the Outlook file has {len(ole.direntries)} entries (more than "
                f"{limits.max_parts} parts)",
            )
        if _cut_off(ole):
            raise Rejected(Reason.mail_damaged, "the Outlook file is cut off (incomplete)")
        try:
            reader = _Reader(ole, limits)
            roots = reader.children.get((), [])
            if PROPERTIES not in roots or not any(n.startswith(SUBSTG) for n in roots):
                raise Rejected(
                    Reason.mail_damaged,
                    "the Outlook file is incomplete: the message's property streams are missing",
                )
            return reader.message([], depth)
        except (Rejected, MemoryError):
            raise
        except Exception as exc:  # a malformed stream anywhere: unreadable, kept in quarantine
            raise Rejected(Reason.mail_damaged, f"the Outlook file cannot be read: {exc}") from None


class _Reader:
    def __init__(self, ole: olefile.OleFileIO, limits: MailLimits):
        self.ole = ole
        self.limits = limits
        self.children: dict[tuple[str, ...], list[str]] = {}
        for entry in ole.listdir(streams=True, storages=True):
            self.children.setdefault(tuple(entry[:-1]), []).append(entry[-1])

    # ------------------------------------------------------------------ properties
    def _stream(self, where: list[str], name: str) -> bytes | None:
        path = [*where, name]
        if name not in self.children.get(tuple(where), ()):
            return None
        return self.ole.openstream(path).read()

    def _fixed(self, where: list[str], header: int) -> dict[int, tuple[int, bytes]]:
        data = self._stream(where, PROPERTIES) or b""
        values: dict[int, tuple[int, bytes]] = {}
        for offset in range(header, len(data) - 15, 16):
            ptype, pid, _flags, value = struct.unpack_from("<HHI8s", data, offset)
            values[pid] = (ptype, value)
        return values

    def _string(self, where: list[str], pid: int, codepage: str = "cp1252") -> str:
        data = self._stream(where, f"{SUBSTG}{pid:04X}{PT_UNICODE:04X}")
        if data is not None:
            return data.decode("utf-16-le", "replace").rstrip("\x00")
        data = self._stream(where, f"{SUBSTG}{pid:04X}{PT_STRING8:04X}")
        if data is not None:
            return data.decode(codepage, "replace").rstrip("\x00")
        return ""

    def _binary(self, where: list[str], pid: int) -> bytes | None:
        return self._stream(where, f"{SUBSTG}{pid:04X}{PT_BINARY:04X}")

    # ------------------------------------------------------------------ a message
    def message(self, where: list[str], depth: int) -> Message:
        fixed = self._fixed(where, 32 if not where else 24)
        codepage = _codec(fixed.get(INTERNET_CPID) or fixed.get(MESSAGE_CODEPAGE))
        message = Message(kind="msg")
        kind = self._string(where, MESSAGE_CLASS).upper()
        if kind.startswith("IPM.NOTE.SMIME") and "MULTIPARTSIGNED" not in kind:
            raise Rejected(Reason.mail_encrypted, f"the message is S/MIME-encrypted ({kind})")
        headers = self._string(where, HEADERS, codepage)
        parsed = BytesHeaderParser(policy=policy.default).parsebytes(
            headers.encode("utf-8", "replace")
        )
        message.subject = self._string(where, SUBJECT, codepage) or _header(parsed, "subject")
        name = self._string(where, SENDER_NAME, codepage)
        address = self._string(where, SENDER_SMTP, codepage) or self._string(
            where, SENDER_EMAIL, codepage
        )
        message.sender = _header(parsed, "from") or (
            f"{name} <{address}>" if name and address and name != address else name or address
        )
        message.to = _header(parsed, "to") or self._string(where, DISPLAY_TO, codepage)
        message.cc = _header(parsed, "cc") or self._string(where, DISPLAY_CC, codepage)
        message.message_id = (
            _header(parsed, "message-id") or self._string(where, MESSAGE_ID, codepage)
        ).strip()[:500]
        message.date_text = _header(parsed, "date")
        message.date = _date(message.date_text)
        if message.date is None:
            message.date = _filetime(fixed.get(SUBMIT_TIME) or fixed.get(DELIVERY_TIME))
            message.date_text = format_datetime(message.date) if message.date else ""
        message.body = self._string(where, BODY, codepage)
        if not message.body.strip():
            html = self._binary(where, HTML)
            text = (
                html.decode(codepage, "replace")
                if html is not None
                else self._string(where, HTML, codepage)
            )
            if text.strip():
                message.body, message.body_from_html = html_to_text(text), True
            elif (rtf := self._binary(where, RTF)) is not None:
                message.body = _rtf_body(rtf, codepage)
                if not message.body:
                    message.notes.append(
                        "the body is stored only as rich text (RTF); it is kept in the original"
                    )
        if "-----BEGIN PGP MESSAGE-----" in message.body:
            raise Rejected(Reason.mail_encrypted, "the message is PGP-encrypted (inline)")
        attachments = sorted(n for n in self.children.get(tuple(where), ()) if n.startswith(ATTACH))
        if len(attachments) > self.limits.max_attachments:
            raise Rejected(
                Reason.mail_too_complex,
                f"the message has {len(attachments)} attachments; at most "
                f"{self.limits.max_attachments} are taken in",
            )
        for number, storage in enumerate(attachments, start=1):
            message.attachments.append(self.attachment([*where, storage], number, depth))
        return message

    def attachment(self, where: list[str], number: int, depth: int) -> Attachment:
        fixed = self._fixed(where, 8)
        name = (
            self._string(where, ATTACH_LONG_NAME)
            or self._string(where, ATTACH_NAME)
            or self._string(where, DISPLAY_NAME)
        )
        mime = self._string(where, ATTACH_MIME) or "application/octet-stream"
        method = fixed.get(ATTACH_METHOD)
        embedded = f"{SUBSTG}{ATTACH_DATA:04X}{PT_OBJECT:04X}"
        if (method and _long(method) == EMBEDDED_MESSAGE) or embedded in self.children.get(
            tuple(where), ()
        ):
            if depth + 1 > self.limits.max_nested_messages:
                raise Rejected(
                    Reason.mail_too_complex,
                    f"messages are attached inside each other more than "
                    f"{self.limits.max_nested_messages} levels deep",
                )
            inner = self.message([*where, embedded], depth + 1)
            title = _safe_name(name or inner.subject) or "message"
            return Attachment(number, f"{title}.eml", "message/rfc822", as_eml(inner))
        data = self._binary(where, ATTACH_DATA) or b""
        return Attachment(number, name or f"attachment-{number}", mime, data)


def as_eml(message: Message) -> bytes:
    """An Outlook message as an RFC 822 message: its headers, body and attachments."""
    out = EmailMessage(policy=policy.SMTP)
    for label, value in (
        ("From", message.sender),
        ("To", message.to),
        ("Cc", message.cc),
        ("Date", message.date_text),
        ("Subject", message.subject),
        ("Message-ID", message.message_id),
    ):
        if value:
            try:
                out[label] = value
            except (ValueError, TypeError, IndexError):
                out[f"X-Original-{label}"] = value.encode("ascii", "replace").decode()
    out.set_content(message.body or "")
    for attachment in message.attachments:
        maintype, _, subtype = attachment.mime.partition("/")
        if attachment.mime == "message/rfc822":
            maintype, subtype = "application", "octet-stream"  # bytes as they are
        out.add_attachment(
            attachment.data,
            maintype=maintype or "application",
            subtype=subtype or "octet-stream",
            filename=attachment.filename,
        )
    return out.as_bytes()


def _rtf_body(compressed: bytes, codepage: str) -> str:
    try:
        return rtf_to_text(decompress(compressed), codepage)
    except (RtfError, ValueError, IndexError, struct.error):
        return ""  # the note says where the body is


def _cut_off(ole: olefile.OleFileIO) -> bool:
    """Streams whose sectors lie beyond the end of the file, or structures olefile found
    broken (it reads what is missing as nothing, which would make an empty message)."""
    if ole.parsing_issues:
        return True
    chains = []
    if ole.num_mini_fat_sectors:
        chains.append((ole.first_mini_fat_sector, ole.num_mini_fat_sectors * ole.sectorsize))
    for entry in ole.direntries:
        if entry is None or not entry.size:
            continue
        if entry.entry_type == olefile.STGTY_ROOT or (
            entry.entry_type == olefile.STGTY_STREAM and entry.size >= ole.minisectorcutoff
        ):
            chains.append((entry.isectStart, entry.size))
    return not all(_complete(ole, start, size) for start, size in chains)


def _complete(ole: olefile.OleFileIO, start: int, size: int) -> bool:
    """The sector chain from ``start`` holds ``size`` bytes within the file."""
    need = -(-size // ole.sectorsize)
    if need > ole.nb_sect:
        return False
    sector = start
    for _ in range(need):
        if not 0 <= sector < min(ole.nb_sect, len(ole.fat)):
            return False
        sector = ole.fat[sector]
    return True


def _long(value: tuple[int, bytes]) -> int:
    return struct.unpack_from("<i", value[1])[0]


def _filetime(value: tuple[int, bytes] | None) -> datetime | None:
    if value is None or value[0] != PT_SYSTIME:
        return None
    ticks = struct.unpack_from("<Q", value[1])[0]
    try:
        return _FILETIME_EPOCH + timedelta(microseconds=ticks // 10)
    except OverflowError:
        return None


def _codec(value: tuple[int, bytes] | None) -> str:
    """The message's code page as a Python codec (Windows-1252 when unknown)."""
    if value is None or value[0] != PT_LONG:
        return "cp1252"
    number = _long(value)
    name = "utf-8" if number == 65001 else f"cp{number}"
    try:
        codecs.lookup(name)
    except LookupError:
        return "cp1252"
    return name
