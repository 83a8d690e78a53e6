"""German text for PostgreSQL: folded in Python, stemmed by the ``german`` configuration.

PostgreSQL's ``german`` configuration stems (its Snowball stemmer also folds ä→a and ß→ss)
and drops stop words, but does not read "ae" as "ä": so every word is first brought to one
spelling here — lower case, ae/oe/ue→ä/ö/ü, ß→ss, other accents dropped (the normalisation of
the Whoosh analysis) — and German stop words (the Whoosh list) are removed, identically for
documents and queries. "Gebühr", "Gebuehr" and "Gebühren" thus become "gebühr", "gebühr",
"gebühren", which the configuration stems alike ("gebuhr"), as "Anträge" and "Antrag".
"""

from __future__ import annotations

from collections.abc import Iterable

from indexing.analysis import MAX_WORD, STOP_WORDS, WORD, GermanAnalyzer, normalise

_CACHE_LIMIT = 300_000


def surface(word: str) -> str:
    """One spelling per word, unstemmed: "Gebühren" and "GEBUEHREN" → "gebühren"."""
    return normalise(word)


class SurfaceAnalyzer(GermanAnalyzer):
    """The query parser's analyzer for this backend: terms are folded words, not stems (the
    database stems them with the ``german`` configuration)."""

    def __init__(self, **_settings: object) -> None:
        super().__init__(stemming=False, stop_words=True)

    def _learn(self, words: Iterable[str]) -> dict[str, str | None]:
        cache = self._cache
        if len(cache) >= _CACHE_LIMIT:
            # The next texts start a new cache: the text being analysed looks up its other
            # words in this one (clearing it would lose them: a KeyError).
            self._cache = {}
        for word in words:
            normal = normalise(word)
            if len(normal) > MAX_WORD or normal in STOP_WORDS:
                cache[word] = None
            else:
                cache[word] = normal
        return cache

    def exact(self, word: str) -> str:
        return surface(word)

    def prefix(self, base: str) -> str:
        return surface(base)

    def pattern(self, text: str) -> str:
        return surface(text)

    def fold_text(self, text: str, limit: int) -> str:
        """A text as the database analyses it: folded words without stop words, by spaces."""
        if len(text) > limit:
            text = text[:limit]
        return " ".join(self.terms(text))


def words_of(folded: str) -> set[str]:
    return set(folded.split())


__all__ = ["WORD", "SurfaceAnalyzer", "surface", "words_of"]
