"""Office conversion throughput: documents per second for a typical 3-page letter (DOCX and
ODT), converted to PDF/A-2b the way the worker does it (``eakte.ingest.office.convert``: one
bounded soffice per document, reused profile, no network) and its text read for search.

For comparison, the same documents converted by *one* soffice call (``--convert-to`` with
all files at once): roughly what a long-lived LibreOffice (unoserver) could reach, since it
pays the start-up once. Median over several rounds; prints its figures.

    PYTHONPATH=. .venv/bin/python bench/office_bench.py --docs 5 --rounds 3
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from eakte.ingest import office
from eakte.ingest.text import read_pdf

PARAGRAPH = (
    "Sehr geehrte Damen und Herren, bezugnehmend auf Ihren Antrag vom 3. November teilen wir "
    "Ihnen mit, dass die Prüfung der eingereichten Unterlagen abgeschlossen ist. Die Gebühren "
    "richten sich nach der Verwaltungskostensatzung der Stadt in der geltenden Fassung. "
)


def letter_fodt() -> str:
    """About three pages: letterhead, reference line, 24 paragraphs, closing."""
    body = "".join(f"<text:p>{number}. {PARAGRAPH * 2}</text:p>" for number in range(1, 25))
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<office:document '
        'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.3" '
        'office:mimetype="application/vnd.oasis.opendocument.text"><office:body><office:text>'
        "<text:p>Stadtverwaltung Usingen – Bauamt – Wilhelmjstraße 1</text:p>"
        "<text:p>Ihr Zeichen: 63-2026-117 – Bescheid über die Baugenehmigung</text:p>"
        f"{body}<text:p>Mit freundlichen Grüßen, Im Auftrag, Jürgen Müller</text:p>"
        "</office:text></office:body></office:document>"
    )


def make_letters(root: Path) -> dict[str, Path]:
    (root / "letter.fodt").write_text(letter_fodt(), encoding="utf-8")
    made = {}
    for kind in ("docx", "odt"):
        subprocess.run(
            [
                *("soffice", f"-env:UserInstallation={(root / 'gen-profile').as_uri()}"),
                *("--headless", "--convert-to", kind, "--outdir", str(root), "letter.fodt"),
            ],
            cwd=root,
            check=True,
            capture_output=True,
        )
        made[kind] = root / f"letter.{kind}"
    return made


def per_document(letter: Path, kind: str, docs: int, work: Path) -> tuple[float, int]:
    """Documents per second the worker's way; pages of the rendition."""
    pages = 0
    started = time.perf_counter()
    for number in range(docs):
        out = work / f"out-{number}"
        pdf = office.convert(
            letter,
            kind,
            out,
            profiles=work / "profiles",
            seconds=120,
            memory_bytes=2048 * 2**20,
        )
        pages = len(read_pdf(pdf).pages)
        shutil.rmtree(out)
    return docs / (time.perf_counter() - started), pages


def one_soffice(letter: Path, kind: str, docs: int, work: Path) -> float:
    """Documents per second with one soffice converting them all (start-up paid once)."""
    inputs = work / "batch-in"
    inputs.mkdir(exist_ok=True)
    files = []
    for number in range(docs):
        files.append(inputs / f"l{number}.{kind}")
        shutil.copyfile(letter, files[-1])
    started = time.perf_counter()
    subprocess.run(
        [
            *("soffice", f"-env:UserInstallation={(work / 'batch-profile').as_uri()}"),
            *("--headless", "--convert-to", f"pdf:writer_pdf_Export:{office.EXPORT_OPTIONS}"),
            *("--outdir", str(work / "batch-out"), *map(str, files)),
        ],
        check=True,
        capture_output=True,
    )
    return docs / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=5, help="documents per round and kind")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="office-bench-"))
    try:
        letters = make_letters(root)
        # warm both profiles once (the first start of a profile writes it)
        per_document(letters["odt"], "odt", 1, root)
        one_soffice(letters["odt"], "odt", 1, root)
        for kind, letter in letters.items():
            worker, batch, pages = [], [], 0
            for _ in range(args.rounds):
                rate, pages = per_document(letter, kind, args.docs, root)
                worker.append(rate)
                batch.append(one_soffice(letter, kind, args.docs, root))
            print(
                f"{kind}: {pages}-page letter, {args.docs} docs x {args.rounds} rounds: "
                f"{statistics.median(worker):.2f} docs/s one bounded soffice per document "
                f"(median; rounds {', '.join(f'{r:.2f}' for r in worker)}); "
                f"{statistics.median(batch):.2f} docs/s one soffice for all (median)"
            )
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
