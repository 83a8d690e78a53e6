"""When Tesseract's orientation detection is unsure, let recognition decide (issue 18).

OSD judges a page by the shapes of a few hundred characters. On sparse or degraded pages its
confidence falls below the threshold at which OCRmyPDF acts (a page turned by 90° is then
recognised sideways: text that is not German at all), or its guess is simply wrong. Here the
text part of the page, reduced to about 150 dpi, is recognised in the candidate orientations
(OSD's guess first), and the orientation whose words are most often German dictionary words,
weighted by Tesseract's word confidence, wins. A clear win on the first candidate ends the
vote early, so a page costs one small recognition more often than four. Pages the quick
upright test or OSD answer with confidence never come here.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageOps

from eakte.ingest import german_words, tesseract_api

log = logging.getLogger(__name__)

LANGUAGES = "deu+eng"
# One uniform block of text: no layout analysis, which would find sideways text lines and
# read them as well as upright ones (the vote could not tell 0° from 90°), and costs time.
PSM_SINGLE_BLOCK = 6
WORK_DPI = 150  # x-height about 10 pixels for 11 pt: enough for Tesseract, a quarter of 300 dpi
MAX_SIDE = 500  # pixels of the sample at WORK_DPI: about 8 cm, some six text lines
A4_LONG_INCHES = 11.69
TIMEOUT_S = 10.0
CLEAR_WIN = 0.7  # dictionary share that ends the vote at the first candidate ...
CLEAR_WORDS = 8  # ... with at least this many words judged


@dataclass(frozen=True)
class Ballot:
    degrees: int  # clockwise angle the page is turned by (OSD's convention)
    score: float  # confidence-weighted count of German words
    share: float  # dictionary share of the words judged
    words: int


def page_dpi(image: Image.Image) -> float:
    """The image's resolution, from its metadata or else guessed from an A4 page's size."""
    declared = image.info.get("dpi")
    if declared and min(declared) >= 50:
        return float(min(declared))
    return max(image.size) / A4_LONG_INCHES


def sample(image: Image.Image, dpi: float) -> Image.Image:
    """The part of the page with the most text, at about ``WORK_DPI`` and at most
    ``MAX_SIDE`` pixels a side: the window with the most ink on an 8 × 8-pixel grid, where
    text lines stay dark and lone speckles fade."""
    gray = image.convert("L")
    factor = max(1, round(dpi / WORK_DPI))
    if factor > 1:
        gray = gray.reduce(factor)
    if max(gray.size) <= MAX_SIDE:
        return gray
    cell = 8
    coarse = np.asarray(ImageOps.invert(gray.reduce(cell)), dtype=np.float64)
    coarse[coarse < 40] = 0  # paper tone and faded speckles
    side = MAX_SIDE // cell
    high, wide = min(side, coarse.shape[0]), min(side, coarse.shape[1])
    total = np.pad(coarse.cumsum(0).cumsum(1), ((1, 0), (1, 0)))
    sums = total[high:, wide:] - total[:-high, wide:] - total[high:, :-wide] + total[:-high, :-wide]
    y, x = np.unravel_index(int(np.argmax(sums)), sums.shape)
    left, top = int(x) * cell, int(y) * cell
    return gray.crop((left, top, left + wide * cell, top + high * cell))


def ballot(engine: tesseract_api.Engine, part: Image.Image, degrees: int, dpi: int) -> Ballot:
    """Recognise ``part`` turned back from ``degrees`` and judge the words."""
    upright = part.rotate(degrees, expand=True) if degrees else part  # PIL turns anticlockwise
    words = [
        w for w in engine.words(upright, TIMEOUT_S, dpi) if len(german_words.tokens(w.text)) == 1
    ]
    german = [w for w in words if german_words.is_german(german_words.tokens(w.text)[0])]
    score = sum(max(w.confidence, 0.0) / 100 for w in german)
    return Ballot(degrees, score, len(german) / len(words) if words else 0.0, len(words))


def vote(image: Image.Image, guess: int) -> Ballot | None:
    """The orientation recognition reads best, OSD's ``guess`` first; ``None`` when no
    orientation yields German words (a blank page, a picture: left as it is)."""
    dpi = page_dpi(image)
    part = sample(image, dpi)
    work_dpi = round(dpi / max(1, round(dpi / WORK_DPI)))
    order = [guess % 360] + [d for d in (0, 180, 90, 270) if d != guess % 360]
    ballots = []
    with tesseract_api.borrowed(LANGUAGES, PSM_SINGLE_BLOCK) as engine:
        for degrees in order:
            found = ballot(engine, part, degrees, work_dpi)
            ballots.append(found)
            if found.share >= CLEAR_WIN and found.words >= CLEAR_WORDS:
                break
    best = max(ballots, key=lambda b: (b.score, b.degrees == guess))
    log.debug("orientation vote: %s", ballots)
    return best if best.score > 0 else None
