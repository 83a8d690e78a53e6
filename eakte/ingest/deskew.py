"""The skew angle of a scanned page, from the projection profile of its ink.

Text lines are sharpest in the row profile (many ink rows, many empty rows between lines) when
the page is straight. The page is reduced to about 70 dpi and binarised, then turned through
candidate angles, coarse to fine; the best angle is what the page must be turned by. This costs
tens of milliseconds, where a Tesseract layout pass costs most of a second.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageOps

MAX_ANGLE = 5.0  # scans are rarely more skewed; beyond that the feeder or operator erred
MIN_ANGLE = 0.1  # below this a turn is invisible and would only cost a resampling
WORK_WIDTH = 600
MIN_INK_PIXELS = 500


def _binarised(page: Path | Image.Image) -> Image.Image | None:
    if isinstance(page, Image.Image):
        gray = page.convert("L")
    else:
        with Image.open(page) as im:
            im.draft("L", (WORK_WIDTH, WORK_WIDTH * 2))  # JPEG decodes at a reduced scale
            gray = im.convert("L")
    if gray.width > WORK_WIDTH:
        gray = gray.reduce(max(1, gray.width // WORK_WIDTH))
    # Ink becomes white (255) on black, so that turning fills the corners with "no ink".
    ink = ImageOps.invert(gray).point(lambda v: 255 if v > 100 else 0)
    if sum(ink.histogram()[255:]) < MIN_INK_PIXELS:
        return None
    return ink


def _sharpness(ink: Image.Image, angle: float) -> int:
    turned = ink.rotate(angle, resample=Image.Resampling.NEAREST, fillcolor=0)
    rows = turned.reduce((turned.width, 1)).tobytes()  # mean ink per row
    return sum(v * v for v in rows)


def skew_angle(page: Path | Image.Image) -> float:
    """Degrees to turn the page (an image file or image) counter-clockwise (PIL's ``rotate``)
    to straighten it; 0.0 when it is straight, blank, or the text gives no clear answer."""
    ink = _binarised(page)
    if ink is None:
        return 0.0
    best, step = 0.0, 0.5
    candidates = [i * step for i in range(int(-MAX_ANGLE / step), int(MAX_ANGLE / step) + 1)]
    while True:
        scores = {a: _sharpness(ink, a) for a in candidates}
        best = max(scores, key=lambda a: (scores[a], -abs(a)))
        if step <= 0.05:
            break
        step /= 5
        candidates = [best + i * step for i in range(-5, 6)]
    if abs(best) < MIN_ANGLE or abs(best) >= MAX_ANGLE:
        return 0.0
    return round(best, 2)
