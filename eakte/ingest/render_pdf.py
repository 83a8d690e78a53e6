"""Readable PDF/A renditions of content that is not a page yet (e-invoices, mail, ...).

One small layout: a title, then sections, each a heading with a two-column table (label,
value) and/or running text. The result is PDF/A-2b (fpdf2's compliance mode: XMP with
``pdfaid``, sRGB output intent), with DejaVu embedded so that every German letter is in the
file and its text layer is what search reads.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")  # fonts-dejavu-core
MARGIN = 18  # mm
LABEL_WIDTH = 55  # mm, the label column of a section's table
LINE = 5.5  # mm per line of body text


@dataclass(frozen=True)
class Section:
    heading: str
    rows: Sequence[tuple[str, str]] = ()  # label, value (a table of two columns)
    paragraphs: Sequence[str] = ()  # running text, wrapped


def write_pdfa(target: Path, title: str, sections: Sequence[Section], *, lang: str = "de") -> None:
    """A readable PDF/A-2b with embedded fonts (DejaVu from fonts-dejavu-core) and a text layer."""
    from fpdf import FPDF  # loaded where a rendition is made, not on import

    pdf = FPDF(format="A4", enforce_compliance="PDF/A-2B")
    pdf.set_lang(lang)
    pdf.set_title(_printable(title))
    pdf.set_creator("eAkte")
    pdf.set_margins(MARGIN, MARGIN, MARGIN)
    pdf.set_auto_page_break(True, MARGIN)
    pdf.add_font("dejavu", fname=str(FONT_DIR / "DejaVuSans.ttf"))
    pdf.add_font("dejavu", style="B", fname=str(FONT_DIR / "DejaVuSans-Bold.ttf"))
    pdf.alias_nb_pages()
    pdf.add_page()
    pdf.set_font("dejavu", "B", 15)
    pdf.multi_cell(0, 8, _printable(title), align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    for section in sections:
        _section(pdf, section)
    pdf.output(str(target))


def _section(pdf, section: Section) -> None:
    if pdf.will_page_break(20):
        pdf.add_page()
    pdf.set_font("dejavu", "B", 11.5)
    pdf.multi_cell(0, 7, _printable(section.heading), new_x="LMARGIN", new_y="NEXT")
    pdf.set_draw_color(150, 150, 150)
    pdf.line(pdf.l_margin, pdf.get_y(), pdf.w - pdf.r_margin, pdf.get_y())
    pdf.ln(1.5)
    value_width = pdf.w - pdf.l_margin - pdf.r_margin - LABEL_WIDTH
    for label, value in section.rows:
        label, value = _printable(label), _printable(value) or "–"
        pdf.set_font("dejavu", "", 9.5)
        height = max(
            len(pdf.multi_cell(LABEL_WIDTH, LINE, label, dry_run=True, output="LINES")),
            len(pdf.multi_cell(value_width, LINE, value, dry_run=True, output="LINES")),
        )
        if pdf.will_page_break(height * LINE):
            pdf.add_page()
        top = pdf.get_y()
        pdf.set_text_color(80, 80, 80)
        pdf.multi_cell(LABEL_WIDTH, LINE, label, new_x="RIGHT", new_y="TOP")
        pdf.set_text_color(0, 0, 0)
        pdf.set_xy(pdf.l_margin + LABEL_WIDTH, top)
        pdf.multi_cell(value_width, LINE, value, new_x="LMARGIN", new_y="NEXT")
        pdf.set_y(top + height * LINE)
    pdf.set_font("dejavu", "", 10)
    for paragraph in section.paragraphs:
        pdf.multi_cell(0, LINE, _printable(paragraph), align="L", new_x="LMARGIN", new_y="NEXT")
        pdf.ln(1.5)
    pdf.ln(4)


def _printable(text: str) -> str:
    """Control characters (other than line breaks) would end up as missing glyphs."""
    text = str(text or "").replace("\r\n", "\n").replace("\t", " ")
    return "".join(c for c in text if c == "\n" or c.isprintable())
