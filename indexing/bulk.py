"""Writing many documents fast: segments built in memory, then written term by term.

Whoosh's own writer puts every posting (term, document) into a pool as a tuple, sorts the whole
pool and looks up each document's field length again while writing; at 100,000 documents of
up to 2,000 words that is most of the rebuild time. Here postings are grouped by term as they
are made, so only the term list is sorted, and lengths are known already. A segment is written
when it holds ``max_postings`` postings, which bounds the memory; the segments are the same
files Whoosh writes (same codec), and a commit makes them visible together.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable
from typing import Any

from whoosh.codec.whoosh3 import W3Codec
from whoosh.fields import Schema

from indexing import whoosh_compat as compat
from indexing.analysis import GermanAnalyzer, PositionsFormat

# Terms with fewer postings than this (most of a Zipf vocabulary in a segment) are stored in the
# term table itself instead of a compressed block of their own: much faster to write and read.
# Whoosh's readers handle such terms; its writer cannot make them (see
# ``whoosh_compat.finish_inline``).
INLINE_POSTINGS = 16


# Postings per block: ranking and counting read whole posting lists, so few large blocks are
# read faster than Whoosh's default of 128 (each block is one decompress and one unpickle).
BLOCK_POSTINGS = 1024


class SegmentBuilder:
    """Collects documents for new segments of one index; ``segments()`` writes what is left.

    Not thread-safe; one builder per process. The caller commits the segments (see
    ``indexing.store.IndexStore.rebuild``).
    """

    def __init__(
        self,
        storage: Any,
        indexname: str,
        schema: Schema,
        max_postings: int = 4_000_000,
        block_postings: int = BLOCK_POSTINGS,
    ) -> None:
        self.storage = storage
        self.indexname = indexname
        self.schema = schema
        self.codec = W3Codec(blocklimit=block_postings)
        self.max_postings = max_postings
        self.done: list[Any] = []  # Whoosh segments
        self._start()

    def _start(self) -> None:
        self.segment = self.codec.new_segment(self.storage, self.indexname)
        self.perdoc = self.codec.per_document_writer(self.storage, self.segment)
        # fieldname -> term bytes -> (docnums, weights, encoded values)
        self.postings: dict[str, dict[bytes, tuple[array[int], array[float], list[bytes]]]] = {}
        self.lengths: dict[str, array[int]] = {}
        self._bytes: dict[str, bytes] = {}
        self.docnum = 0
        self.count = 0

    def add(self, fields: dict[str, Any]) -> None:
        """One document: field name → value, as for ``writer.add_document``."""
        schema = self.schema
        docnum = self.docnum
        perdoc = self.perdoc
        perdoc.start_doc(docnum)
        count = 0
        for fieldname in sorted(fields):
            value = fields[fieldname]
            field = schema[fieldname]
            length = 0
            if field.indexed:
                terms = self.postings.get(fieldname)
                if terms is None:
                    terms = self.postings[fieldname] = {}
                scorable = field.scorable
                if _german_text(field, value):
                    # The common case, without Whoosh's generator layers: one dictionary of
                    # positions per field, encoded here.
                    fb = field.format.field_boost
                    encoded = field.format.encoded
                    as_bytes = self._bytes
                    for term, poslist in field.analyzer.positions(value).items():
                        tbytes = as_bytes.get(term)
                        if tbytes is None:
                            tbytes = as_bytes[term] = term.encode("utf-8")
                        entry = terms.get(tbytes)
                        if entry is None:
                            entry = terms[tbytes] = (array("I"), array("f"), [])
                        freq = len(poslist)
                        entry[0].append(docnum)
                        entry[1].append(freq * fb)
                        entry[2].append(encoded(poslist))
                        length += freq
                        count += 1
                    value_items: Iterable[tuple[bytes, int, float, bytes]] = ()
                else:
                    value_items = field.index(value)
                for tbytes, freq, weight, vbytes in value_items:
                    entry = terms.get(tbytes)
                    if entry is None:
                        entry = terms[tbytes] = (array("I"), array("f"), [])
                    entry[0].append(docnum)
                    entry[1].append(weight)
                    entry[2].append(vbytes)
                    length += freq
                    count += 1
                if not scorable:
                    length = 0
            if length:
                lengths = self.lengths.get(fieldname)
                if lengths is None:
                    lengths = self.lengths[fieldname] = array("I")
                if len(lengths) <= docnum:
                    lengths.extend([0] * (docnum + 1 - len(lengths)))
                lengths[docnum] = length
            perdoc.add_field(fieldname, field, value if field.stored else None, length)
            column = field.column_type
            if column is not None:
                perdoc.add_column_value(fieldname, column, field.to_column_value(value))
        perdoc.finish_doc()
        self.docnum += 1
        self.count += count
        if self.count >= self.max_postings:
            self.flush()

    def flush(self) -> None:
        """Write the postings collected so far as a finished segment."""
        if not self.docnum:
            return
        self.perdoc.close()
        writer = self.codec.field_writer(self.storage, self.segment)
        for fieldname in sorted(self.postings):
            field = self.schema[fieldname]
            lengths = self.lengths.get(fieldname) if field.scorable else None
            writer.start_field(fieldname, field)
            terms = self.postings[fieldname]
            for tbytes in sorted(terms):
                docnums, weights, values = terms[tbytes]
                writer.start_term(tbytes)
                compat.fill_blocks(writer, docnums, weights, values, lengths)
                if len(docnums) < INLINE_POSTINGS:
                    compat.finish_inline(writer)
                else:
                    writer.finish_term()
            writer.finish_field()
        writer.close()
        self.segment.set_doc_count(self.docnum)
        self.done.append(self.segment)
        self._start()

    def segments(self) -> list[Any]:
        self.flush()
        return self.done


def _german_text(field: Any, value: object) -> bool:
    return (
        isinstance(value, str)
        and isinstance(field.format, PositionsFormat)
        and isinstance(field.analyzer, GermanAnalyzer)
    )
