"""Benchmark (issue 17): what reading barcodes adds to the OCR pipeline per scanned page.

Scanned A4 pages (300 dpi, German text, generated as in ``ingest_ocr_bench``) as one image PDF,
as a network scanner delivers them. Measured in the same run, alternating rounds: the
pipeline's OCR step (``eakte.ingest.ocr.ocr_to_pdfa``: OCRmyPDF with Tesseract, PDF/A) on the
PDF, and the barcode pass of ``intake_scan`` (``split.plan``: every page rendered at
``EAKTE_BARCODE_DPI`` and read for QR / Code 128). Target: barcode time ≤ 5 % of OCR time.

    .venv/bin/python -m bench.barcode_bench [--pages 6] [--rounds 2] [--dpi 100]
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from pathlib import Path

import img2pdf

from bench.ingest_ocr_bench import page
from eakte.ingest import split
from eakte.ingest.ocr import ocr_to_pdfa


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pages", type=int, default=6)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--dpi", type=int, default=100)
    args = parser.parse_args()
    rng = random.Random(17)
    with tempfile.TemporaryDirectory() as work_dir:
        work = Path(work_dir)
        jpegs = []
        for number in range(args.pages):
            image, _text = page(rng, number)
            path = work / f"p{number}.jpg"
            image.convert("L").save(path, "JPEG", quality=85, dpi=(300, 300))
            jpegs.append(path)
        stack = work / "stack.pdf"
        stack.write_bytes(img2pdf.convert([str(p) for p in jpegs]))
        ocr_times, code_times = [], []
        for round_ in range(args.rounds):
            started = time.perf_counter()
            found = split.plan(stack, "pdf", pages_read="every", dpi=args.dpi, separator="PATCHT")
            code_times.append((time.perf_counter() - started) / args.pages)
            assert found.trivial and found.pages == args.pages
            started = time.perf_counter()
            ocr_to_pdfa(stack, work / f"out{round_}.pdf", work / f"out{round_}.txt", threads=1)
            ocr_times.append((time.perf_counter() - started) / args.pages)
        ocr, codes = statistics.median(ocr_times), statistics.median(code_times)
        print(f"{args.pages} pages, {args.rounds} rounds, barcodes at {args.dpi} dpi")
        print(f"OCR pipeline step: {ocr * 1000:.0f} ms/page")
        print(f"barcode pass:      {codes * 1000:.1f} ms/page")
        print(f"ratio: {codes / ocr * 100:.1f} % (target <= 5 %)")


if __name__ == "__main__":
    main()
