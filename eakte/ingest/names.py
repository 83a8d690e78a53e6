"""File names from outside: kept as given (bytes, for the record) and made safe to show.

A name is only ever metadata: no file is created under a name that came from outside, so
``../`` cannot lead anywhere; the sanitised form drops path parts, control characters and what
Windows forbids, and fits the database column. Bidirectional controls (a right-to-left override
turns ``rechnung\u202efdp.exe`` into what reads as ``rechnungexe.pdf``) and other invisible
format characters are removed: ``sanitise`` is the one function for names shown, downloaded and
recorded.
"""

from __future__ import annotations

import base64
import os
import re
import unicodedata

MAX_NAME = 200
_FORBIDDEN = re.compile(r'[<>:"/\\|?*\x00-\x1f\x7f]')
ZERO_WIDTH_JOINER = "\u200d"  # a format character that only joins emoji: kept
_WINDOWS_RESERVED = {"CON", "PRN", "AUX", "NUL"} | {
    f"{prefix}{i}" for prefix in ("COM", "LPT") for i in range(10)
}


def name_bytes(name: str | bytes) -> bytes:
    """The name as the bytes it was given as (``os.fsdecode`` round-trips undecodable bytes)."""
    return name if isinstance(name, bytes) else os.fsencode(name)


def readable(raw: bytes) -> str:
    """UTF-8, else Windows-1252 (old German Windows shares), never failing."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace")


def sanitise(name: str | bytes) -> str:
    """A safe display name: last path part only, no control or forbidden characters, at most
    ``MAX_NAME`` characters with the extension kept; ``unnamed`` if nothing is left."""
    text = unicodedata.normalize("NFC", readable(name_bytes(name)))
    text = "".join(c for c in text if _visible(c))
    text = re.split(r"[/\\]", text)[-1]
    text = _FORBIDDEN.sub("_", text).strip().lstrip(".").strip()
    text = re.sub(r"\s+", " ", text)
    stem, dot, ext = text.rpartition(".")
    if not dot or len(ext) > 10:
        stem, ext = text, ""
    if stem.split(".")[0].upper() in _WINDOWS_RESERVED:
        stem = f"_{stem}"
    if ext:
        stem = stem[: MAX_NAME - len(ext) - 1].rstrip()
        text = f"{stem}.{ext}" if stem else f"unnamed.{ext}"
    else:
        text = stem[:MAX_NAME].rstrip()
    return text or "unnamed"


def _visible(char: str) -> bool:
    """Not a bidi control (U+202A-202E, U+2066-2069, U+200E/F, U+061C), nor another invisible
    format character (zero-width space, soft hyphen, BOM), nor a C1 control; the C0 controls
    are replaced by ``_FORBIDDEN`` instead."""
    category = unicodedata.category(char)
    if category == "Cf":
        return char == ZERO_WIDTH_JOINER
    return category != "Cc" or char < "\x80"


def title_from(name: str) -> str:
    """A document title from a sanitised file name: the stem, underscores as spaces."""
    stem = name.rsplit(".", 1)[0] if "." in name else name
    return re.sub(r"\s+", " ", stem.replace("_", " ")).strip() or name


def encoded(raw: bytes) -> str:
    """The exact bytes of a name, for the record (base64)."""
    return base64.b64encode(raw).decode("ascii")
