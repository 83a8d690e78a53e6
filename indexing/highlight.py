"""Snippets: a piece of text around the best hits, hits marked with ``<mark>``, every other
character HTML-escaped (a document containing ``<script>`` shows it as text)."""

from __future__ import annotations

import re
from html import escape

from indexing.analysis import GermanAnalyzer

SNIPPET_CHARS = 240
# Hits looked at per document: enough to find a good window, bounded for long documents.
MAX_HITS = 50


class Marker:
    """Decides which words of a text are hits: their analysed term is a query term or starts
    with a query prefix.

    Analysing every word of a long document is slow (stemming); a regular expression first
    finds the few words that could be hits — those beginning like a query term, in any of the
    spellings the analysis folds together — and only those are analysed.
    """

    def __init__(self, analyzer: GermanAnalyzer, terms: set[str], prefixes: list[str]):
        self.analyzer = analyzer
        self.terms = set(terms)
        self.prefixes = tuple(prefixes)
        starts = {_spellings(t[:3]) for t in self.terms | set(self.prefixes) if t}
        self.candidates = (
            re.compile(r"\b(?:" + "|".join(sorted(starts)) + r")\w*", re.IGNORECASE)
            if starts
            else None
        )

    def is_hit(self, word: str) -> bool:
        term = self.analyzer.term(word)
        if term is None:
            return False
        return term in self.terms or bool(self.prefixes and term.startswith(self.prefixes))

    def spans(self, text: str, limit: int = MAX_HITS) -> list[tuple[int, int]]:
        """Where the hits are, up to ``limit`` of them."""
        if self.candidates is None:
            return []
        found = []
        for match in self.candidates.finditer(text):
            if self.is_hit(match.group()):
                found.append(match.span())
                if len(found) >= limit:
                    break
        return found


_FOLDED = {"a": "(?:a|ä|ae)", "o": "(?:o|ö|oe)", "u": "(?:u|ü|ue)", "s": "(?:s|ß)"}


def _spellings(start: str) -> str:
    """A pattern for the beginnings of words whose analysed term starts with ``start``."""
    return "".join(_FOLDED.get(c, re.escape(c)) for c in start)


def mark(text: str, spans: list[tuple[int, int]], start: int = 0, end: int | None = None) -> str:
    """``text[start:end]`` as HTML with the spans inside it marked."""
    end = len(text) if end is None else end
    out, pos = [], start
    for s, e in spans:
        if s < start or e > end:
            continue
        out.append(escape(text[pos:s]))
        out.append(f"<mark>{escape(text[s:e])}</mark>")
        pos = e
    out.append(escape(text[pos:end]))
    return "".join(out)


def snippet(text: str, marker: Marker, size: int = SNIPPET_CHARS) -> str:
    """The window of ``size`` characters with the most hits (the text's start when there are
    none), as HTML."""
    text = " ".join(text.split())  # line breaks and runs of spaces do not help a snippet
    if not text:
        return ""
    spans = marker.spans(text)
    if not spans:
        cut = _word_end(text, size)
        return escape(text[:cut]) + (" …" if cut < len(text) else "")
    best, best_count, j = 0, 0, 0
    for i, (s, _e) in enumerate(spans):
        while j < len(spans) and spans[j][1] <= s + size:
            j += 1
        if j - i > best_count:
            best, best_count = i, j - i
    first = spans[best][0]
    start = max(0, first - size // 4)
    if start:
        space = text.find(" ", start)
        start = space + 1 if 0 <= space < first else start
    end = _word_end(text, start + size)
    return (
        ("… " if start else "") + mark(text, spans, start, end) + (" …" if end < len(text) else "")
    )


def highlight_all(text: str, marker: Marker) -> str:
    """The whole (short) text with its hits marked, e.g. a title."""
    return mark(text, marker.spans(text))


def _word_end(text: str, at: int) -> int:
    if at >= len(text):
        return len(text)
    space = text.rfind(" ", 0, at)
    return space if space > at // 2 else at
