"""A parsed query (the Whoosh query tree of ``indexing.query``, made with ``SurfaceAnalyzer``)
as SQL over the entries table.

Worded fields become ``tsquery`` text for ``to_tsquery('german', ...)`` (the words are folded,
PostgreSQL stems them); siblings of worded fields are joined inside one ``tsquery`` so that one
GIN lookup answers them. Everything else (file references, file-plan codes, types, status, dates,
years) is a plain predicate over a column. Wildcards and fuzzy words are expanded over the word
table, as Whoosh expands them over its term list.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection
from whoosh import query as Q
from whoosh.util.times import long_to_datetime

from indexing.core import edit_distance
from indexing.errors import SearchQueryInvalid
from indexing.pg.schema import CONFIG, ENTRIES, trgm_schema
from indexing.query import Access

# Expanding a wildcard to more words than this is refused: each word is one more operand that
# every candidate's vector is checked against (Whoosh reads a word's postings far cheaper).
MAX_EXPANSION = 1_000
FUZZY_CANDIDATES = 200
# Words checked for fuzzy matches one by one where trigrams cannot preselect them.
FUZZY_SCAN = 20_000
# A phrase with a distance (``"a b"~5``) is an alternative per possible spacing: at most this many.
MAX_PHRASE_FORMS = 200
# Which weights of the vector a worded field is (title A, correspondent B, document type C,
# content D; the field ``text`` is all of them).
WEIGHTS = {"text": "", "title": "A", "correspondent": "B"}
DATE_COLUMNS = ("received", "created", "closed")
ID_COLUMNS = {
    "kind": "kind",
    "status": "status",
    "doctype": "lower(doctype)",
    "reference": "reference",
    "plan": "plan",
    # Case and process ids are words to Whoosh (ID fields): prefixes, wildcards and ranges
    # compare their digits as text there, so here too ("akte:1*" is 1, 12, 130, ...).
    "case_id": "CAST(case_id AS text)",
    "process_id": "CAST(process_id AS text)",
}
INT_COLUMNS = ("case_id", "process_id", "year")


def quote(word: str) -> str:
    """A word as a tsquery operand."""
    return "'" + word.replace("\\", "\\\\").replace("'", "''") + "'"


def like_escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


@dataclass
class Compiled:
    """SQL for the ``WHERE`` clause, its parameters, and what ranks the hits."""

    where: str
    params: dict[str, Any] = field(default_factory=dict)
    rank: str | None = None  # tsquery text of every positive worded part
    extras: list[str] = field(default_factory=list)  # SQL scores of boosted field terms


class _Node:
    """A compiled part: a tsquery (``ts``) or a predicate (``sql``)."""

    __slots__ = ("sql", "ts")

    def __init__(self, ts: str | None = None, sql: str | None = None):
        self.ts = ts
        self.sql = sql


TRUE, FALSE = _Node(sql="TRUE"), _Node(sql="FALSE")


class Compiler:
    def __init__(self, conn: Connection):
        self.conn = conn
        self.params: dict[str, Any] = {}
        self.rank: list[str] = []
        self.extras: list[str] = []
        self._trgm: str | bool | None = False

    def param(self, value: object) -> str:
        name = f"p{len(self.params)}"
        self.params[name] = value
        return f":{name}"

    def compile(self, q: Q.Query) -> Compiled:
        node = self.node(q, positive=True)
        return Compiled(self.sql(node), self.params, " | ".join(self.rank) or None, self.extras)

    def sql(self, node: _Node) -> str:
        if node.sql is not None:
            return node.sql
        return f"vector @@ to_tsquery('{CONFIG}', {self.param(node.ts)})"

    # --- the tree --------------------------------------------------------------------------

    def node(self, q: Q.Query, positive: bool) -> _Node:
        if q is Q.NullQuery or isinstance(q, type(Q.NullQuery)):
            return FALSE
        if isinstance(q, Q.AndMaybe):
            required = self.node(q.a, positive)
            self.node(q.b, positive)  # only ranks
            return required
        if isinstance(q, Q.AndNot):
            return self.combine("&", [self.node(q.a, positive), self.negate(q.b)])
        if isinstance(q, Q.Require):
            return self.combine("&", [self.node(q.a, positive), self.node(q.b, positive)])
        if isinstance(q, Q.Not):
            return self.negate(q.query)
        if isinstance(q, Q.And):
            return self.combine("&", [self.node(sub, positive) for sub in q.subqueries])
        if isinstance(q, Q.Or | Q.DisjunctionMax):
            return self.combine("|", [self.node(sub, positive) for sub in q.subqueries])
        if isinstance(q, Q.Every):
            return self.every(q.fieldname)
        fieldname = getattr(q, "fieldname", None)
        if fieldname in WEIGHTS:
            node = self.worded(q, WEIGHTS[fieldname])
            if positive and node.ts is not None:
                self.rank.append(node.ts)
            return node
        node = self.column(q)
        if positive and isinstance(q, Q.Term) and q.boost > 1 and node.sql not in ("FALSE",):
            self.extras.append(f"(CASE WHEN {node.sql} THEN {float(q.boost)} ELSE 0 END)")
        return node

    def negate(self, q: Q.Query) -> _Node:
        inner = self.node(q, positive=False)
        if inner.ts is not None:
            return _Node(ts=f"!({inner.ts})")
        return _Node(sql=f"(({inner.sql}) IS NOT TRUE)")

    def combine(self, op: str, nodes: list[_Node]) -> _Node:
        if op == "&":
            if any(n is FALSE for n in nodes):
                return FALSE
            nodes = [n for n in nodes if n is not TRUE]
            if not nodes:
                return TRUE
        else:
            if any(n is TRUE for n in nodes):
                return TRUE
            nodes = [n for n in nodes if n is not FALSE]
            if not nodes:
                return FALSE
        if len(nodes) == 1:
            return nodes[0]
        worded = [n.ts for n in nodes if n.ts is not None]
        others = [n.sql for n in nodes if n.ts is None]
        joined_ts = f" {op} ".join(f"({t})" for t in worded) if worded else None
        if not others:
            return _Node(ts=joined_ts)
        parts = list(others)
        if joined_ts is not None:
            parts.append(self.sql(_Node(ts=joined_ts)))
        word = " AND " if op == "&" else " OR "
        return _Node(sql="(" + word.join(f"({p})" for p in parts) + ")")

    def every(self, fieldname: str | None) -> _Node:
        if fieldname is None or fieldname in WEIGHTS:
            return TRUE
        if fieldname in ID_COLUMNS:
            return _Node(sql=f"{ID_COLUMNS[fieldname]} <> ''")
        if fieldname in DATE_COLUMNS or fieldname in INT_COLUMNS:
            return _Node(sql=f"{fieldname} IS NOT NULL")
        raise SearchQueryInvalid(f"field {fieldname!r} cannot be searched")

    # --- worded fields ---------------------------------------------------------------------

    def worded(self, q: Q.Query, weight: str) -> _Node:
        suffix = f":{weight}" if weight else ""
        if isinstance(q, Q.FuzzyTerm):
            words = self.similar(q.text, q.maxdist, q.prefixlength)
            return self.any_of([quote(w) + suffix for w in words])
        if isinstance(q, Q.Term):
            return _Node(ts=quote(q.text) + suffix)
        if isinstance(q, Q.Phrase):
            if not q.words:
                return FALSE
            return _Node(ts=phrase([quote(w) + suffix for w in q.words], q.slop))
        if isinstance(q, Q.Prefix):
            return self.any_of([f"{quote(p)}:*{weight}" for p in self.prefixes(q.text)])
        if isinstance(q, Q.Wildcard):
            return self.any_of([quote(w) + suffix for w in self.matching(q.text)])
        raise SearchQueryInvalid(f"{type(q).__name__} cannot be searched in {q.fieldname}")

    def any_of(self, operands: list[str]) -> _Node:
        if not operands:
            return FALSE
        if len(operands) == 1:
            return _Node(ts=operands[0])
        return _Node(ts="(" + " | ".join(operands) + ")")

    def prefixes(self, base: str) -> list[str]:
        """Prefixes that find the words beginning with ``base``: ``base`` itself, unless the
        ``german`` configuration drops it as a stop word (``ein:*`` would find nothing, not
        "Einwohner"); then the one letter longer beginnings of the words in the word table,
        as far as they are stop words too ("eine" → "einer" → "einers")."""
        found: list[str] = []
        todo = [base]
        while todo:
            stops = self.stop_words(todo)
            found += [p for p in todo if p not in stops]
            todo = sorted({longer for p in stops for longer in self.longer(p)})
        return found

    def stop_words(self, prefixes: list[str]) -> set[str]:
        """Those of ``prefixes`` that ``to_tsquery`` drops as stop words."""
        sizes = self.conn.scalars(
            text(
                f"SELECT numnode(to_tsquery('{CONFIG}', q)) FROM "  # noqa: S608 (a constant)
                "unnest(CAST(:q AS text[])) WITH ORDINALITY AS t(q, i) ORDER BY i"
            ),
            {"q": [f"{quote(p)}:*" for p in prefixes]},
        )
        return {p for p, size in zip(prefixes, sizes, strict=True) if size == 0}

    def longer(self, prefix: str) -> list[str]:
        """The beginnings one letter longer than ``prefix`` of words in the word table."""
        return list(
            self.conn.scalars(
                text(
                    "SELECT DISTINCT left(word, :n) FROM search_word "
                    "WHERE word LIKE :p AND length(word) >= :n"
                ),
                {"p": like_escape(prefix) + "%", "n": len(prefix) + 1},
            )
        )

    def matching(self, pattern: str) -> list[str]:
        """The words of the word table a wildcard pattern (``*``, ``?``) matches."""
        like = like_escape(pattern).replace("*", "%").replace("?", "_")
        words = list(
            self.conn.scalars(
                text("SELECT word FROM search_word WHERE word LIKE :p LIMIT :n"),
                {"p": like, "n": MAX_EXPANSION + 1},
            )
        )
        if len(words) > MAX_EXPANSION:
            raise SearchQueryInvalid(f"{pattern!r} matches more than {MAX_EXPANSION} words")
        return words

    def similar(self, word: str, maxdist: int, prefix: int) -> list[str]:
        """Words within ``maxdist`` edits of ``word`` sharing its first ``prefix`` letters."""
        return similar_words(self.conn, word, maxdist, prefix, self.trgm())

    def trgm(self) -> str | None:
        if self._trgm is False:
            self._trgm = trgm_schema(self.conn)
        return self._trgm  # type: ignore[return-value]

    # --- other fields ------------------------------------------------------------------------

    def column(self, q: Q.Query) -> _Node:
        name = q.fieldname
        if isinstance(q, Q.NumericRange):
            return self.range(q)
        if name in INT_COLUMNS and isinstance(q, Q.Term):
            value = q.text
            if isinstance(value, bytes):
                from indexing.schema import build_schema

                value = build_schema()[name].from_bytes(value)
            try:
                number = int(value)
            except (TypeError, ValueError):
                return FALSE
            return _Node(sql=f"{name} = {self.param(number)}")
        column = ID_COLUMNS.get(name)
        if column is None:
            raise SearchQueryInvalid(f"{type(q).__name__} cannot be searched in {name}")
        if isinstance(q, Q.Term):
            value = str(q.text)
            if name == "plan":
                pattern = like_escape(value) + ".%"
                return _Node(sql=f"({column} = {self.param(value)} OR plan LIKE "
                             f"{self.param(pattern)})")  # fmt: skip
            return _Node(sql=f"{column} = {self.param(value)}")
        if isinstance(q, Q.Prefix):
            return _Node(sql=f"{column} LIKE {self.param(like_escape(q.text) + '%')}")
        if isinstance(q, Q.Wildcard):
            like = like_escape(q.text).replace("*", "%").replace("?", "_")
            return _Node(sql=f"{column} LIKE {self.param(like)}")
        if isinstance(q, Q.TermRange):
            parts = []
            if q.start is not None:
                parts.append(f"{column} {'>' if q.startexcl else '>='} {self.param(q.start)}")
            if q.end is not None:
                parts.append(f"{column} {'<' if q.endexcl else '<='} {self.param(q.end)}")
            return _Node(sql=" AND ".join(parts) or "TRUE")
        raise SearchQueryInvalid(f"{type(q).__name__} cannot be searched in {name}")

    def range(self, q: Q.NumericRange) -> _Node:
        name = q.fieldname
        convert: Callable[[Any], object]
        if name in DATE_COLUMNS:
            column = f"{name}::timestamp"
            convert = _moment
        elif name == "year":
            column, convert = "year", int
        else:
            raise SearchQueryInvalid(f"a range cannot be searched in {name}")
        parts = [f"{name} IS NOT NULL" if name != "year" else "year <> 0"]
        if q.start is not None:
            op = ">" if q.startexcl else ">="
            parts.append(f"{column} {op} {self.param(convert(q.start))}")
        if q.end is not None:
            op = "<" if q.endexcl else "<="
            parts.append(f"{column} {op} {self.param(convert(q.end))}")
        return _Node(sql="(" + " AND ".join(parts) + ")")


def _moment(value: datetime | int | str) -> datetime:
    """A range bound as a moment: Whoosh gives dates as datetimes or as its sortable longs."""
    if isinstance(value, datetime):
        return value
    moment: datetime = long_to_datetime(int(value))
    return moment


def similar_words(
    conn: Connection, word: str, maxdist: int, prefix: int, trgm: str | None
) -> list[str]:
    """Words of the word table within ``maxdist`` edits of ``word``, itself included (same
    first ``prefix`` letters): trigram candidates (pg_trgm's index), checked exactly here."""
    start = like_escape(word[:prefix]) + "%"
    bounds = {"s": start, "lo": len(word) - maxdist, "hi": len(word) + maxdist}
    floor = trigram_floor(len(word), maxdist)
    if trgm and floor > 0:
        # The default threshold (0.3) would miss "haus" for "hsus" (0.25).
        conn.execute(
            text("SELECT set_config('pg_trgm.similarity_threshold', :t, true)"), {"t": str(floor)}
        )
        rows = conn.scalars(
            text(
                # Only the extension's schema (an identifier quoted by the database) is put in.
                f"SELECT word FROM search_word WHERE word OPERATOR({trgm}.%) :w "  # noqa: S608
                "AND word LIKE :s AND length(word) BETWEEN :lo AND :hi "
                f"ORDER BY {trgm}.similarity(word, :w) DESC LIMIT :n"
            ),
            {"w": word, "n": FUZZY_CANDIDATES, **bounds},
        )
    else:
        rows = conn.scalars(
            text(
                "SELECT word FROM search_word WHERE word LIKE :s "
                "AND length(word) BETWEEN :lo AND :hi LIMIT :n"
            ),
            {"n": FUZZY_SCAN, **bounds},
        )
    return [w for w in rows if edit_distance(w, word, maxdist) <= maxdist]


def trigram_floor(length: int, maxdist: int) -> float:
    """The least trigram similarity (pg_trgm's) of a word of ``length`` letters to any word
    within ``maxdist`` edits of it; 0 where they may share no trigram. A word has
    ``length + 1`` trigrams; an edit changes at most 3 and adds at most one."""
    trigrams = length + 1
    shared = trigrams - 3 * maxdist
    if shared <= 0:
        return 0.0
    return round(shared / (trigrams + 4 * maxdist) - 0.005, 3)  # rounded down: a lower bound


def phrase(operands: list[str], slop: int) -> str:
    """Words in this order, each at most ``slop`` positions after the one before (Whoosh's
    ``"a b"~slop``; 1: adjacent). PostgreSQL's ``<N>`` is one exact distance, measured from
    the end of the phrase to its left: so one alternative per distance, nested."""
    if slop <= 1:
        return " <-> ".join(operands)
    if slop ** (len(operands) - 1) > MAX_PHRASE_FORMS:
        raise SearchQueryInvalid(f"a phrase of {len(operands)} words with distance {slop}")
    found = operands[0]
    for operand in operands[1:]:
        found = "(" + " | ".join(f"({found}) <{d}> {operand}" for d in range(1, slop + 1)) + ")"
    return found


def access_sql(access: Access, compiler: Compiler) -> str:
    """The filter every search runs inside (``indexing.query.access_query`` as SQL)."""
    if not access.reaches:
        return "FALSE"
    alternatives = []
    for reach in access.reaches:
        if reach.units is None:
            scope = "TRUE"
        elif reach.units:
            scope = f"unit = ANY({compiler.param(sorted(reach.units))})"
        else:
            continue
        if reach.inbox_only:
            scope = f"({scope} AND inbox)"
        alternatives.append(scope)
    if not alternatives:
        return "FALSE"
    parts = [f"tenant = {compiler.param(access.tenant_id)}", "(" + " OR ".join(alternatives) + ")"]
    if not access.restricted:
        parts.append("NOT restricted")
    return " AND ".join(parts)


__all__ = ["ENTRIES", "Compiled", "Compiler", "access_sql", "similar_words"]
