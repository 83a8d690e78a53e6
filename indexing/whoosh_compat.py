"""Every use of Whoosh's private internals, in one place, behind a version gate.

The index reads and writes posting lists a block at a time (``indexing.engine``,
``indexing.bulk``) where Whoosh only offers one posting at a time: several times faster at
100,000 documents. That needs attributes Whoosh does not promise to keep (``ListMatcher._ids``,
``W3LeafMatcher._read_data()``, the postings writer's block buffer, ...). They are used only
through the functions here, written against Whoosh-Reloaded 2.7 (``SUPPORTED``).

``self_check()`` exercises each of them on a tiny index in memory and compares the answers with
Whoosh's public API; the composition root calls it at start-up (``indexing.compat``), so a
changed Whoosh fails loudly, naming itself and its version, instead of silently answering
wrong.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import numpy as np
import whoosh
from whoosh import query as Q
from whoosh.codec.whoosh3 import W3LeafMatcher
from whoosh.matching import ListMatcher
from whoosh.reading import IndexReader
from whoosh.system import pack_ushort

from indexing.errors import IncompatibleDependency

DEPENDENCY = "Whoosh-Reloaded"
# The versions whose internals this module was written and checked against: [from, below).
SUPPORTED = ((2, 7, 0), (2, 8, 0))


def version() -> str:
    return ".".join(str(part) for part in whoosh.__version__)


def check_version() -> None:
    """Raises ``IncompatibleDependency`` for a Whoosh outside ``SUPPORTED``."""
    low, high = SUPPORTED
    if not low <= tuple(whoosh.__version__) < high:
        raise IncompatibleDependency(
            DEPENDENCY,
            version(),
            f"indexing.whoosh_compat supports {_dotted(low)} up to (not including) "
            f"{_dotted(high)}; check its private uses against the new version first",
        )


def _dotted(parts: tuple[int, ...]) -> str:
    return ".".join(map(str, parts))


# --- reading postings --------------------------------------------------------------------------


def list_postings(matcher: object) -> tuple[Sequence[int], Sequence[float] | None] | None:
    """Document numbers and weights (None: all 1) of a matcher over postings held in memory
    (inlined in the term table); None for any other matcher."""
    if not isinstance(matcher, ListMatcher):
        return None
    return matcher._ids, matcher._weights


def list_values(matcher: ListMatcher) -> Sequence[bytes]:
    """The encoded values (positions) of a ``list_postings`` matcher, by posting."""
    return matcher._values  # type: ignore[no-any-return]  # untyped Whoosh attribute


def is_leaf(matcher: object) -> bool:
    """A matcher over a posting list in blocks on disk (``leaf_blocks`` reads it)."""
    return isinstance(matcher, W3LeafMatcher)


class LeafBlock:
    """The current block of a ``W3LeafMatcher``; read only if asked (``ids``/``data``)."""

    def __init__(self, matcher: W3LeafMatcher):
        self._matcher = matcher

    @property
    def maxid(self) -> int:
        """The highest document number in the block (known without reading it)."""
        return int(self._matcher._maxid)

    def data(self) -> tuple[np.ndarray, Any, Sequence[bytes]]:
        """(document numbers, weights, encoded values) of the block. Weights as stored: None
        (all 1), one number (all equal) or one per posting."""
        matcher = self._matcher
        if matcher._data is None:
            matcher._read_data()
        ids, weights, values = matcher._data[0], matcher._data[1], matcher._data[2]
        # Ids are delta-encoded within a block, except in term vectors (bytes, as they are).
        if matcher._byteids:
            docnums = np.asarray(ids, dtype=np.int64)
        else:
            docnums = np.cumsum(np.asarray(ids, dtype=np.int64))
        return docnums, weights, values


def leaf_blocks(matcher: W3LeafMatcher) -> Iterator[LeafBlock]:
    """The blocks of a leaf matcher from its current one on; the matcher moves to the next
    block when the caller asks for it (stopping early leaves the rest unread)."""
    while not matcher._atend:
        yield LeafBlock(matcher)
        matcher._next_block()


def term_table_items(
    reader: IndexReader, fieldname: str, prefix: bytes
) -> Iterator[tuple[tuple[str, bytes], Any]] | None:
    """((field, term bytes), term info) from the first term of ``fieldname`` at or after
    ``prefix``, in order, read straight from a segment's term table; None where the reader
    has no such table (the caller falls back on ``reader.expand_prefix``)."""
    terms = getattr(reader, "_terms", None)
    if terms is None or not hasattr(terms, "items_from"):
        return None
    return terms.items_from(fieldname, prefix)  # type: ignore[no-any-return]  # untyped


def postings_of_info(reader: IndexReader, fieldname: str, info: Any) -> Any:
    """A matcher over the postings a term info (from ``term_table_items``) points at,
    without looking the term up again."""
    terms = reader._terms  # a segment reader's term table
    return terms._codec.postings_reader(terms._postfile, info, reader.schema[fieldname].format)


def column_typecode(column_type: object) -> str:
    """The ``array`` typecode of a number column ("q" where the column does not say)."""
    return str(getattr(column_type, "_typecode", "q"))


def column_default(column_type: object) -> Any:
    """The value a column holds for documents without one."""
    return column_type._default  # type: ignore[attr-defined]  # untyped Whoosh attribute


def compile_query(q: Q.Query, reader: IndexReader) -> Q.Query:
    """What a query becomes on a reader (e.g. a numeric range as term ranges)."""
    return q._compile_query(reader)


def expanded_terms(q: Q.MultiTerm, reader: IndexReader) -> Iterable[bytes]:
    """The terms of the reader a wildcard, prefix or fuzzy query expands to."""
    return q._btexts(reader)  # type: ignore[no-any-return]  # untyped Whoosh method


# --- writing segments --------------------------------------------------------------------------


def fill_blocks(
    fieldwriter: Any,
    docnums: Sequence[int],
    weights: Sequence[float],
    values: list[bytes],
    lengths: Sequence[int] | None,
) -> None:
    """What ``add_posting`` does one posting at a time (with type checks), a block at a time:
    fill the postings writer's block buffer and statistics, write every full block; the last
    block is written (or inlined) by ``finish_term``/``finish_inline``. Tied to Whoosh 2.7's
    ``W3PostingsWriter``."""
    postwriter = fieldwriter._postwriter
    limit = postwriter._blocklimit
    total = len(docnums)
    for start in range(0, total, limit):
        if start:
            postwriter._write_block()
        ids = docnums[start : start + limit]
        block_weights = weights[start : start + limit]
        postwriter._ids = ids
        postwriter._weights = block_weights
        postwriter._values = values[start : start + limit]
        postwriter._maxweight = max(block_weights)
        if lengths is not None:
            block_lengths = [lengths[d] for d in ids]
            postwriter._minlength = min(block_lengths)
            postwriter._maxlength = max(block_lengths)


def finish_inline(fieldwriter: Any) -> None:
    """``finish_term`` for a term whose postings go into the term table: what Whoosh 2.7's
    ``W3PostingsWriter.finish_postings`` means to do for an inline limit, were it not calling
    a method its term info lacks (``set_inline`` for ``set_inlined``)."""
    postwriter = fieldwriter._postwriter
    terminfo = postwriter._terminfo
    terminfo.add_block(postwriter)
    terminfo.set_inlined(postwriter._ids, postwriter._weights, postwriter._values)
    postwriter._terminfo = None
    key = pack_ushort(fieldwriter._fieldid) + fieldwriter._btext
    fieldwriter._tindex.add(key, terminfo.to_bytes())


# --- the start-up check ------------------------------------------------------------------------


def self_check() -> None:
    """Check the version, then use every private access above on a tiny index in memory and
    compare with Whoosh's public answers; raises ``IncompatibleDependency`` naming Whoosh and
    its version when anything differs or is gone."""
    check_version()
    try:
        problem = _probe()
    except Exception as exc:  # any failure of an internal is the finding itself
        problem = f"{type(exc).__name__}: {exc}"
    if problem:
        raise IncompatibleDependency(DEPENDENCY, version(), problem)


PROBE_DOCS = 40
PROBE_BLOCK = 8  # postings per block: a common word spans several blocks


def _probe() -> str | None:
    """What differs between the block-wise reading and Whoosh's public API; None: nothing."""
    # The writer and the reader build on this module: imported when the check runs.
    from whoosh.filedb.filestore import FileStorage

    from indexing.schema import build_schema

    # A directory of its own: Whoosh puts a writer's temporary files beside the index (in
    # the system's temp dir under a fixed name for RamStorage), and processes start at once.
    with tempfile.TemporaryDirectory(prefix="eakte-whoosh-probe-") as folder:
        ix = FileStorage(folder).create().create_index(build_schema(), indexname="PROBE")
        try:
            return _compare(ix)
        finally:
            ix.close()


