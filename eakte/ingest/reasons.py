"""Why an input was quarantined: a stable code (the web shows it in German) and English text."""

from __future__ import annotations

import enum
import re

from eakte.errors import N_


class Reason(enum.StrEnum):
    empty = "empty"
    too_large = "too_large"
    type_not_allowed = "type_not_allowed"
    pdf_truncated = "pdf_truncated"
    pdf_damaged = "pdf_damaged"
    pdf_encrypted = "pdf_encrypted"
    pdf_certificate_encrypted = "pdf_certificate_encrypted"
    too_many_pages = "too_many_pages"
    image_damaged = "image_damaged"
    image_too_large = "image_too_large"
    decompression_bomb = "decompression_bomb"
    unreadable = "unreadable"
    symlink_loop = "symlink_loop"
    link_outside = "link_outside"
    page_too_large = "page_too_large"
    too_complex = "too_complex"
    xml_damaged = "xml_damaged"
    xml_unsafe = "xml_unsafe"
    office_damaged = "office_damaged"
    office_too_complex = "office_too_complex"
    mail_encrypted = "mail_encrypted"
    mail_damaged = "mail_damaged"
    mail_too_complex = "mail_too_complex"


# Message ids for the user interface, one per code (translated by the web catalog).
USER_MESSAGES: dict[Reason, str] = {
    Reason.empty: N_("The file is empty."),
    Reason.too_large: N_("The file is larger than allowed."),
    Reason.type_not_allowed: N_("This file type is not accepted."),
    Reason.pdf_truncated: N_("The PDF is incomplete: it was cut off."),
    Reason.pdf_damaged: N_("The PDF is damaged and could not be repaired."),
    Reason.pdf_encrypted: N_("The PDF is password-protected."),
    Reason.pdf_certificate_encrypted: N_(
        "The PDF is encrypted for a certificate: only its recipient can open it."
    ),
    Reason.too_many_pages: N_("The document has more pages than allowed."),
    Reason.image_damaged: N_("The image is damaged."),
    Reason.image_too_large: N_("The image has more pixels than allowed."),
    Reason.decompression_bomb: N_("The file would expand to an unreasonable size."),
    Reason.unreadable: N_("The file could not be read."),
    Reason.symlink_loop: N_("The folder contains a link that leads in a circle."),
    Reason.link_outside: N_("A link that leads out of the folder was not followed."),
    Reason.page_too_large: N_("A page is larger than allowed."),
    Reason.too_complex: N_("The PDF is built in an unreasonably complex way."),
    Reason.xml_damaged: N_("The XML file is damaged or cannot be read."),
    Reason.xml_unsafe: N_("The XML file declares entities or a DTD; refused for safety."),
    Reason.office_damaged: N_("The office document is damaged."),
    Reason.office_too_complex: N_("The office document is built in an unreasonably complex way."),
    Reason.mail_encrypted: N_("The message is encrypted and cannot be read."),
    Reason.mail_damaged: N_("The message is damaged and cannot be read."),
    Reason.mail_too_complex: N_("The message has more parts, attachments or nesting than allowed."),
}


class Rejected(Exception):
    """Raised by a check: the input goes to quarantine with this reason."""

    def __init__(self, code: Reason, detail: str):
        self.code = code
        self.detail = plain(detail)  # often a library's message: shown to people
        super().__init__(f"{code.value}: {detail}")


# What libraries put into their messages that means nothing to a reader: object reprs
# (``stream <_io.BufferedReader name='/data/spool/intake-x'>: ...``), class reprs, tracebacks
# and our working paths (the worker's ``/tmp/doc-12-xyz/original``, spool files).
_REPR_PREFIX = re.compile(r"^\s*(?:stream\s+)?<[^<>]*>\s*:\s*")
_FILE_REPR = re.compile(r"(?:stream\s+)?<[^<>]*name=[^<>]*>")
_OBJECT_REPR = re.compile(
    r"<[^<>]* at 0x[0-9a-fA-F]+>|<(?:class|function|module|bound method|built-in)\b[^<>]*>"
)
_QUOTED_PATH = re.compile(r"""(['"])(?:/|[A-Za-z]:\\)[^'"\n]*\1""")
_PATH = re.compile(r"(?<![\w.])(?:/[\w.+@%~=,-]+){2,}/?|(?<!\w)[A-Za-z]:\\[^\s'\"]+")
_TRACEBACK = "Traceback (most recent call last)"
MAX_DETAIL = 300


def plain(problem: BaseException | str) -> str:
    """A library's message made readable: one line (the last of a traceback, else the
    first), object reprs and file paths of working copies left out, at most ``MAX_DETAIL``
    characters; never empty."""
    text = str(problem).strip()
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if lines and lines[0].startswith(_TRACEBACK):
        lines = lines[-1:]  # the exception line; the frames name our files
    text = lines[0] if lines else ""
    text = _REPR_PREFIX.sub("", text)
    text = _FILE_REPR.sub("the file", text)
    text = _QUOTED_PATH.sub("'the file'", text)
    text = _PATH.sub("the file", _OBJECT_REPR.sub("an object", text)).strip()
    if not text or text == ":":
        text = "no details were given"
    return text if len(text) <= MAX_DETAIL else text[: MAX_DETAIL - 1] + "…"
