"""Cover sheets (Deckblätter, issue 17): a page to put on top of a paper stack before it is
scanned. It shows the Aktenzeichen, the case's and the process's titles for the person at the
scanner, and a QR code with the process's UUID for the intake (``eakte.ingest.barcodes``):
the stack is filed into that process without a manifest, and the sheet leaves the document.
"""

from __future__ import annotations

import io

from fpdf import FPDF
from sqlalchemy.orm import Session

from eakte.ingest import barcodes
from eakte.models import Process, User
from eakte.permissions import Action, require
from eakte.services import cases

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
FONT_BOLD = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"


def for_process(session: Session, actor: User, reference: str, number: int) -> bytes:
    """The cover sheet of process NUMBER of case REFERENCE (who may file into it may print)."""
    process = cases.find_process(session, actor, reference, number)
    require(session, actor, Action.view, process)
    return render(process)


def render(process: Process) -> bytes:
    case = process.case
    qr = barcodes.symbol_image(barcodes.COVER_PREFIX + str(process.uuid), qr=True, scale=10)
    pdf = FPDF(format="A4")
    pdf.set_title(f"Deckblatt {case.file_reference} / {process.number}")
    pdf.add_font("dejavu", fname=FONT)
    pdf.add_font("dejavu", style="B", fname=FONT_BOLD)
    pdf.add_page()
    pdf.set_font("dejavu", "B", 26)
    pdf.cell(0, 16, "Deckblatt", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("dejavu", "", 11)
    pdf.multi_cell(
        0,
        6,
        "Dieses Blatt vor das Schriftgut legen und mit einscannen. Die Seiten dahinter werden "
        "dem unten genannten Vorgang zugeordnet; das Deckblatt selbst wird nicht Teil des "
        "Dokuments.",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.ln(8)
    for label, value, size in (
        ("Aktenzeichen", case.file_reference, 22),
        ("Akte", case.title, 14),
        ("Vorgang", f"{process.number}: {process.title}", 14),
    ):
        pdf.set_font("dejavu", "", 10)
        pdf.cell(0, 6, label, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("dejavu", "B", size)
        pdf.multi_cell(0, size * 0.5, value, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(4)
    pdf.image(io.BytesIO(barcodes.png(qr)), x=pdf.l_margin, y=pdf.get_y() + 6, w=70)
    pdf.set_y(pdf.get_y() + 82)
    pdf.set_font("dejavu", "", 8)
    pdf.cell(0, 5, f"Vorgangs-ID {process.uuid}", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def separator_sheet(text: str) -> bytes:
    """A separator sheet: a Code 128 of the configured text, large, in the middle of a page."""
    code = barcodes.symbol_image(text, qr=False, scale=4)
    pdf = FPDF(format="A4")
    pdf.add_font("dejavu", style="B", fname=FONT_BOLD)
    pdf.add_page()
    pdf.set_font("dejavu", "B", 28)
    pdf.cell(0, 20, "Trennblatt", new_x="LMARGIN", new_y="NEXT", align="C")
    pdf.image(io.BytesIO(barcodes.png(code)), x=35, y=110, w=140)
    return bytes(pdf.output())
