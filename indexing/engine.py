"""Document sets as bitmaps, ranking over whole posting lists: exact counts, facets, filters
and BM25 at interactive speed.

Whoosh answers queries one posting at a time in Python; at 100,000 documents a common word has
tens of thousands of postings. Here:

- a query's matching documents are a Python ``int`` used as a bit set (bit n = document n of
  the searcher); AND, OR, NOT and counting are single C operations over a few kilobytes;
- a term's postings are read block by block straight from the segment files into arrays, and
  cached per segment (segments never change apart from deletions, which a per-segment "live"
  mask takes care of), so a new commit only costs the new segment;
- ranking is BM25F as Whoosh computes it (same idf, average lengths and stored field lengths),
  term at a time over the arrays, then the best of the matching documents are picked.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import OrderedDict
from collections.abc import Callable
from functools import reduce
from operator import and_, or_
from typing import Any

import numpy as np
from whoosh import query as Q
from whoosh.automata.fsa import find_all_matches
from whoosh.automata.lev import levenshtein_automaton
from whoosh.fields import DATETIME, NUMERIC

from indexing import whoosh_compat as compat
from indexing.segments import (
    MAX_EXPANSION,
    SegmentData,
    TooManyTerms,
    bits_from_ids,
    ids_from_bits,
    in_a_row,
    positions,
)

SCORED_FIELDS = ("text", "title", "correspondent")
RANKING_CODES = ("reference", "kind")
# Whoosh's BM25F defaults.
BM25_B = 0.75
BM25_K1 = 1.2


class View:
    """One opened state of the index (a Whoosh searcher) with its bit sets."""

    def __init__(self, searcher: Any, segment_cache: dict[str, SegmentData]) -> None:
        self.searcher = searcher
        self.leaves = []
        total = 0
        for sub, offset in searcher.leaf_searchers():
            reader = sub.reader()
            segment = reader.segment() if hasattr(reader, "segment") else None
            if segment is None:
                continue  # an empty index has a reader without segments
            segid = segment.segment_id()
            data = segment_cache.get(segid)
            if data is None:
                data = segment_cache[segid] = SegmentData(reader)
            live = (1 << data.size) - 1
            if segment.has_deletions():
                deleted = np.fromiter(segment.deleted_docs(), dtype=np.int64)
                live &= ~bits_from_ids(deleted, data.size)
            self.leaves.append((sub, reader, offset, data, live))
            total |= live << offset
        self.all = total
        self.size = searcher.doc_count_all()
        self._cache: OrderedDict[object, int] = OrderedDict()
        self._facets: dict[str, dict[str, int]] = {}
        self._dates: np.ndarray | None = None

    # --- bit sets ------------------------------------------------------------------------------

    def _btext(self, fieldname: str, text: object) -> bytes:
        return text if isinstance(text, bytes) else self.searcher.schema[fieldname].to_bytes(text)

    def term(self, fieldname: str, text: object) -> int:
        if fieldname not in self.searcher.schema:
            return 0
        btext = self._btext(fieldname, text)
        bits = 0
        for _sub, reader, offset, data, live in self.leaves:
            local = data.term(reader, fieldname, btext) & live
            if local:
                bits |= local << offset
        return bits

    def cached(self, key: object, compute: Callable[[], int]) -> int:
        bits = self._cache.get(key)
        if bits is None:
            bits = self._cache[key] = compute()
            if len(self._cache) > 256:
                self._cache.popitem(last=False)
        return bits

    def bitmap(self, q: Q.Query) -> int:
        """The documents ``q`` matches (what Whoosh would match, without scoring)."""
        if isinstance(q, Q.Term):
            return self.term(q.fieldname, q.text)
        if isinstance(q, Q.And):
            return reduce(and_, (self.bitmap(sub) for sub in q.subqueries), self.all)
        if isinstance(q, Q.Or | Q.DisjunctionMax):
            return reduce(or_, (self.bitmap(sub) for sub in q.subqueries), 0)
        if isinstance(q, Q.AndMaybe):
            return self.bitmap(q.a)
        if isinstance(q, Q.Require):
            return self.bitmap(q.a) & self.bitmap(q.b)
        if isinstance(q, Q.AndNot):
            return self.bitmap(q.a) & ~self.bitmap(q.b)
        if isinstance(q, Q.Not):
            return self.all & ~self.bitmap(q.query)
        if isinstance(q, Q.Every) and q.fieldname in (None, "", "*"):
            return self.all
        if q is Q.NullQuery or isinstance(q, type(Q.NullQuery)):
            return 0
        if isinstance(q, Q.NumericRange):
            return self.cached(q, lambda: self._numeric_range(q))
        if isinstance(q, Q.Prefix):
            return self.cached(q, lambda: self._prefix(q))
        if isinstance(q, Q.Phrase) and q.slop == 1 and q.fieldname in self.searcher.schema:
            return self.cached(q, lambda: self._phrase(q))
        if isinstance(q, Q.MultiTerm):
            return self.cached(q, lambda: self._expand(q))
        # Phrases and the rest: ask Whoosh, among the documents that have all the words.
        return self.cached(q, lambda: self._whoosh_docs(q))

    def _numeric_range(self, q: Q.NumericRange) -> int:
        """A range of numbers or dates over the field's column (where it has one)."""
        fieldobj = self.searcher.schema[q.fieldname]
        if fieldobj.column_type is None or not isinstance(fieldobj, NUMERIC):
            return self.bitmap(compat.compile_query(q, self.searcher.reader()))
        missing = compat.column_default(fieldobj.column_type)

        # Number columns hold the sortable form (dates: the same long as the range's bounds).
        def stored(bound: Any) -> Any:
            if bound is None or isinstance(fieldobj, DATETIME):
                return bound
            return NUMERIC.to_column_value(fieldobj, bound)

        start, end = stored(q.start), stored(q.end)
        bits = 0
        for _sub, reader, offset, data, live in self.leaves:
            values = data.column(reader, q.fieldname)
            mask = values != missing
            if start is not None:
                mask &= (values > start) if q.startexcl else (values >= start)
            if end is not None:
                mask &= (values < end) if q.endexcl else (values <= end)
            local = bits_from_ids(np.flatnonzero(mask), data.size) & live
            if local:
                bits |= local << offset
        return bits

    def _phrase(self, q: Q.Phrase) -> int:
        """Words in a row: positions are read only for documents that have all the words."""
        words = list(q.words)
        if len(words) <= 1:
            return self.term(q.fieldname, words[0]) if words else 0
        candidates = reduce(and_, (self.term(q.fieldname, w) for w in words))
        if not candidates:
            return 0
        fieldobj = self.searcher.schema[q.fieldname]
        btexts = [self._btext(q.fieldname, w) for w in words]
        bits = 0
        for _sub, reader, offset, data, live in self.leaves:
            local = (candidates >> offset) & live
            if not local:
                continue
            ids = ids_from_bits(local, data.size)
            lists = [positions(reader, q.fieldname, b, ids, fieldobj.format) for b in btexts]
            found = [
                docnum
                for i, docnum in enumerate(ids)
                if in_a_row([found_at[i] for found_at in lists])
            ]
            if found:
                bits |= bits_from_ids(np.asarray(found, dtype=np.int64), data.size) << offset
        return bits

    def _prefix(self, q: Q.Prefix) -> int:
        bits = 0
        prefix = self._btext(q.fieldname, q.text)
        for _sub, reader, offset, data, live in self.leaves:
            local = data.prefix(reader, q.fieldname, prefix) & live
            if local:
                bits |= local << offset
        return bits

    def _expand(self, q: Q.MultiTerm) -> int:
        bits = 0
        for _sub, reader, offset, data, live in self.leaves:
            local = 0
            for n, btext in enumerate(compat.expanded_terms(q, reader)):
                if n >= MAX_EXPANSION:
                    raise TooManyTerms(f"{q} matches more than {MAX_EXPANSION} terms")
                local |= data.term(reader, q.fieldname, btext)
            bits |= (local & live) << offset
        return bits

    def _whoosh_docs(self, q: Q.Query) -> int:
        ids = np.fromiter(self.searcher.docs_for_query(q), dtype=np.int64)
        return bits_from_ids(ids, self.size)

    def similar_terms(self, fieldname: str, word: str, maxdist: int, prefix: int) -> list[str]:
        """Terms of the field within ``maxdist`` edits of ``word`` that share its first
        ``prefix`` characters: a Levenshtein automaton walked over each segment's sorted term
        list (kept in memory once a segment was asked)."""
        dfa = levenshtein_automaton(word, maxdist, prefix=prefix).to_dfa()
        found: set[str] = set()
        for _sub, reader, _offset, data, _live in self.leaves:
            words = data.lexicon(reader, fieldname)

            def lookup(text: str, words: list[str] = words) -> str | None:
                i = bisect_left(words, text)
                return words[i] if i < len(words) else None

            found.update(find_all_matches(dfa, lookup))
        found.discard(word)
        return sorted(found)

    # --- facets and dates --------------------------------------------------------------------

    def facet(self, name: str) -> dict[str, int]:
        values = self._facets.get(name)
        if values is None:
            values = {}
            for _sub, reader, offset, data, live in self.leaves:
                for value, local in data.facet(reader, name).items():
                    local &= live
                    if local:
                        values[value] = values.get(value, 0) | (local << offset)
            self._facets[name] = values
        return values

    def dates(self) -> np.ndarray:
        """The sort date (a day number) of every document, by document number."""
        if self._dates is None:
            parts = [data.date_array(reader) for _s, reader, _o, data, _l in self.leaves]
            self._dates = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)
        return self._dates

    def newest(self, bits: int, count: int, *, oldest: bool = False) -> list[int]:
        """The ``count`` newest (or oldest) documents of ``bits``; ties by document number."""
        ids = ids_from_bits(bits, self.size)
        if not len(ids) or count <= 0:
            return []
        dates = self.dates()[ids]
        keys = dates if oldest else -dates
        order = np.lexsort((ids, keys))[:count]  # by date, then document number
        return [int(d) for d in ids[order]]

    # --- ranking -------------------------------------------------------------------------------

    def ranked(self, q: Q.Query, bits: int, count: int) -> list[tuple[int, float]]:
        """The ``count`` best of ``bits`` (the documents ``q`` matches, already filtered):
        (docnum, score), best first.

        Which documents match is decided by ``bits``; only the words of ``q`` are scored (a
        phrase scores as its words), so wildcards and ranges cost nothing here. Without words
        to score, the newest come first.
        """
        if not bits or count <= 0:
            return []
        terms = scoring_terms(q)
        if not terms:
            return [(docnum, 0.0) for docnum in self.newest(bits, count)]
        scores = np.zeros(self.size, dtype=np.float32)
        top = self.searcher
        for fieldname, text, boost in terms:
            btext = self._btext(fieldname, text)
            scorable = top.schema[fieldname].scorable
            if scorable:
                idf = top.idf(fieldname, btext)
                avg = top.avg_field_length(fieldname) or 1.0
            for _sub, reader, offset, data, _live in self.leaves:
                ids, tf = data.postings(reader, fieldname, btext)
                if not len(ids):
                    continue
                if not scorable:  # a name or code: present or not
                    scores[ids + offset] += boost
                    continue
                lengths = data.field_lengths(reader, fieldname)[ids]
                norm = BM25_K1 * ((1 - BM25_B) + BM25_B * lengths / avg)
                scores[ids + offset] += boost * idf * (tf * (BM25_K1 + 1)) / (tf + norm)
        matching = ids_from_bits(bits, self.size)
        chosen = scores[matching]
        if len(matching) > count:
            # Keep the best ``count`` and everything tied with the last of them, so that the
            # order (ties by document number) does not depend on the page asked for.
            threshold = np.partition(chosen, len(chosen) - count)[len(chosen) - count]
            keep = chosen >= threshold
            matching, chosen = matching[keep], chosen[keep]
        order = np.lexsort((matching, -chosen))[:count]  # best first, ties by document number
        return [(int(matching[i]), float(chosen[i])) for i in order]


def scoring_terms(q: Q.Query) -> list[tuple[str, str, float]]:
    """The positive terms of ``q``: (field, text, boost). Words are scored by BM25F; names and
    codes (file reference, kind) add their boost where they occur."""
    found: list[tuple[str, str, float]] = []

    def visit(node: Q.Query, boost: float) -> None:
        if isinstance(node, Q.Term):
            if node.fieldname in SCORED_FIELDS or node.fieldname in RANKING_CODES:
                found.append((node.fieldname, node.text, boost * node.boost))
        elif isinstance(node, Q.Phrase):
            if node.fieldname in SCORED_FIELDS:
                found.extend((node.fieldname, w, boost * node.boost) for w in node.words)
        elif isinstance(node, Q.AndNot | Q.Require):
            visit(node.a, boost * node.boost)
        elif isinstance(node, Q.AndMaybe):
            visit(node.a, boost * node.boost)
            visit(node.b, boost * node.boost)
        elif isinstance(node, Q.And | Q.Or | Q.DisjunctionMax):
            for sub in node.subqueries:
                visit(sub, boost * node.boost)

    visit(q, 1.0)
    return found
