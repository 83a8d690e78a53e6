"""A readable PDF/A-2b from structured text: headings, two-column rows, running text.

For what arrives as data rather than pages (a mail message, an e-invoice): fpdf2 writes
PDF/A-2b itself (output intent with sRGB, XMP with pdfaid, embedded subset fonts, a text layer
with ToUnicode), which costs milliseconds, where the OCRmyPDF/Ghostscript path would take a
second per document. DejaVu (fonts-dejavu-core) covers Latin, Greek and Cyrillic; characters
it has no glyph for are written as "?" (PDF/A forbids the .notdef glyph), and the pages are
bounded: text beyond ``MAX_PAGES`` is left out with a note (the original keeps all of it).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import XPos, YPos

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
REGULAR, BOLD = FONT_DIR / "DejaVuSans.ttf", FONT_DIR / "DejaVuSans-Bold.ttf"
MAX_PAGES = 300
MAX_ROW_VALUE = 2000  # characters of one row's value (a row does not break across pages)
# Running text is written in pieces (at most a page long each), the page count checked
# before each: so the bound holds whatever the text looks like.
CHUNK, CHUNK_LINES = 1500, 30
LABEL_WIDTH = 38  # mm
LINE = 5.0  # mm, 10 pt text
TRUNCATED = (
    "[… further text left out: the rendition is limited to {pages} pages; the original is complete]"
)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


@dataclass(frozen=True)
class Section:
    heading: str
    rows: Sequence[tuple[str, str]] = ()  # label, value (a table of two columns)
    paragraphs: Sequence[str] = ()  # running text, wrapped


class _Full(Exception):
    """The page bound is reached."""


def write_pdfa(target: Path, title: str, sections: Sequence[Section], *, lang: str = "de") -> None:
    """A readable PDF/A-2b with embedded fonts (DejaVu from fonts-dejavu-core) and a text layer."""
    pdf = FPDF(format="A4", enforce_compliance="PDF/A-2B")
    pdf.set_margins(20, 20, 20)
    pdf.set_auto_page_break(True, margin=18)
    pdf.add_font("dejavu", fname=str(REGULAR))
    pdf.add_font("dejavu", style="B", fname=str(BOLD))
    pdf.set_title(_clean(title)[:500] or "Document")
    pdf.set_lang(lang)
    pdf.set_creator("eAkte")
    pdf.add_page()
    try:
        _heading(pdf, title, 15)
        for section in sections:
            _section(pdf, section)
    except _Full:
        pdf.set_font("dejavu", size=9)
        pdf.multi_cell(0, LINE, TRUNCATED.format(pages=MAX_PAGES), new_x=XPos.LMARGIN)
    pdf.output(str(target))


def _section(pdf: FPDF, section: Section) -> None:
    if section.heading:
        pdf.ln(3)
        _heading(pdf, section.heading, 12)
    for label, value in section.rows:
        _row(pdf, label, value)
    if section.rows and section.paragraphs:
        pdf.ln(2)
    pdf.set_font("dejavu", size=10)
    for paragraph in section.paragraphs:
        for piece in _pieces(_clean(paragraph)):
            _check(pdf)
            pdf.multi_cell(0, LINE, piece, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.ln(2)


def _heading(pdf: FPDF, text: str, size: int) -> None:
    _check(pdf)
    pdf.set_font("dejavu", style="B", size=size)
    pdf.multi_cell(0, size * 0.5, _clean(text)[:MAX_ROW_VALUE], new_x=XPos.LMARGIN)
    pdf.ln(1.5)


def _row(pdf: FPDF, label: str, value: str) -> None:
    _check(pdf)
    if pdf.get_y() > pdf.page_break_trigger - 2 * LINE:
        pdf.add_page()
    top = pdf.get_y()
    pdf.set_font("dejavu", style="B", size=9.5)
    pdf.multi_cell(LABEL_WIDTH, LINE, _clean(label)[:200], new_x=XPos.RIGHT, new_y=YPos.TOP)
    label_end = pdf.get_y()
    pdf.set_font("dejavu", size=9.5)
    value = _clean(value)
    if len(value) > MAX_ROW_VALUE:
        value = value[: MAX_ROW_VALUE - 1] + "…"
    pdf.set_xy(pdf.l_margin + LABEL_WIDTH, top)
    pdf.multi_cell(0, LINE, value or "–", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_y(max(pdf.get_y(), label_end))


def _check(pdf: FPDF) -> None:
    if pdf.page_no() >= MAX_PAGES - 1:  # what comes next may need one more page
        raise _Full


def _pieces(text: str) -> list[str]:
    """Running text in pieces of at most ``CHUNK`` characters and ``CHUNK_LINES`` lines."""
    pieces: list[str] = []
    current: list[str] = []
    size = 0
    for line in text.split("\n"):
        while len(line) > CHUNK:  # one very long line
            pieces.append(line[:CHUNK])
            line = line[CHUNK:]
        if current and (size + len(line) > CHUNK or len(current) >= CHUNK_LINES):
            pieces.append("\n".join(current))
            current, size = [], 0
        current.append(line)
        size += len(line) + 1
    if current:
        pieces.append("\n".join(current))
    return pieces


def _clean(text: str) -> str:
    """Text the font can show: tabs as spaces, control characters out, no missing glyphs."""
    text = _CONTROL.sub("", str(text).replace("\r\n", "\n").replace("\r", "\n").expandtabs(4))
    covered = _covered()
    if all(ord(c) in covered or c == "\n" for c in text):
        return text
    return "".join(c if ord(c) in covered or c == "\n" else "?" for c in text)


@functools.cache
def _covered() -> frozenset[int]:
    from fontTools.ttLib import TTFont

    with TTFont(str(REGULAR), lazy=True) as font:
        regular = set(font.getBestCmap())
    with TTFont(str(BOLD), lazy=True) as font:
        return frozenset(regular & set(font.getBestCmap()))
