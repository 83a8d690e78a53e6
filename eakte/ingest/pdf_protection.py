"""Encrypted PDFs: which can be taken in, and why the others cannot (issue 25).

A PDF whose user password is empty opens in every reader without asking; an owner password
only restricts printing, copying or changing. Such a file is taken in: the original is kept
as it is (byte-exact), and the rendition is made from a decrypted copy (PDF/A forbids
encryption), so the archival copy carries no restrictions. A PDF that needs a password to
open, or one encrypted for a certificate (the public-key security handler, ``/Adobe.PubSec``,
which qpdf cannot open), stays in quarantine with a reason saying which it is.
"""

from __future__ import annotations

from pathlib import Path

import pikepdf

from eakte.ingest.reasons import Reason, Rejected

PROTECTED = "protected"  # the flag of a permission-protected PDF
CHUNK = 1 << 20
_PUBSEC = b"/Adobe.PubSec"


def rejection_for_unopenable(path: Path | None, exc: Exception) -> Rejected:
    """Why a PDF that qpdf refused to open stays in quarantine."""
    if path is not None and _names_pubsec(path):
        return Rejected(
            Reason.pdf_certificate_encrypted,
            "the PDF is encrypted for a certificate (public-key security, /Adobe.PubSec): only "
            "the holder of the recipient's private key can open it; ask for an unencrypted file",
        )
    if isinstance(exc, pikepdf.PasswordError):
        return Rejected(Reason.pdf_encrypted, "the PDF needs a password to open")
    if "encrypt" in str(exc).lower():
        return Rejected(
            Reason.pdf_encrypted,
            f"the PDF is encrypted in a way qpdf cannot open ({exc}); ask for an unencrypted file",
        )
    return Rejected(Reason.pdf_damaged, f"qpdf could not open or repair it: {exc}")


def _names_pubsec(path: Path) -> bool:
    """The public-key handler named anywhere in the file (the encryption dictionary itself is
    never encrypted); read in chunks, overlapping so a name across a boundary is found."""
    tail = b""
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            if _PUBSEC in tail + chunk:
                return True
            tail = chunk[-len(_PUBSEC) :]
    return False


def restrictions(pdf: pikepdf.Pdf) -> str:
    """What an opened (owner-password) PDF restricts, readable; '' if it is not encrypted."""
    if not pdf.is_encrypted:
        return ""
    allow = pdf.allow
    names = {
        "print_highres": "printing",
        "extract": "copying text",
        "modify_other": "changing",
        "modify_form": "filling in forms",
        "modify_annotation": "commenting",
        "accessibility": "accessibility",
    }
    denied = [label for attr, label in names.items() if not getattr(allow, attr, True)]
    return ", ".join(denied) or "nothing"


def inspect_protection(pdf: pikepdf.Pdf) -> tuple[list[str], list[str]]:
    """Flag and note for a PDF that opened without a password but is encrypted."""
    if not pdf.is_encrypted:
        return [], []
    note = (
        "permission-protected PDF (no password needed to open; restricted: "
        f"{restrictions(pdf)}): original kept as received, rendition without the restrictions"
    )
    return [PROTECTED], [note]
