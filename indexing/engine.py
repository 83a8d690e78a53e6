"""Document sets as bitmaps: exact counts, facets and filters at interactive speed.

A query's matching documents are a Python ``int`` used as a bit set (bit n = document n of the
searcher); AND, OR, NOT and counting are single C operations over a few kilobytes. Bit sets of
terms are read straight from the posting blocks and cached per segment (segments never change
apart from deletions, which a per-segment "live" mask takes care of), so a new commit only costs
the new segment. Ranking stays with Whoosh (BM25F); this module answers "which documents" and
"how many", which Whoosh would otherwise count one posting at a time.
"""

from __future__ import annotations

import heapq
import itertools
from collections import OrderedDict
from functools import reduce
from operator import and_, or_

from whoosh import query as Q
from whoosh.codec.whoosh3 import W3LeafMatcher
from whoosh.idsets import DocIdSet
from whoosh.matching import ListMatcher
from whoosh.matching.wrappers import FilterMatcher
from whoosh.reading import TermNotFound

TERM_CACHE = 4000  # per segment; a bit set of 100,000 documents is 12.5 kB
# Expanding a wildcard to more terms than this is refused (it would read most of the index).
MAX_EXPANSION = 20_000
FACET_COLUMNS = {"node": "node", "doctype": "doctype", "year": "year", "status": "status"}

_BIT_POSITIONS = [tuple(i for i in range(8) if byte >> i & 1) for byte in range(256)]


# Up to this many matches are scored one by one (skipping to each); beyond, Whoosh walks the
# postings with its block-maximum optimisation.
SCORE_CANDIDATES = 2000
SCORED_FIELDS = ("text", "title", "correspondent")


class TooManyTerms(Exception):
    pass


def scoring_query(q: Q.Query) -> Q.Query | None:
    """The part of ``q`` that ranks: its positive words (see ``View.ranked``)."""
    if isinstance(q, Q.Term):
        return q if q.fieldname in SCORED_FIELDS else None
    if isinstance(q, Q.Phrase):
        return scoring_query(Q.And([Q.Term(q.fieldname, word) for word in q.words]))
    if isinstance(q, Q.AndMaybe):
        a, b = scoring_query(q.a), scoring_query(q.b)
        return Q.AndMaybe(a, b) if a is not None and b is not None else a or b
    if isinstance(q, Q.AndNot):
        return scoring_query(q.a)
    if isinstance(q, Q.And | Q.Or):
        parts = [p for p in map(scoring_query, q.subqueries) if p is not None]
        if not parts:
            return None
        return parts[0] if len(parts) == 1 else q.__class__(parts)
    return None


def bitmap_from_ids(ids, size: int) -> int:
    buf = bytearray((size + 7) >> 3)
    for docnum in ids:
        buf[docnum >> 3] |= 1 << (docnum & 7)
    return int.from_bytes(buf, "little")


def ids_from_bitmap(bits: int) -> list[int]:
    """The set bits in ascending order."""
    if not bits:
        return []
    data = bits.to_bytes((bits.bit_length() + 7) >> 3, "little")
    positions = _BIT_POSITIONS
    return [
        (index << 3) + bit for index, byte in enumerate(data) if byte for bit in positions[byte]
    ]


class BitSet(DocIdSet):
    """A bit set Whoosh can use as a search filter (only membership is asked)."""

    def __init__(self, bits: int):
        self.data = bits.to_bytes((bits.bit_length() + 7) >> 3, "little") if bits else b""
        self.size = len(self.data) << 3

    def __contains__(self, docnum: int) -> bool:
        return docnum < self.size and bool(self.data[docnum >> 3] >> (docnum & 7) & 1)

    def __iter__(self):
        return iter(ids_from_bitmap(int.from_bytes(self.data, "little")))

    def __len__(self) -> int:
        return int.from_bytes(self.data, "little").bit_count()


def _postings_ids(reader, fieldname: str, btext: bytes) -> list[int]:
    """All document numbers of one term in one segment, deleted ones included."""
    try:
        matcher = reader.postings(fieldname, btext)
    except TermNotFound:
        return []
    if isinstance(matcher, FilterMatcher):
        matcher = matcher.child  # deletions are masked by the caller
    if isinstance(matcher, ListMatcher):
        return list(matcher._ids)
    if not isinstance(matcher, W3LeafMatcher):
        return list(matcher.all_ids())
    ids: list[int] = []
    # Read whole blocks: their ids are delta-encoded from 0, so a running sum decodes them.
    while not matcher._atend:
        if matcher._data is None:
            matcher._read_data()
        ids.extend(itertools.accumulate(matcher._data[0]))
        matcher._next_block()
    return ids


class SegmentData:
    """What is cached of one segment: term bit sets (LRU) and facet columns."""

    def __init__(self, reader):
        self.size = reader.doc_count_all()
        self.terms: OrderedDict[tuple[str, bytes], int] = OrderedDict()
        self.facets: dict[str, dict[str, int]] = {}
        self.dates: list[int] | None = None

    def term(self, reader, fieldname: str, btext: bytes) -> int:
        key = (fieldname, btext)
        bits = self.terms.get(key)
        if bits is None:
            bits = bitmap_from_ids(_postings_ids(reader, fieldname, btext), self.size)
            self.terms[key] = bits
            if len(self.terms) > TERM_CACHE:
                self.terms.popitem(last=False)
        else:
            self.terms.move_to_end(key)
        return bits

    def facet(self, reader, name: str) -> dict[str, int]:
        values = self.facets.get(name)
        if values is None:
            column = reader.column_reader(FACET_COLUMNS[name])
            groups: dict[str, list[int]] = {}
            for docnum, value in enumerate(column):
                if isinstance(value, bytes):
                    value = value.decode("utf-8")
                groups.setdefault(str(value), []).append(docnum)
            # Empty values (and year 0: no date) are not a facet value.
            values = {
                value: bitmap_from_ids(ids, self.size)
                for value, ids in groups.items()
                if value and value != "0"
            }
            self.facets[name] = values
        return values

    def date_list(self, reader) -> list[int]:
        if self.dates is None:
            self.dates = list(reader.column_reader("date"))
        return self.dates


