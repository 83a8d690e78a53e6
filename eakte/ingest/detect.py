"""The type of a file, from its content (libmagic), never from its name."""

from __future__ import annotations

import threading
from pathlib import Path

import magic

from eakte.ingest import mail

KINDS = {
    "application/pdf": "pdf",
    "image/tiff": "tiff",
    "image/jpeg": "jpeg",
    "image/png": "png",
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
    "eml": {"eml"},
    "msg": {"msg"},
}
SNIFF_BYTES = 1 << 20  # what libmagic looks at by default

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
    return mail.refine_mime(path, head, mime)  # libmagic calls many mails text or OLE


def kind_of(mime: str) -> str | None:
    """pdf, tiff, jpeg, png, eml or msg; None for anything the pipeline cannot process."""
    return KINDS.get(mime)


def name_disagrees(kind: str, filename: str) -> bool:
    """The file name claims another type than the content has (e.g. a PNG named .pdf)."""
    ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    known = set().union(*EXTENSIONS.values())
    return ext in known and ext not in EXTENSIONS[kind]
