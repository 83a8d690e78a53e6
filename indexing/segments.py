"""One segment's postings, read block by block into arrays, and what is cached of it.

Part of the bit-set engine (``indexing.engine``): a term's postings are read straight from the
segment files (through ``indexing.whoosh_compat``) and cached per segment — segments never
change apart from deletions, which the engine masks — so a new commit only costs the new
segment. Document sets are Python ``int`` bit sets (bit n = document n).
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

import numpy as np
from whoosh.matching.wrappers import FilterMatcher
from whoosh.reading import TermNotFound

from indexing import whoosh_compat as compat

TERM_CACHE = 4000  # terms per segment
# Expanding a wildcard to more terms than this is refused (it would read most of the index).
MAX_EXPANSION = 20_000
FACET_COLUMNS = {"node": "node", "doctype": "doctype", "year": "year", "status": "status"}

_EMPTY_IDS = np.zeros(0, dtype=np.int64)
_EMPTY_WEIGHTS = np.zeros(0, dtype=np.float32)


class TooManyTerms(Exception):
    pass


def bits_from_ids(ids: np.ndarray, size: int) -> int:
    if not len(ids):
        return 0
    mask = np.zeros(size, dtype=bool)
    mask[ids] = True
    return int.from_bytes(np.packbits(mask, bitorder="little").tobytes(), "little")


def mask_from_bits(bits: int, size: int) -> np.ndarray:
    """A boolean array of ``size`` with the bits of ``bits``."""
    data = bits.to_bytes((size + 7) >> 3, "little")
    return np.unpackbits(np.frombuffer(data, dtype=np.uint8), bitorder="little")[:size].astype(bool)


def ids_from_bits(bits: int, size: int) -> np.ndarray:
    return np.flatnonzero(mask_from_bits(bits, size))


def read_postings(reader: Any, fieldname: str, btext: bytes) -> tuple[np.ndarray, np.ndarray]:
    """Document numbers and weights (term frequencies) of one term in one segment, deleted
    documents included (the caller masks them)."""
    try:
        matcher = reader.postings(fieldname, btext)
    except TermNotFound:
        return _EMPTY_IDS, _EMPTY_WEIGHTS
    if isinstance(matcher, FilterMatcher):
        matcher = matcher.child  # deletions are masked by the caller
    return _matcher_postings(matcher)


def _matcher_postings(matcher: Any) -> tuple[np.ndarray, np.ndarray]:
    listed = compat.list_postings(matcher)
    if listed is not None:
        ids, weights = np.asarray(listed[0], dtype=np.int64), listed[1]
        if weights is None:
            return ids, np.ones(len(ids), dtype=np.float32)
        return ids, np.asarray(weights, dtype=np.float32)
    if not compat.is_leaf(matcher):
        items = _walk(matcher)
        ids = np.asarray([i for i, _ in items], dtype=np.int64)
        return ids, np.asarray([w for _, w in items], dtype=np.float32)
    id_blocks, weight_blocks = [], []
    # Whole blocks at a time; weights are None (all 1), one number (all equal) or one per
    # posting.
    for block in compat.leaf_blocks(matcher):
        ids, weights, _values = block.data()
        id_blocks.append(ids)
        if weights is None:
            weight_blocks.append(np.ones(len(ids), dtype=np.float32))
        elif isinstance(weights, float | int):
            weight_blocks.append(np.full(len(ids), weights, dtype=np.float32))
        else:
            weight_blocks.append(np.asarray(weights, dtype=np.float32))
    if not id_blocks:
        return _EMPTY_IDS, _EMPTY_WEIGHTS
    return np.concatenate(id_blocks), np.concatenate(weight_blocks)


def positions(
    reader: Any, fieldname: str, btext: bytes, ids: np.ndarray, fmt: Any
) -> list[list[int]]:
    """The positions of a term in each of the documents ``ids`` (which all contain it); blocks
    without any of them are skipped unread."""
    found: list[list[int]] = []
    matcher = reader.postings(fieldname, btext)
    if isinstance(matcher, FilterMatcher):
        matcher = matcher.child
    listed = compat.list_postings(matcher)
    if listed is not None:
        block_ids = np.asarray(listed[0], dtype=np.int64)
        where = np.searchsorted(block_ids, ids)
        values = compat.list_values(matcher)
        return [fmt.decode_positions(values[i]) for i in where]
    if not compat.is_leaf(matcher):
        wanted = set(ids.tolist())
        positions = {}
        while matcher.is_active():
            if matcher.id() in wanted:
                positions[matcher.id()] = matcher.value_as("positions")
            matcher.next()
        return [positions[d] for d in ids.tolist()]
    start = 0
    for block in compat.leaf_blocks(matcher):
        if start >= len(ids):
            break
        end = int(np.searchsorted(ids, block.maxid, side="right"))
        if end > start:  # this block holds some of the documents
            block_ids, _weights, values = block.data()
            where = np.searchsorted(block_ids, ids[start:end])
            found.extend(fmt.decode_positions(values[i]) for i in where)
            start = end
    return found


def in_a_row(positions: list[list[int]]) -> bool:
    """Whether the words occur one after another (word k at some position p + k)."""
    starts = set(positions[0])
    for k, later in enumerate(positions[1:], 1):
        present = set(later)
        starts = {p for p in starts if p + k in present}
        if not starts:
            return False
    return True


def _walk(matcher: Any) -> list[tuple[int, float]]:
    items = []
    while matcher.is_active():
        items.append((matcher.id(), matcher.weight()))
        matcher.next()
    return items


class SegmentData:
    """What is cached of one segment: postings and bit sets of terms (LRU), field lengths,
    facet columns, dates."""

    def __init__(self, reader: Any) -> None:
        self.size = reader.doc_count_all()
        # (field, term) -> [ids, weights, bit set or None]
        self.terms: OrderedDict[tuple[str, bytes], list[Any]] = OrderedDict()
        self.lengths: dict[str, np.ndarray] = {}
        self.lexicons: dict[str, list[str]] = {}
        self.columns: dict[str, np.ndarray] = {}
        self.facets: dict[str, dict[str, int]] = {}
        self.dates: np.ndarray | None = None

    def _entry(self, reader: Any, fieldname: str, btext: bytes) -> list[Any]:
        key = (fieldname, btext)
        entry = self.terms.get(key)
        if entry is None:
            ids, weights = read_postings(reader, fieldname, btext)
            entry = self.terms[key] = [ids, weights, None]
            if len(self.terms) > TERM_CACHE:
                self.terms.popitem(last=False)
        else:
            self.terms.move_to_end(key)
        return entry

    def postings(self, reader: Any, fieldname: str, btext: bytes) -> tuple[np.ndarray, np.ndarray]:
        entry = self._entry(reader, fieldname, btext)
        return entry[0], entry[1]

    def term(self, reader: Any, fieldname: str, btext: bytes) -> int:
        entry = self._entry(reader, fieldname, btext)
        if entry[2] is None:
            entry[2] = bits_from_ids(entry[0], self.size)
        bits: int = entry[2]
        return bits

    def prefix(self, reader: Any, fieldname: str, prefix: bytes) -> int:
        """Documents with a term starting with ``prefix``: the term table is read in order from
        there (terms with few postings carry them inline), not looked up term by term."""
        items = compat.term_table_items(reader, fieldname, prefix)
        if items is None:
            found = [
                self.postings(reader, fieldname, t)[0]
                for t in reader.expand_prefix(fieldname, prefix)
            ]
        else:
            found = []
            for n, ((name, tbytes), info) in enumerate(items):
                if name != fieldname or not tbytes.startswith(prefix):
                    break
                if n >= MAX_EXPANSION:
                    raise TooManyTerms(f"{fieldname}:{prefix!r}* matches too many terms")
                if info.is_inlined():
                    found.append(np.asarray(info.inlined_postings()[0], dtype=np.int64))
                elif (fieldname, tbytes) in self.terms:
                    found.append(self.postings(reader, fieldname, tbytes)[0])
                else:  # read from the term info at hand (no second lookup), not cached
                    matcher = compat.postings_of_info(reader, fieldname, info)
                    found.append(_matcher_postings(matcher)[0])
        if not found:
            return 0
        return bits_from_ids(np.concatenate(found), self.size)

    def column(self, reader: Any, fieldname: str) -> np.ndarray:
        values = self.columns.get(fieldname)
        if values is None:
            column = reader.column_reader(fieldname, translate=False)  # numbers as stored
            # The schema's column type, not the reader's (a segment without any value of the
            # field has a reader of defaults that does not say).
            typecode = compat.column_typecode(reader.schema[fieldname].column_type)
            dtype = np.uint64 if typecode in "BHILQ" else np.int64
            values = np.fromiter(column, dtype=dtype, count=self.size)
            self.columns[fieldname] = values
        return values

    def lexicon(self, reader: Any, fieldname: str) -> list[str]:
        words = self.lexicons.get(fieldname)
        if words is None:
            words = [btext.decode("utf-8") for btext in reader.lexicon(fieldname)]
            self.lexicons[fieldname] = words
        return words

    def field_lengths(self, reader: Any, fieldname: str) -> np.ndarray:
        lengths = self.lengths.get(fieldname)
        if lengths is None:
            length = reader.doc_field_length
            lengths = np.fromiter(
                (length(d, fieldname) or 0 for d in range(self.size)),
                dtype=np.float32,
                count=self.size,
            )
            self.lengths[fieldname] = lengths
        return lengths

    def facet(self, reader: Any, name: str) -> dict[str, int]:
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
                value: bits_from_ids(np.asarray(ids, dtype=np.int64), self.size)
                for value, ids in groups.items()
                if value and value != "0"
            }
            self.facets[name] = values
        return values

    def date_array(self, reader: Any) -> np.ndarray:
        if self.dates is None:
            column = reader.column_reader("date")
            self.dates = np.fromiter(column, dtype=np.int64, count=self.size)
        return self.dates