def _compare(ix: Any) -> str | None:
    from indexing.bulk import SegmentBuilder
    from indexing.schema import DOCUMENT, IndexEntry, to_fields
    from indexing.segments import SegmentData, positions, read_postings

    builder = SegmentBuilder(ix.storage, "PROBE", ix.schema, block_postings=PROBE_BLOCK)
    for n in range(PROBE_DOCS):
        rare = " Seltenheit" if n in (3, 17) else ""
        builder.add(
            to_fields(
                IndexEntry(
                    key=f"d{n}",
                    kind=DOCUMENT,
                    tenant_id=1,
                    title=f"Gemeinsamer Titel {n}",
                    content=f"Gemeinsam genutzter Text Nummer {n} gemeinsam{rare}",
                    received=None if n % 5 else _probe_day(n),
                )
            )
        )
    segments = builder.segments()
    writer = ix.writer()
    writer.commit(mergetype=lambda _writer, _old: list(segments))
    with ix.reader() as reader:
        data = SegmentData(reader)
        fmt = reader.schema["text"].format
        kinds = set()
        for btext in reader.lexicon("text"):
            public = reader.postings("text", btext)
            kinds.add("list" if list_postings(public) is not None else type(public).__name__)
            expected = []
            while public.is_active():
                expected.append((public.id(), public.weight(), public.value_as("positions")))
                public.next()
            ids, weights = read_postings(reader, "text", btext)
            if ids.tolist() != [e[0] for e in expected]:
                return f"postings of {btext!r} read block-wise differ"
            if weights.tolist() != [e[1] for e in expected]:
                return f"weights of {btext!r} read block-wise differ"
            if positions(reader, "text", btext, ids, fmt) != [e[2] for e in expected]:
                return f"positions of {btext!r} read block-wise differ"
        if not {"list", W3LeafMatcher.__name__} <= kinds:
            return f"the probe index did not hold inline and block postings ({sorted(kinds)})"
        prefix = Q.Prefix("text", "gemein")
        expanded = list(expanded_terms(prefix, reader))
        if expanded != list(reader.expand_prefix("text", "gemein")) or not expanded:
            return "a prefix query's terms differ from the reader's"
        ids_by_prefix = {
            docnum for t in expanded for docnum in reader.postings("text", t).all_ids()
        }
        found = data.prefix(reader, "text", b"gemein")
        if found != sum(1 << d for d in ids_by_prefix):
            return "a prefix read from the term table differs"
        dates = data.column(reader, "date")
        if len(dates) != PROBE_DOCS or column_default(ix.schema["date"].column_type) is None:
            return "the date column differs"
        compiled = compile_query(Q.NumericRange("year", 2000, 2100), reader)
        if not isinstance(compiled, Q.Query):
            return "a numeric range does not compile to a query"
    return None


def _probe_day(n: int) -> Any:
    from datetime import date

    return date(2020, 1, 1 + n % 28)
