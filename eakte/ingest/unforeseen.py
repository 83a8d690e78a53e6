"""Failures nobody foresaw, told so that a person understands them.

A parser that meets a file its authors never saw raises whatever its code happens to raise: a
``KeyError`` for a missing entry, ``ZeroDivisionError`` for a zero scale, ``RecursionError``
for a structure nested without end, Pillow's ``DecompressionBombError``. Such a failure must
neither lose the file at intake (it goes to quarantine with its bytes, ``intake``) nor leave a
processed document ``failed`` with "internal error: KeyError: 'x'" (``process``). Here an
exception becomes a reason code and a sentence: what was being done, what kind of problem it
was, and the library's own words where they say something (through ``reasons.plain``: no
object reprs, no server paths).
"""

from __future__ import annotations

import struct
import zlib

from PIL import Image, UnidentifiedImageError
from sqlalchemy.exc import InterfaceError, OperationalError

from eakte.errors import EakteError
from eakte.ingest.reasons import Reason, plain
from storage.errors import StorageError

# Failures of the machinery around the file, not of the file: the caller hears of them and
# the source is retried (an import run again, an upload sent again); quarantining the file
# would blame it for an outage.
INFRASTRUCTURE: tuple[type[BaseException], ...] = (
    EakteError,
    StorageError,
    OperationalError,
    InterfaceError,
)

# What the kinds of failure mean, in the order they are tried (subclasses first).
_MEANINGS: tuple[tuple[type[BaseException], str], ...] = (
    (Image.DecompressionBombError, "it would expand to an unreasonable size"),
    (UnidentifiedImageError, "the image format cannot be identified"),
    (MemoryError, "it needed more memory than is available"),
    (RecursionError, "its structure is nested too deeply to follow"),
    (ZeroDivisionError, "a value in it makes no sense (a division by zero)"),
    (ArithmeticError, "a number in it is out of range"),
    (KeyError, "an entry the reader needs is missing"),
    (IndexError, "a value in it points outside its data"),
    (LookupError, "a value in it points to something that does not exist"),
    (struct.error, "its data ends early or is laid out differently than it declares"),
    (zlib.error, "compressed data in it is damaged"),
    (UnicodeError, "text in it is in no known encoding"),
    (EOFError, "it ends early"),
    (TypeError, "a value in it has a form the reader does not expect"),
    (AttributeError, "a part of it has a form the reader does not expect"),
    (ValueError, "a value in it is not valid"),
    (NotImplementedError, "it uses a feature the reader does not support"),
    (OSError, "it cannot be read"),
)
_GENERIC = "the reader stopped on something it does not expect"


def meaning(exc: BaseException) -> str:
    """What kind of problem ``exc`` is, in words."""
    for kind, words in _MEANINGS:
        if isinstance(exc, kind):
            return words
    return _GENERIC


def describe(exc: BaseException, doing: str = "processing") -> str:
    """``doing`` ("checking the PDF") failed: a readable sentence, never empty, never a
    Python repr or a server path. The library's message is added where it says more than the
    name of the exception (``KeyError('/Width')`` says "'/Width'")."""
    detail = _detail(exc)
    text = f"{doing} failed unexpectedly: {meaning(exc)}"
    return plain(f"{text} ({detail})" if detail else text)


def reason_code(exc: BaseException, kind: str | None) -> Reason:
    """The quarantine reason for an unforeseen failure while checking a file of ``kind``."""
    if isinstance(exc, Image.DecompressionBombError):
        return Reason.decompression_bomb
    if isinstance(exc, MemoryError | RecursionError):
        return Reason.too_complex
    if kind == "pdf":
        return Reason.pdf_damaged
    if kind in ("tiff", "jpeg", "png"):
        return Reason.image_damaged
    return Reason.unreadable


def _detail(exc: BaseException) -> str:
    if isinstance(exc, MemoryError | RecursionError):
        return ""  # their messages ("maximum recursion depth exceeded") say nothing more
    raw = exc.args[0] if isinstance(exc, KeyError) and exc.args else str(exc)
    text = plain(str(raw)) if str(raw).strip() else ""
    if text in ("", "unknown", type(exc).__name__):
        return ""
    return text
