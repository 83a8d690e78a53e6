"""The quality of each OCRed page (issue 18, BSI TR-RESISCAN): Tesseract's mean word
confidence and the share of German dictionary words in the page's text.

Recognition runs in a confined child process, in OCRmyPDF's page threads: the OCR engine notes
each page's confidence here (``note``), ``collecting`` writes them to the document's work
folder when OCRmyPDF is done, and the worker reads them back after the child has ended and
stores them with the result (``record``, in ``finish``'s transaction). A page below either
threshold is ``low`` and listed first in the batch check, where a person accepts it or has it
re-scanned.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import select

from eakte.ingest import german_words

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from eakte.ingest.process_context import ProcessContext

log = logging.getLogger(__name__)

FILE = "page_confidence.json"
MIN_CONFIDENCE = 70.0  # Tesseract's mean word confidence (0-100) below which a page is low
MIN_SHARE = 0.75  # share of dictionary words below which a page is low
PAGE_NUMBER = re.compile(r"^(\d{6})_")  # OCRmyPDF names a page's files 000001_...

_lock = threading.Lock()
_noted: dict[int, float] = {}


@dataclass(frozen=True)
class Assessed:
    page: int  # from 1
    confidence: float | None
    share: float | None
    words: int

    @property
    def low(self) -> bool:
        if self.words == 0 or self.confidence is None or self.share is None:
            return True  # nothing readable on an OCRed page: a person looks at it
        return self.confidence < MIN_CONFIDENCE or self.share < MIN_SHARE


def note(page_file: Path, confidence: float | None) -> None:
    """The OCR engine's report for the page whose intermediate file is ``page_file``."""
    found = PAGE_NUMBER.match(Path(page_file).name)
    if found is None or confidence is None:
        return
    with _lock:
        _noted[int(found.group(1))] = confidence


@contextlib.contextmanager
def collecting(folder: Path) -> Iterator[None]:
    """Around one OCRmyPDF run (one document per process at a time): the confidences noted
    meanwhile written to ``folder`` when it succeeds."""
    with _lock:
        _noted.clear()
    yield
    with _lock:
        noted = dict(_noted)
        _noted.clear()
    (folder / FILE).write_text(json.dumps({str(k): v for k, v in sorted(noted.items())}))


def assess(texts: list[str], workdir: Path) -> list[Assessed]:
    """The OCRed pages of a document (pages that kept their own text are not judged)."""
    path = workdir / FILE
    if not path.is_file():
        return []
    try:
        noted = {int(k): float(v) for k, v in json.loads(path.read_text()).items()}
    except (ValueError, AttributeError):
        log.warning("page confidences in %s unreadable; pages not assessed", path)
        return []
    found = []
    for page, confidence in sorted(noted.items()):
        text = texts[page - 1] if 0 < page <= len(texts) else ""
        share, words = german_words.share(text)
        found.append(Assessed(page, confidence if words else None, share, words))
    return found


def record(session: Session, ctx: ProcessContext) -> None:
    """Within ``finish``'s transaction: the document's page assessments replace earlier ones.
    A page a person accepted keeps that verdict if it reads the same (a re-scan of another
    page of the document leaves it as it was)."""
    from eakte.models.recognition import PageQuality, PageVerdict

    assessed = assess(ctx.texts, ctx.workdir)
    if not assessed or ctx.tenant_id is None:
        return
    earlier = {
        row.page: row
        for row in session.scalars(
            select(PageQuality).where(PageQuality.document_id == ctx.document_id)
        )
    }
    for found in assessed:
        row = earlier.pop(found.page, None)
        same = (
            row is not None
            and row.confidence == found.confidence
            and row.dictionary_share == found.share
        )
        if row is None:
            row = PageQuality(tenant_id=ctx.tenant_id, document_id=ctx.document_id, page=found.page)
            session.add(row)
        if not (same and row.verdict == PageVerdict.accepted):
            row.verdict = (PageVerdict.low if found.low else PageVerdict.ok).value
            row.checked_by_id, row.checked_at = None, None
        row.confidence, row.dictionary_share, row.words = found.confidence, found.share, found.words
    for gone in earlier.values():  # the document has fewer pages now
        session.delete(gone)