class View:
    """One opened state of the index (a Whoosh searcher) with its bit sets."""

    def __init__(self, searcher, segment_cache: dict[str, SegmentData]):
        self.searcher = searcher
        self.leaves = []
        total = 0
        for sub, offset in searcher.leaf_searchers():
            reader = sub.reader()
            segment = reader.segment()
            segid = segment.segment_id()
            data = segment_cache.get(segid)
            if data is None:
                data = segment_cache[segid] = SegmentData(reader)
            live = (1 << data.size) - 1
            if segment.has_deletions():
                live &= ~bitmap_from_ids(segment.deleted_docs(), data.size)
            self.leaves.append((sub, reader, offset, data, live))
            total |= live << offset
        self.all = total
        self.size = searcher.doc_count_all()
        self._cache: OrderedDict[object, int] = OrderedDict()
        self._facets: dict[str, dict[str, int]] = {}
        self._dates: list[int] | None = None

    # --- bit sets ------------------------------------------------------------------------------

    def term(self, fieldname: str, text) -> int:
        if fieldname not in self.searcher.schema:
            return 0
        btext = text if isinstance(text, bytes) else self.searcher.schema[fieldname].to_bytes(text)
        bits = 0
        for _sub, reader, offset, data, live in self.leaves:
            local = data.term(reader, fieldname, btext) & live
            if local:
                bits |= local << offset
        return bits

    def cached(self, key, compute) -> int:
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
            return self.cached(q, lambda: self.bitmap(q._compile_query(self.searcher.reader())))
        if isinstance(q, Q.MultiTerm):
            return self.cached(q, lambda: self._expand(q))
        # Phrases and the rest: ask Whoosh (positions are checked only where all words occur).
        return self.cached(q, lambda: self._whoosh_docs(q))

    def _expand(self, q: Q.MultiTerm) -> int:
        bits = 0
        for _sub, reader, offset, data, live in self.leaves:
            local = 0
            for n, btext in enumerate(q._btexts(reader)):
                if n >= MAX_EXPANSION:
                    raise TooManyTerms(f"{q} matches more than {MAX_EXPANSION} terms")
                local |= data.term(reader, q.fieldname, btext)
            bits |= (local & live) << offset
        return bits

    def _whoosh_docs(self, q: Q.Query) -> int:
        return bitmap_from_ids(self.searcher.docs_for_query(q), self.size)

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

    def dates(self) -> list[int]:
        """The sort date (a day number) of every document, by document number."""
        if self._dates is None:
            dates: list[int] = []
            for _sub, reader, _offset, data, _live in self.leaves:
                dates.extend(data.date_list(reader))
            self._dates = dates
        return self._dates

    def newest(self, bits: int, count: int, *, oldest: bool = False) -> list[int]:
        """The ``count`` newest (or oldest) documents of ``bits``; ties by document number."""
        dates = self.dates()
        ids = ids_from_bitmap(bits)
        if oldest:
            return heapq.nsmallest(count, ids, key=lambda d: (dates[d], d))
        return heapq.nlargest(count, ids, key=lambda d: (dates[d], d))

    # --- ranking -------------------------------------------------------------------------------

    def ranked(self, q: Q.Query, bits: int, count: int) -> list[tuple[int, float]]:
        """The ``count`` best of ``bits`` (the documents ``q`` matches, already filtered) by
        BM25F: (docnum, score), best first.

        Only the words of ``q`` are scored: which documents match is already decided by
        ``bits``, so wildcards, ranges and phrases need not be matched again (a phrase scores
        as its words). Without words to score, the newest come first.
        """
        if not bits or count <= 0:
            return []
        scoring = scoring_query(q)
        if scoring is None:
            return [(docnum, 0.0) for docnum in self.newest(bits, count)]
        if bits.bit_count() <= SCORE_CANDIDATES:
            return self._score(scoring, ids_from_bitmap(bits), count)
        results = self.searcher.search(scoring, filter=BitSet(bits), limit=count)
        return [(hit.docnum, hit.score) for hit in results]

    def _score(self, q: Q.Query, ids: list[int], count: int) -> list[tuple[int, float]]:
        """Score known candidates by skipping to each (cheaper than walking all postings)."""
        top = self.searcher
        context = top.context(needs_current=True, weighting=top.weighting)
        scored: list[tuple[float, int]] = []
        position = 0
        for sub, _reader, offset, data, _live in self.leaves:
            end = offset + data.size
            local = []
            while position < len(ids) and ids[position] < end:
                local.append(ids[position] - offset)
                position += 1
            if not local:
                continue
            matcher = q.matcher(sub, context)
            for docnum in local:
                if not matcher.is_active():
                    break
                if matcher.id() < docnum:
                    matcher.skip_to(docnum)
                    if not matcher.is_active():
                        break
                score = matcher.score() if matcher.id() == docnum else 0.0
                scored.append((score, docnum + offset))
        # Candidates the scoring matcher does not reach (e.g. matched by a filter) score 0.
        seen = {docnum for _, docnum in scored}
        scored.extend((0.0, docnum) for docnum in ids if docnum not in seen)
        best = heapq.nlargest(count, scored, key=lambda item: (item[0], -item[1]))
        return [(docnum, score) for score, docnum in best]
