"""German text analysis, identical at index and query time.

One pass per text: words are found by a regular expression, and each distinct word is normalised
once (then cached): lower case, German folding (ä→ae, ö→oe, ü→ue, ß→ss, other accents dropped),
German stop words removed, Snowball German stem. So "Gebühr", "Gebuehr" and "Gebühren" all
become ``gebuehr``. Positions count only the words kept, so a phrase with a stop word in it still
matches (the stop word is simply not looked at).

A whole chain of Whoosh filters costs several generator steps per word; at 100,000 documents
of up to 2,000 words that decides the rebuild time, hence the single pass and the cache.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator
from typing import Any

from whoosh.analysis import Analyzer, Token
from whoosh.formats import Positions
from whoosh.lang.snowball.german import GermanStemmer
from whoosh.lang.stopwords import stoplists

WORD = re.compile(r"\w+", re.UNICODE)
# The Snowball "german2" variant: ae, oe, ue (not after q) are umlauts spelt without them.
_DIGRAPHS = re.compile(r"ae|oe|(?<!q)ue")
_UMLAUT = {"ae": "ä", "oe": "ö", "ue": "ü"}
_PLAIN = str.maketrans({"ä": "a", "ö": "o", "ü": "u"})
# Words longer than this are noise (hashes, base64, OCR garbage) and only bloat the term list.
MAX_WORD = 40
_CACHE_LIMIT = 300_000


def normalise(word: str) -> str:
    """Lower case, ß→ss, ae/oe/ue→ä/ö/ü, other diacritics removed: one spelling per word."""
    text = word.lower().replace("ß", "ss").replace("ẞ", "ss")
    if not text.isascii():
        text = "".join(map(_strip_accent, text))
    return _DIGRAPHS.sub(lambda m: _UMLAUT[m.group()], text)


def _strip_accent(char: str) -> str:
    # Umlauts stay (the stemmer treats them as vowels); é→e, ñ→n; letters like ø stay.
    if char.isascii() or char in "äöü":
        return char
    return "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c))


def fold(word: str) -> str:
    """The spelling stems are made of (umlauts as plain vowels): for wildcard patterns."""
    return normalise(word).translate(_PLAIN)


STOP_WORDS = frozenset(normalise(word) for word in stoplists["de"])
_stemmer = GermanStemmer()


def stem(normalised: str) -> str:
    """The Snowball German stem of a normalised word; numbers and short words stay as they are
    (folded like every stem)."""
    if len(normalised) < 3 or not normalised.isalpha():
        return normalised.translate(_PLAIN)
    stemmed: str = _stemmer.stem(normalised)
    return stemmed


class GermanAnalyzer(Analyzer):  # type: ignore[misc]  # Whoosh has no type information
    """A Whoosh analyzer: words → folded, stop-word-free, stemmed terms.

    ``mode="query"`` with ``tokenize=False`` (wildcards) only folds: a pattern is not stemmed.
    """

    def __init__(self, stemming: bool = True, stop_words: bool = True):
        self.stemming = stemming
        self.stop_words = stop_words
        self._cache: dict[str, str | None] = {}

    def __getstate__(self) -> dict[str, Any]:
        # The schema (with this analyzer) is pickled into the index; the cache is not part of it.
        return {"stemming": self.stemming, "stop_words": self.stop_words}

    def __setstate__(self, state: dict[str, Any]) -> None:
        GermanAnalyzer.__init__(self, **state)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, GermanAnalyzer) and self.__getstate__() == other.__getstate__()

    def __hash__(self) -> int:
        return hash((self.stemming, self.stop_words))

    def exact(self, word: str) -> str:
        """One word as a query term (fuzzy terms): stemmed like indexed words, stop word or not."""
        return stem(normalise(word))

    def prefix(self, base: str) -> str:
        """What a prefix query (``Gebühren*``) looks for: short prefixes only folded."""
        return stem(normalise(base)) if len(base) > 3 else fold(base)

    def pattern(self, text: str) -> str:
        """A wildcard pattern: folded, not stemmed."""
        return fold(text)

    def term(self, word: str) -> str | None:
        """The index term of one word, or None for a stop word or noise."""
        try:
            return self._cache[word]
        except KeyError:
            return self._learn([word])[word]

    def _learn(self, words: Iterable[str]) -> dict[str, str | None]:
        cache = self._cache
        if len(cache) >= _CACHE_LIMIT:
            # The next texts start a new cache: the text being analysed looks up its other
            # words in this one (clearing it would lose them: a KeyError).
            self._cache = {}
        for word in words:
            normal = normalise(word)
            if len(normal) > MAX_WORD or (self.stop_words and normal in STOP_WORDS):
                cache[word] = None
            else:
                cache[word] = stem(normal) if self.stemming else normal.translate(_PLAIN)
        return cache

    def terms(self, text: str) -> list[str]:
        """The index terms of a text, in order."""
        words = WORD.findall(text)
        cache = self._cache
        unknown = [word for word in set(words) if word not in cache]
        if unknown:
            cache = self._learn(unknown)
        return [t for t in map(cache.__getitem__, words) if t is not None]

    def positions(self, text: str) -> dict[str, list[int]]:
        """term → positions; what the index stores for a text field (see ``PositionsFormat``)."""
        words = WORD.findall(text)
        cache = self._cache
        unknown = [word for word in set(words) if word not in cache]
        if unknown:
            cache = self._learn(unknown)
        found: dict[str, list[int]] = {}
        get = found.get
        pos = 0
        for term in map(cache.__getitem__, words):
            if term is None:
                continue
            known = get(term)
            if known is None:
                found[term] = [pos]
            else:
                known.append(pos)
            pos += 1
        return found

    def __call__(
        self,
        value: str,
        positions: bool = False,
        chars: bool = False,
        keeporiginal: bool = False,
        removestops: bool = True,
        start_pos: int = 0,
        start_char: int = 0,
        tokenize: bool = True,
        mode: str = "",
        **kwargs: Any,
    ) -> Iterator[Any]:
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        if not tokenize:
            # One word as it is (fuzzy terms): stemmed like indexed words; patterns only folded.
            text = self.pattern(value) if any(c in value for c in "*?") else self.exact(value)
            token.original = token.text = text
            token.pos, token.startchar = start_pos, start_char
            token.endchar = start_char + len(value)
            yield token
            return
        pos = start_pos
        term = self.term
        for match in WORD.finditer(value):
            found = term(match.group())
            if found is None:
                continue
            token.text = found
            token.boost = 1.0
            if keeporiginal:
                token.original = match.group()
            if positions:
                token.pos = pos
            if chars:
                token.startchar = start_char + match.start()
                token.endchar = start_char + match.end()
            pos += 1
            yield token


class PositionsFormat(Positions):  # type: ignore[misc]  # Whoosh has no type information
    """Whoosh's positions format, fed by ``GermanAnalyzer.positions`` in one pass instead of a
    token stream (the same postings, a fraction of the Python calls)."""

    def word_values(
        self, value: Any, analyzer: Any, **kwargs: Any
    ) -> Iterator[tuple[str, int, float, bytes]]:
        if not isinstance(analyzer, GermanAnalyzer) or not isinstance(value, str):
            yield from super().word_values(value, analyzer, **kwargs)
            return
        fb = self.field_boost
        encode = self.encoded
        for term, poslist in analyzer.positions(value).items():
            yield term, len(poslist), len(poslist) * fb, encode(poslist)

    def encoded(self, poslist: list[int]) -> bytes:
        """``encode``, with the few values of single positions made once."""
        if len(poslist) == 1:
            vbytes = _SINGLE_POSITION.get(poslist[0])
            if vbytes is None:
                vbytes = _SINGLE_POSITION[poslist[0]] = self.encode(poslist)
            return vbytes
        encoded: bytes = self.encode(poslist)
        return encoded


# Most terms occur once in a document: their encoded position list is one of few values.
_SINGLE_POSITION: dict[int, bytes] = {}
