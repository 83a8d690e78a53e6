"""Benchmark: pages in any orientation (issue 18).

Generated degraded German pages (``tests.fixtures.german_pages``: 200 and 300 dpi, speckle
noise, blur, skew; full and sparse letters) go through the OCR step as the worker runs it
(img2pdf, OCRmyPDF with eAkte's engine: quick upright test, OSD, and the recognition vote where
OSD is unsure), turned by 0°, 90°, 180° and 270°. Reported: word recall per angle against the
drawn text (target: every angle within 2 points of the upright pages'), how many pages the
vote decided, and the time added on upright pages, measured in the same run against the same
pages with the vote switched off, alternating page by page (target ≤ 3 %).

    .venv/bin/python -m bench.orientation_bench [--pages 6]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from eakte.ingest import orientation_vote
from eakte.ingest.ocr import image_to_pdf, ocr_to_pdfa
from tests.fixtures.german_pages import german_page, turned, word_recall

ANGLES = (0, 90, 180, 270)


def _pages(count: int):
    for i in range(count):
        dpi = 300 if i % 2 else 200
        yield german_page(
            100 + i,
            dpi=dpi,
            sparse=i % 3 == 0,
            noise=0.02 + 0.01 * (i % 3),
            blur=0.6 + 0.3 * (i % 3),
        )


def _ocr(work: Path, page, angle: int, name: str) -> tuple[float, float]:
    source = work / f"{name}.png"
    turned(page, angle).save(source, dpi=(page.dpi, page.dpi))
    pdf = work / f"{name}.pdf"
    image_to_pdf(source, pdf)
    started = time.perf_counter()
    texts = ocr_to_pdfa(pdf, work / f"{name}-out.pdf", work / f"{name}.txt")
    seconds = time.perf_counter() - started
    return word_recall(page.text, texts[0]), seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=6)
    args = parser.parse_args()
    print(f"load average at start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    pages = list(_pages(args.pages))
    recall: dict[int, list[float]] = {a: [] for a in ANGLES}
    votes = 0
    real_vote = orientation_vote.vote

    def counted(image, guess):
        nonlocal votes
        votes += 1
        return real_vote(image, guess)

    with_vote, without_vote = [], []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        orientation_vote.vote = counted  # type: ignore[assignment]
        _ocr(work, pages[0], 0, "warm-up")  # models loaded once, as in a worker
        votes = 0
        for n, page in enumerate(pages):
            for angle in ANGLES:
                found, _ = _ocr(work, page, angle, f"p{n}-{angle}")
                recall[angle].append(found)
        turned_votes = votes
        # upright pages, with and without the vote, alternating so that load hits both alike
        for rounds in range(2):
            for n, page in enumerate(pages):
                for enabled in (True, False) if (n + rounds) % 2 else (False, True):
                    orientation_vote.vote = counted if enabled else (lambda image, guess: None)  # type: ignore[assignment]
                    _, seconds = _ocr(work, page, 0, f"t{n}")
                    (with_vote if enabled else without_vote).append(seconds)
        orientation_vote.vote = real_vote  # type: ignore[assignment]
    upright = statistics.mean(recall[0])
    print(f"{len(pages)} pages (200/300 dpi, full and sparse, noise, blur, skew) × 4 angles")
    for angle in ANGLES:
        mean = statistics.mean(recall[angle])
        print(
            f"  {angle:3d}°: word recall {100 * mean:5.1f} % "
            f"({100 * (mean - upright):+.1f} points vs upright; target within 2)"
        )
    print(f"  pages the vote decided: {turned_votes} of {len(pages) * 4}")
    added = sum(with_vote) / sum(without_vote) - 1
    print(
        f"upright pages: {sum(with_vote):.1f} s with the vote, {sum(without_vote):.1f} s "
        f"without ({len(with_vote)} runs each): {100 * added:+.1f} % (target ≤ 3 %)"
    )
    print(f"load average at end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
