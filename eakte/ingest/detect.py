"""The type of a file, from its content (libmagic), never from its name."""

from __future__ import annotations

import threading
from pathlib import Path

import magic

from eakte.ingest import mail, office_types

KINDS = {
    "application/pdf": "pdf",
    "image/tiff": "tiff",
    "image/jpeg": "jpeg",
    "image/png": "png",
    **office_types.KINDS,  # office documents and text (issue 25)
    "message/rfc822": "eml",
    "application/vnd.ms-outlook": "msg",
}
# libmagic's names for the same types on some versions
ALIASES = {"application/x-pdf": "application/pdf", "image/x-tiff": "image/tiff"}
EXTENSIONS = {
    "pdf": {"pdf"},
    "tiff": {"tif", "tiff"},
    "jpeg": {"jpg", "jpeg", "jpe"},
    "png": {"png"},
    **office_types.EXTENSIONS,
    "einvoice": {"xml"},
    "eml": {"eml"},
    "msg": {"msg"},
}
SNIFF_BYTES = 1 << 20  # what libmagic looks at by default
# Readers find the %PDF- header anywhere in a file's first 1024 bytes (a gateway's or a
# scanner's prefix before it); libmagic looks only at the very start.
PDF_HEADER_WINDOW = 1024
UNKNOWN = {"application/octet-stream", "text/plain"}  # libmagic's "no idea"

_local = threading.local()  # a libmagic handle is not safe to share between threads


def _magic() -> magic.Magic:
    if not hasattr(_local, "magic"):
        _local.magic = magic.Magic(mime=True)
    return _local.magic


def mime_of(path: Path) -> str:
    with path.open("rb") as fh:
        head = fh.read(SNIFF_BYTES)
    if not head:
        return "application/x-empty"
    mime = _magic().from_buffer(head)
    mime = ALIASES.get(mime, mime)
    if mime in UNKNOWN and b"%PDF-" in head[:PDF_HEADER_WINDOW]:
        return "application/pdf"  # a PDF behind a prefix (readers accept it; libmagic not)
    if mime == "text/plain" and head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<"):
        # XML without a declaration looks like plain text to libmagic; an e-invoice is XML.
        from eakte.ingest.einvoice import syntax_of

        if syntax_of(head) is not None:
            return "text/xml"
    mime = mail.refine_mime(path, head, mime)  # libmagic calls many mails text or OLE
    return office_types.refine(path, head, mime)


def kind_of(mime: str) -> str | None:
    """pdf, tiff, jpeg, png, eml, msg or an office kind (``office_types``, XML among them);
    None for anything the pipeline cannot process."""
    return KINDS.get(mime)


def refine(kind: str, path: Path) -> str:
    """An XML file whose root element is an e-invoice (XRechnung UBL or CII) is kind
    ``einvoice``; every other kind stays as it is."""
    if kind == "xml":
        from eakte.ingest.einvoice import is_einvoice

        if is_einvoice(path):
            return "einvoice"
    return kind


def name_disagrees(kind: str, filename: str) -> bool:
    """The file name claims another type than the content has (e.g. a PNG named .pdf)."""
    ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    known = set().union(*EXTENSIONS.values())
    return ext in known and ext not in EXTENSIONS[kind]
