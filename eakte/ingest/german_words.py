"""Is a recognised word German? The system word list (Debian's ``wngerman``), loaded once.

Recognised text in the wrong orientation, or from a page too poor to read, is not German at
all: its share of dictionary words is what the orientation vote and the batch check look at.
German joins nouns into compounds no list holds ("Gewerbeanmeldung"), so a word also counts
when it splits into up to three listed words, with or without a joining "s".
"""

from __future__ import annotations

import functools
import logging
import re
from pathlib import Path

log = logging.getLogger(__name__)

WORD_LISTS = (Path("/usr/share/dict/ngerman"), Path("/usr/share/dict/ogerman"))
MIN_LENGTH = 3  # shorter tokens (initials, numbers' remains) say little either way
MIN_PART = 4  # parts of a compound: "Amt", "Tag" are too short to tell noise from German
TOKEN = re.compile(r"[A-Za-zÄÖÜäöüß]+(?:-[A-Za-zÄÖÜäöüß]+)*")


class NoWordList(RuntimeError):
    """The German word list is not installed (package wngerman, see scripts/setup.sh)."""


@functools.cache
def words() -> frozenset[str]:
    """The list, lower-cased."""
    for path in WORD_LISTS:
        if path.is_file():
            with path.open(encoding="utf-8", errors="replace") as fh:
                return frozenset(line.strip().lower() for line in fh if line.strip())
    raise NoWordList("no German word list in /usr/share/dict (install wngerman)")


def is_german(token: str) -> bool:
    word = token.lower()
    if "-" in word:
        return all(is_german(part) for part in word.split("-") if part)
    return _known(word, 2)


def _known(word: str, splits: int) -> bool:
    """In the list, or a compound of up to ``splits`` + 1 listed parts (a joining "s" after
    a part allowed): "Rechts|behelfs|belehrung"."""
    known = words()
    if word in known:
        return True
    if not splits:
        return False
    for cut in range(MIN_PART, len(word) - MIN_PART + 1):
        head, tail = word[:cut], word[cut:]
        if (head in known or (head.endswith("s") and head[:-1] in known)) and _known(
            tail, splits - 1
        ):
            return True
    return False


def tokens(text: str) -> list[str]:
    """The words of a text worth judging (letters only, at least ``MIN_LENGTH`` long)."""
    return [t for t in TOKEN.findall(text) if len(t) >= MIN_LENGTH]


def share(text: str) -> tuple[float | None, int]:
    """The share of dictionary words among the text's words, and how many words were judged
    (``None`` for a text without words)."""
    found = tokens(text)
    if not found:
        return None, 0
    return sum(1 for t in found if is_german(t)) / len(found), len(found)
