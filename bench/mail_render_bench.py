"""Benchmark: a typical mail message (a letter of about a page, three attachments) read and
rendered to PDF/A as the worker does (``mail_render``): parse, and write the PDF/A-2b with fpdf2.
With ``--ocrmypdf`` also the alternative measured for comparison: the same page written as a plain
PDF and made PDF/A by OCRmyPDF/Ghostscript, as the scan path would (``--force-ocr``: with
Debian 12's Ghostscript 10.0, OCRmyPDF refuses ``--skip-text`` on a PDF that has text).

    .venv/bin/python -m bench.mail_render_bench [--runs 20] [--ocrmypdf]

Prints the median and the spread of each, in milliseconds per message.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from eakte.ingest import mail
from eakte.ingest.mail_render import render_message, sections
from tests.ingest.conftest import GERMAN, born_digital_pdf, image_bytes, scan_image
from tests.ingest.mails import letter


def typical() -> bytes:
    message = letter("Antrag auf Gaststättenerlaubnis", "\n".join(GERMAN * 6) + "\n")
    message.add_attachment(
        born_digital_pdf(3), maintype="application", subtype="pdf", filename="Antrag.pdf"
    )
    message.add_attachment(
        image_bytes(scan_image()), maintype="image", subtype="png", filename="Foto.png"
    )
    message.add_attachment(b"x" * 2000, maintype="text", subtype="csv", filename="Liste.csv")
    return message.as_bytes()


def _timed(fn, runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return times


def _report(name: str, times: list[float]) -> None:
    print(
        f"{name:<34} median {statistics.median(times):7.1f} ms   "
        f"min {min(times):7.1f}   max {max(times):7.1f}   (n={len(times)})"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--ocrmypdf", action="store_true")
    args = parser.parse_args()
    raw = typical()
    with tempfile.TemporaryDirectory() as work:
        work = Path(work)
        original = work / "m.eml"
        original.write_bytes(raw)
        print(f"message: {len(raw):,} bytes, 3 attachments")
        render_message(original, mail.EML_MIME, work / "warm.pdf")  # fonts' cmap read once
        _report("parse", _timed(lambda: mail.parse(raw, "eml", mail.MailLimits()), args.runs))
        _report(
            "parse + PDF/A (fpdf2) + text",
            _timed(lambda: render_message(original, mail.EML_MIME, work / "r.pdf"), args.runs),
        )
        if args.ocrmypdf:
            import ocrmypdf
            from fpdf import FPDF
            from fpdf.enums import XPos, YPos

            below = {"new_x": XPos.LMARGIN, "new_y": YPos.NEXT}

            message = mail.parse(raw, "eml", mail.MailLimits())

            def plain_then_ocrmypdf() -> None:
                pdf = FPDF()
                pdf.add_font("dejavu", fname="/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
                pdf.set_font("dejavu", size=10)
                pdf.add_page()
                for section in sections(message, mail.MailLimits()):
                    for label, value in section.rows:
                        pdf.multi_cell(0, 5, f"{label}: {value}", **below)
                    for text in section.paragraphs:
                        pdf.multi_cell(0, 5, text, **below)
                pdf.output(str(work / "plain.pdf"))
                ocrmypdf.ocr(
                    work / "plain.pdf",
                    work / "ocr.pdf",
                    force_ocr=True,  # --skip-text is refused with Debian 12's Ghostscript 10.0
                    output_type="pdfa-2",
                    progress_bar=False,
                )

            _report(
                "plain PDF + OCRmyPDF (force) PDF/A",
                _timed(plain_then_ocrmypdf, max(3, args.runs // 5)),
            )


if __name__ == "__main__":
    main()
