"""Ingest test helpers: files made in the tests themselves, and a desk that takes them in.

Born-digital PDFs come from fpdf2, scans from Pillow drawing German text with DejaVu (so OCR
has something real to read); hostile files are built byte by byte where that is the point.
"""

from __future__ import annotations

import io
import struct
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from fpdf import FPDF
from PIL import Image, ImageDraw, ImageFont

from eakte.ingest.process import process_document
from eakte.models import Document
from eakte.services.intake import DocumentMetadata, IncomingFile, Target, intake
from tests.fixtures.app import replace_settings

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
SCAN_FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf"  # letters are often set serif
GERMAN = [
    "Stadtverwaltung Usingen – Ordnungsamt",
    "Antrag auf Erteilung einer Gaststättenerlaubnis",
    "Sehr geehrte Damen und Herren,",
    "hiermit beantrage ich die Erlaubnis für den Betrieb",
    "der Gaststätte Zur Linde in der Hauptstraße 12.",
    "Die Gebühren überweise ich nach Erhalt des Bescheids.",
    "Mit freundlichen Grüßen, Jürgen Müller",
]


def born_digital_pdf(pages: int = 3, words: str = "Gewerbeanmeldung Bäckerei Schmidt") -> bytes:
    pdf = FPDF()
    pdf.add_font("dejavu", fname=FONT)
    pdf.set_font("dejavu", size=12)
    for number in range(1, pages + 1):
        pdf.add_page()
        pdf.multi_cell(0, 8, f"Seite {number}: {words}. " * 5)
    return bytes(pdf.output())


def scan_image(
    lines=GERMAN, dpi: int = 200, turn: int = 0, skew: float = 0.0, size=(1240, 900)
) -> Image.Image:
    """A scanned page: black German text on white, optionally turned and skewed."""
    scale = dpi / 150
    width, height = int(size[0] * scale / 1.5), int(size[1] * scale / 1.5)
    page = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(page)
    font = ImageFont.truetype(SCAN_FONT, int(16 * scale))
    for number, line in enumerate(lines):
        draw.text((int(40 * scale), int((40 + 32 * number) * scale)), line, font=font, fill=0)
    if skew:
        page = page.rotate(skew, resample=Image.Resampling.BICUBIC, fillcolor=255, expand=True)
    if turn:
        page = page.rotate(turn, expand=True)
    page.info["dpi"] = (dpi, dpi)
    return page


def image_bytes(image: Image.Image, fmt: str = "PNG", **kwargs) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, dpi=image.info.get("dpi", (200, 200)), **kwargs)
    return out.getvalue()


def multipage_tiff(pages: list[Image.Image]) -> bytes:
    out = io.BytesIO()
    pages[0].save(out, "TIFF", save_all=True, append_images=pages[1:], dpi=(200, 200))
    return out.getvalue()


def scanned_pdf(pages: list[Image.Image]) -> bytes:
    import img2pdf

    return img2pdf.convert([image_bytes(p) for p in pages])


def png_chunk(ctype: bytes, data: bytes) -> bytes:
    body = ctype + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))


def png_header(width: int, height: int, bit_depth=8, colour=0) -> bytes:
    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, colour, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr)


@dataclass
class Desk:
    """Takes files in as a person of the scanning desk would, and processes them like the
    worker does (synchronously)."""

    world: object
    tmp: Path
    queued: list[int] = field(default_factory=list)
    ready: list[int] = field(default_factory=list)

    @property
    def rt(self):
        return self.world.rt

    @property
    def settings(self):
        """Everything through the worker, born-digital PDFs too (tests of the intake's own
        text reading pass ``settings=desk.rt.settings``)."""
        return replace_settings(self.rt.settings, ingest_text_at_intake_pages=0)

    def take(self, data: bytes | Path, filename: str | bytes = "scan.pdf", actor=None, **kw):
        kw.setdefault("target", Target(org_unit="32"))
        kw.setdefault("metadata", DocumentMetadata())
        settings = kw.pop("settings", self.settings)
        enqueue = kw.pop("enqueue", self.enqueue)
        with self.rt.session() as session:
            return intake(
                session,
                actor or self.world.scanner,
                self.rt.store,
                IncomingFile(data, filename, **kw),
                settings=settings,
                enqueue=enqueue,
            )

    def enqueue(self, document_id: int, *, ready: bool = False) -> None:
        """What the job queue is given: documents to process (not those finished at intake,
        which only the index must learn about: ``self.ready``)."""
        (self.ready if ready else self.queued).append(document_id)

    def process(self, document_id: int, **kw):
        with self.rt.session() as session:
            return process_document(session, self.rt.store, document_id, work_root=self.tmp, **kw)

    def process_queued(self) -> list:
        results = [self.process(doc_id) for doc_id in self.queued]
        self.queued.clear()
        return results

    def document(self, document_id: int) -> Document:
        with self.rt.session() as session:
            doc = session.get(Document, document_id)
            doc.versions  # noqa: B018  (load while the session is open)
            return doc


@pytest.fixture
def desk(world, tmp_path) -> Desk:
    work = tmp_path / "work"
    work.mkdir()
    return Desk(world, work)
