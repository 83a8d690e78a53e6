"""The last resort of intake: a step failed in a way nobody foresaw (a parser's
``KeyError``, Pillow's ``DecompressionBombError``, a bug of ours). The file is not lost: it
goes to quarantine with its bytes and a reason a person can read, instead of the caller
hearing of a Python error and the file being nowhere (issue 25). Outages of the database or
the object store are not the file's fault and never come here (``unforeseen.INFRASTRUCTURE``:
the caller retries the source).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from eakte.ingest import keys, names
from eakte.ingest.detect import kind_of
from eakte.ingest.reasons import Rejected
from eakte.ingest.unforeseen import describe, reason_code
from eakte.services.objects import keep_unused
from storage.blobstore import BlobStore

if TYPE_CHECKING:
    from eakte.ingest.intake_context import IntakeContext

    Step = Callable[[Session, BlobStore, IntakeContext], None]

log = logging.getLogger(__name__)

# What each step does, for the reason a person reads when it fails unexpectedly.
DOING = {
    "find_existing": "looking up earlier intakes of the file",
    "read_bytes": "reading the file",
    "check_content": "checking the file",
    "read_text_layer": "reading the text of the file",
    "find_duplicate": "looking for the same file",
    "store_original": "storing the file",
    "register": "registering the document",
}
KIND_NAMES = {"pdf": "the PDF", "tiff": "the TIFF image", "jpeg": "the JPEG image"}


def rescue(
    session: Session,
    store: BlobStore,
    ctx: IntakeContext,
    step: Step,
    exc: Exception,
    *,
    read: Step,
    keep: Step,
) -> None:
    """After ``step`` raised ``exc``: the file to quarantine (``keep``, the intake's
    quarantine step), its bytes read again (``read``) if reading them was what failed. A
    document already registered stays as it is."""
    name = getattr(step, "__name__", "")
    if ctx.result is not None:  # committed before the failure: it is in
        log.warning("intake of %s: %s failed after the outcome: %s", ctx.source, name, exc)
        return
    log.info("intake of %s: %s failed unexpectedly", ctx.source, name, exc_info=exc)
    if session.in_transaction():
        session.rollback()  # whatever the step had begun is not kept
    if ctx.stored is not None and ctx.stored.id is None and ctx.duplicate_of is None:
        try:  # uploaded as the original, never registered: on the books, it expires
            keep_unused(session, ctx.stored)
        except Exception:  # (the bytes go to quarantine in any case)
            log.warning("unused upload %s not registered", ctx.stored.key, exc_info=True)
            session.rollback()
    ctx.stored, ctx.duplicate_of = None, None
    if not ctx.filename:
        ctx.filename = names.sanitise(ctx.filename_raw) or "unnamed"
    if ctx.uuid is None:
        ctx.uuid = keys.identity(ctx.tenant.id, ctx.source_key)
    if ctx.rejection is None and (ctx.path is None or not ctx.sha256):
        _read_again(session, store, ctx, read)
    if isinstance(exc, Rejected):
        ctx.rejection = exc
    elif ctx.rejection is None:
        # A parser failing on the file says it is damaged; a later step failing does not.
        kind = kind_of(ctx.mime) if name == "check_content" else None
        doing = DOING.get(name, "taking the file in")
        if kind:
            doing = f"checking {KIND_NAMES.get(kind, 'the ' + kind.upper() + ' image')}"
        ctx.rejection = Rejected(reason_code(exc, kind), describe(exc, doing))
    keep(session, store, ctx)


def _read_again(session: Session, store: BlobStore, ctx: IntakeContext, read: Step) -> None:
    """The bytes, if reading them was what failed: a file is read again, a stream that can
    be rewound spooled again."""
    if ctx.spooled and ctx.path is not None:
        ctx.path.unlink(missing_ok=True)
    ctx.path, ctx.spooled = None, False
    if ctx.data is None:
        return  # nothing to read from
    if not isinstance(ctx.data, Path):
        try:
            ctx.data.seek(0)
        except (AttributeError, OSError, ValueError):
            return
    try:
        read(session, store, ctx)
    except Exception:  # (quarantined without bytes, with the reason)
        log.warning("intake of %s: the bytes cannot be read again", ctx.source, exc_info=True)
        if ctx.spooled and ctx.path is not None:
            ctx.path.unlink(missing_ok=True)
        ctx.path, ctx.spooled = None, False
