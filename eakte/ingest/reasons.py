"""Why an input was quarantined: a stable code (the web shows it in German) and English text."""

from __future__ import annotations

import enum

from eakte.errors import N_


class Reason(enum.StrEnum):
    empty = "empty"
    too_large = "too_large"
    type_not_allowed = "type_not_allowed"
    pdf_truncated = "pdf_truncated"
    pdf_damaged = "pdf_damaged"
    pdf_encrypted = "pdf_encrypted"
    too_many_pages = "too_many_pages"
    image_damaged = "image_damaged"
    image_too_large = "image_too_large"
    decompression_bomb = "decompression_bomb"
    unreadable = "unreadable"
    symlink_loop = "symlink_loop"


# Message ids for the user interface, one per code (translated by the web catalog).
USER_MESSAGES: dict[Reason, str] = {
    Reason.empty: N_("The file is empty."),
    Reason.too_large: N_("The file is larger than allowed."),
    Reason.type_not_allowed: N_("This file type is not accepted."),
    Reason.pdf_truncated: N_("The PDF is incomplete: it was cut off."),
    Reason.pdf_damaged: N_("The PDF is damaged and could not be repaired."),
    Reason.pdf_encrypted: N_("The PDF is password-protected."),
    Reason.too_many_pages: N_("The document has more pages than allowed."),
    Reason.image_damaged: N_("The image is damaged."),
    Reason.image_too_large: N_("The image has more pixels than allowed."),
    Reason.decompression_bomb: N_("The file would expand to an unreasonable size."),
    Reason.unreadable: N_("The file could not be read."),
    Reason.symlink_loop: N_("The folder contains a link that leads in a circle."),
}


class Rejected(Exception):
    """Raised by a check: the input goes to quarantine with this reason."""

    def __init__(self, code: Reason, detail: str):
        self.code = code
        self.detail = detail
        super().__init__(f"{code.value}: {detail}")
