"""Is a page upright? A quick answer from the shape of its text lines, before asking Tesseract.

Latin script is top-heavy: ascenders (b, d, f, h, k, l, t, capitals, umlaut dots; German
capitalises every noun) are far more common than descenders (g, j, p, q, y). On an upright
page the ink of each text line therefore lies more above its x-height band than below it; on a
page turned by 180° it is the other way round, and on a page turned by 90° there are no
horizontal text lines at all. Only a clear "upright" is answered here; everything else (turned,
sparse, unclear) goes to Tesseract's orientation detection, so a turned page is never missed
for the sake of speed.
"""

from __future__ import annotations

from PIL import Image, ImageOps

WORK_WIDTH = 800  # about 100 dpi for A4: x-height ~ 8 pixels for 11-12 pt text
MIN_LINES = 4
UPRIGHT_RATIO = 1.5  # ink above the x-height band / below it
ROWS_OVER_COLUMNS = 1.5  # text lines run across: rows are much sharper than columns
MAX_SKEW = 4.0


def _ink(image: Image.Image) -> Image.Image:
    gray = image.convert("L")
    if gray.width > WORK_WIDTH:
        gray = gray.reduce(max(1, gray.width // WORK_WIDTH))
    return ImageOps.invert(gray).point(lambda v: 255 if v > 100 else 0)


def _profile(ink: Image.Image, angle: float) -> list[int]:
    turned = ink.rotate(angle, resample=Image.Resampling.NEAREST, fillcolor=0)
    return list(turned.reduce((turned.width, 1)).tobytes())


def _sharpest(ink: Image.Image, step: float) -> tuple[int, list[int]]:
    best: tuple[int, list[int]] = (0, [])
    for i in range(-int(MAX_SKEW / step), int(MAX_SKEW / step) + 1):
        rows = _profile(ink, i * step)
        score = sum(v * v for v in rows)
        if score > best[0]:
            best = (score, rows)
    return best


def _lines(rows: list[int]) -> list[tuple[int, int]]:
    """Runs of rows with ink: the text lines."""
    floor = max(rows) * 0.05
    lines, start = [], None
    for y, value in enumerate([*rows, 0]):
        if value > floor and start is None:
            start = y
        elif value <= floor and start is not None:
            if y - start >= 4:
                lines.append((start, y))
            start = None
    return lines


def _top_heaviness(rows: list[int], lines: list[tuple[int, int]]) -> float:
    """Ink above the x-height bands over ink below them, summed over all lines."""
    above = below = 0
    for start, end in lines:
        band = rows[start:end]
        core = [y for y, v in enumerate(band) if v >= max(band) * 0.5]
        top, bottom = core[0], core[-1]
        above += sum(band[:top])
        below += sum(band[bottom + 1 :])
    return above / below if below else float("inf") if above else 0.0


def looks_upright(image: Image.Image) -> bool:
    """True only when the page clearly shows upright horizontal text lines."""
    ink = _ink(image)
    if sum(ink.histogram()[255:]) < 1000:
        return False
    row_score, rows = _sharpest(ink, 0.5)
    column_score, _ = _sharpest(ink.transpose(Image.Transpose.ROTATE_90), 1.0)
    if row_score < column_score * ROWS_OVER_COLUMNS:
        return False
    lines = _lines(rows)
    if len(lines) < MIN_LINES:
        return False
    return _top_heaviness(rows, lines) >= UPRIGHT_RATIO
