"""A parsed query (the Whoosh query tree of ``indexing.query``, made with ``SurfaceAnalyzer``)
as SQL over the entries table.

Worded fields become ``tsquery`` text for ``to_tsquery('german', ...)`` (the words are folded,
PostgreSQL stems them); siblings of worded fields are joined inside one ``tsquery`` so that one
GIN lookup answers them. Everything else (file references, file-plan codes, types, status, dates,
years) is a plain predicate over a column. Wildcards and fuzzy words are expanded over the word
table, as Whoosh expands them over its term list.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.engine import Connection
from whoosh import query as Q
from whoosh.util.times import long_to_datetime

from indexing.errors import QuerySyntaxError
from indexing.pg.schema import CONFIG, ENTRIES, trgm_schema
from indexing.query import Access

# Expanding a wildcard to more words than this is refused (as in the Whoosh backend).
MAX_EXPANSION = 20_000
FUZZY_CANDIDATES = 200
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
    params: dict = field(default_factory=dict)
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
        self.params: dict = {}
        self.rank: list[str] = []
        self.extras: list[str] = []
        self._trgm: str | bool | None = False

    def param(self, value) -> str:
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
        raise QuerySyntaxError(f"field {fieldname!r} cannot be searched")

    # --- worded fields ---------------------------------------------------------------------

    def worded(self, q: Q.Query, weight: str) -> _Node:
        if isinstance(q, Q.FuzzyTerm):
            words = self.similar(q.text, q.maxdist, q.prefixlength)
            return self.any_of(words, weight)
        if isinstance(q, Q.Term):
            return _Node(ts=quote(q.text) + (f":{weight}" if weight else ""))
        if isinstance(q, Q.Phrase):
            if not q.words:
                return FALSE
            suffix = f":{weight}" if weight else ""
            return _Node(ts=" <-> ".join(quote(w) + suffix for w in q.words))
        if isinstance(q, Q.Prefix):
            return _Node(ts=f"{quote(q.text)}:*{weight}")
        if isinstance(q, Q.Wildcard):
            return self.any_of(self.matching(q.text), weight)
        raise QuerySyntaxError(f"{type(q).__name__} cannot be searched in {q.fieldname}")

    def any_of(self, words: list[str], weight: str) -> _Node:
        if not words:
            return FALSE
        suffix = f":{weight}" if weight else ""
        return _Node(ts="(" + " | ".join(quote(w) + suffix for w in words) + ")")

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
            raise QuerySyntaxError(f"{pattern!r} matches more than {MAX_EXPANSION} words")
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
            raise QuerySyntaxError(f"{type(q).__name__} cannot be searched in {name}")
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
        raise QuerySyntaxError(f"{type(q).__name__} cannot be searched in {name}")

    def range(self, q: Q.NumericRange) -> _Node:
        name = q.fieldname
        if name in DATE_COLUMNS:
            column = f"{name}::timestamp"
            convert = _moment
        elif name == "year":
            column, convert = "year", int
        else:
            raise QuerySyntaxError(f"a range cannot be searched in {name}")
        parts = [f"{name} IS NOT NULL" if name != "year" else "year <> 0"]
        if q.start is not None:
            op = ">" if q.startexcl else ">="
            parts.append(f"{column} {op} {self.param(convert(q.start))}")
        if q.end is not None:
            op = "<" if q.endexcl else "<="
            parts.append(f"{column} {op} {self.param(convert(q.end))}")
        return _Node(sql="(" + " AND ".join(parts) + ")")


def _moment(value) -> datetime:
    if isinstance(value, datetime):
        return value
    return long_to_datetime(int(value))


def distance(a: str, b: str, limit: int) -> int:
    """Levenshtein distance, giving up (returning ``limit + 1``) once it exceeds ``limit``."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        if min(current) > limit:
            return limit + 1
        previous = current
    return previous[-1]


def similar_words(
    conn: Connection, word: str, maxdist: int, prefix: int, trgm: str | None
) -> list[str]:
    """Words of the word table within ``maxdist`` edits of ``word`` (same first ``prefix``
    letters): trigram candidates (pg_trgm's index), checked exactly here."""
    start = like_escape(word[:prefix]) + "%"
    if trgm:
        rows = conn.scalars(
            text(
                # Only the extension's schema (an identifier quoted by the database) is put in.
                f"SELECT word FROM search_word WHERE word OPERATOR({trgm}.%) :w "  # noqa: S608
                "AND word LIKE :s AND length(word) BETWEEN :lo AND :hi "
                f"ORDER BY {trgm}.similarity(word, :w) DESC LIMIT :n"
            ),
            {"w": word, "s": start, "lo": len(word) - maxdist, "hi": len(word) + maxdist,
             "n": FUZZY_CANDIDATES},
        )  # fmt: skip
    else:
        rows = conn.scalars(
            text(
                "SELECT word FROM search_word WHERE word LIKE :s "
                "AND length(word) BETWEEN :lo AND :hi LIMIT :n"
            ),
            {"s": start, "lo": len(word) - maxdist, "hi": len(word) + maxdist,
             "n": MAX_EXPANSION},
        )  # fmt: skip
    return [w for w in rows if w != word and distance(w, word, maxdist) <= maxdist]


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
