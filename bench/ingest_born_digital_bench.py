"""Benchmark: bulk import of born-digital 3-page PDFs (issue 4).

Targets: from the start of ``eakte import`` until every document is searchable, at least 50
documents/s on a 2-core machine; no process above 500 MB resident memory during a 10,000-document
import. A fresh installation in /tmp with the embedded defaults (SQLite, embedded SeaweedFS, Huey
on SQLite) runs ``eakte worker -w 2`` and ``eakte import``; the benchmark watches the database
until every document is ``ready`` and then indexed, and samples the memory of every process
involved (import, worker and its children, SeaweedFS) four times a second.

    .venv/bin/python -m bench.ingest_born_digital_bench [--docs 10000] [--workers 2] [--jobs 4]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from fpdf import FPDF

from bench._ingest_setup import MemoryWatch, installation, load, stop, wait_for

LETTER = [
    "Stadtverwaltung Usingen, Ordnungsamt, Wilhelmjstrasse 1, 61250 Usingen",
    "Gewerbeanmeldung nach Paragraph 14 Gewerbeordnung, Vorgang DOC0000000",
    "Sehr geehrte Damen und Herren, hiermit melde ich den Betrieb einer Baeckerei an.",
    "Betriebsstaette: Hauptstrasse 12. Beginn der Taetigkeit: 1. Maerz 2026.",
    "Die Gebuehren fuer die Anmeldung betragen 26 Euro und werden per Bescheid erhoben.",
]


def template(pages: int) -> bytes:
    """A born-digital letter with a placeholder (core font, uncompressed content) that each
    document replaces by its number, so that every document is different."""
    pdf = FPDF()
    pdf.compress = False
    pdf.set_font("helvetica", size=11)
    for page in range(pages):
        pdf.add_page()
        for _ in range(6):
            for line in LETTER:
                pdf.multi_cell(0, 6, f"{line} (Seite {page + 1})", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def generate(target: Path, count: int, pages: int) -> None:
    base = template(pages)
    assert base.count(b"DOC0000000") == pages * 6
    for number in range(count):
        folder = target / f"{number // 1000:03d}"
        folder.mkdir(parents=True, exist_ok=True)
        data = base.replace(b"DOC0000000", f"DOC{number:07d}".encode())
        (folder / f"gewerbe-{number:06d}.pdf").write_bytes(data)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=10_000)
    parser.add_argument("--pages", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2, help="eakte worker -w N")
    parser.add_argument("--jobs", type=int, default=4, help="eakte import -j N")
    parser.add_argument("--keep", action="store_true", help="keep the data dir")
    args = parser.parse_args()

    with installation("eakte-bench-born-digital-", keep=args.keep) as inst:
        source = inst.files / "archive"
        generate(source, args.docs, args.pages)
        print(f"born-digital import: {args.docs} documents of {args.pages} pages")
        print(f"  before: {load()}")
        with MemoryWatch([inst.server.pid]) as memory:
            worker = inst.start("worker", "-w", str(args.workers), log="worker")
            memory.add(worker.pid)
            time.sleep(2)  # the worker is up (the clock starts with the import, not before)
            start = time.monotonic()
            importer = inst.start(
                "import", str(source), "--user", "scan", "-j", str(args.jobs), log="import"
            )
            memory.add(importer.pid)
            try:
                importer.wait(timeout=3600)
                imported = time.monotonic()
                ready = wait_for(lambda: inst.counts().get("ready", 0) >= args.docs, 3600)
                try:
                    indexed = wait_for(lambda: inst.counts().get("indexed", 0) >= args.docs, 600)
                except TimeoutError:
                    indexed = None
            finally:
                stop(worker)
        if importer.returncode != 0:
            raise SystemExit(f"eakte import failed: {(inst.data_dir / 'import.err').read_text()}")
        counts = inst.counts()
        print(f"  documents: {counts}")
        print(f"  import command alone:   {imported - start:7.1f} s  "
              f"({args.docs / (imported - start):6.1f} documents/s)")  # fmt: skip
        print(f"  import start to ready:  {ready - start:7.1f} s  "
              f"({args.docs / (ready - start):6.1f} documents/s)")  # fmt: skip
        if indexed is not None:
            rate = args.docs / (indexed - start)
            print(f"  import start to searchable: {indexed - start:7.1f} s  "
                  f"({rate:6.1f} documents/s)   target: >= 50")  # fmt: skip
        else:
            print("  not all documents were indexed within 10 minutes of being ready")
        name, peak = memory.peak
        print(f"  peak RSS of any process: {peak / 2**20:6.0f} MB ({name})   target: < 500 MB")
        for key, value in sorted(memory.peaks.items(), key=lambda kv: -kv[1])[:6]:
            print(f"    {key:24} {value / 2**20:6.0f} MB")
        print("  CPU seconds by process:")
        for key, value in sorted(memory.cpu.items(), key=lambda kv: -kv[1])[:8]:
            print(f"    {key:24} {value:6.1f} s")
        print(f"  after: {load()}")


if __name__ == "__main__":
    main()
