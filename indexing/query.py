"""From what a person typed to a Whoosh query, and from what a user may see to a filter query.

Two kinds of input:

- the simple box: every word must occur (in any worded field); ``"..."`` is a phrase, ``Bau*`` a
  prefix, and something shaped like a file reference or file-plan code (``32.10``,
  ``32.10.05-0001/2026``) is looked up as one, exactly and as a prefix. The simple box never
  fails on odd characters: stray quotes are ignored.
- the query language for power users (Whoosh syntax: AND/OR/NOT, parentheses, phrases,
  ``field:value``, wildcards, ranges, ``word~`` for fuzzy) with German field names such as
  ``eingang:2022`` or ``az:32.10*``. What cannot be run raises a ``SearchQueryInvalid`` that
  says why.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from whoosh import query as Q
from whoosh.qparser import (
    FuzzyTermPlugin,
    GtLtPlugin,
    QueryParser,
    syntax,
)
from whoosh.qparser import plugins as qplugins

from indexing.analysis import WORD, GermanAnalyzer
from indexing.errors import (
    SearchInvalidDate,
    SearchQueryEmpty,
    SearchQueryInvalid,
    SearchQueryTooLong,
    SearchReversedRange,
    SearchUnknownField,
)
from indexing.schema import CASE, CLOSED, DOCUMENT, INBOX, OPEN, BadDate, build_schema

MAX_QUERY_CHARS = 1000
# A prefix this short would expand to a large part of the vocabulary.
MIN_PREFIX = 2
TEXT = "text"

# The names users may type (German first), per schema field.
FIELD_NAMES: dict[str, tuple[str, ...]] = {
    "text": ("inhalt", "volltext", "text", "content"),
    "title": ("titel", "betreff", "title"),
    "correspondent": ("absender", "korrespondent", "correspondent"),
    "reference": ("az", "aktenzeichen", "reference"),
    "plan": ("aktenplan", "plan"),
    "doctype": ("typ", "dokumenttyp", "doctype", "type"),
    "status": ("status",),
    "kind": ("objekt", "kind"),
    "received": ("eingang", "eingangsdatum", "received"),
    "created": ("erstellt", "created"),
    "closed": ("zda", "geschlossen", "closed"),
    "year": ("jahr", "year"),
    "case_id": ("akte", "case"),
    "process_id": ("vorgang", "process"),
}
ALIASES = {name: fieldname for fieldname, names in FIELD_NAMES.items() for name in names}
USER_FIELDS = sorted(ALIASES)
# German words for indexed values.
VALUE_ALIASES: dict[str, dict[str, str]] = {
    "status": {
        "offen": OPEN,
        "zda": CLOSED,
        "geschlossen": CLOSED,
        "posteingang": INBOX,
        "eingang": INBOX,
    },
    "kind": {"akte": CASE, "akten": CASE, "dokument": DOCUMENT, "dokumente": DOCUMENT},
}
DATE_FIELDS = ("received", "created", "closed")

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\ufeff]")
_REFERENCE_LIKE = re.compile(r"^\d[\w./-]*[./-][\w./-]*$")
_CODE_LIKE = re.compile(r"^\d+(\.\d+)*\.?$")
_DATE_LIKE = re.compile(r"^\d{1,2}\.\d{1,2}\.\d{2,4}$")
_CHUNKS = re.compile(r'"([^"]*)"|(\S+)')
_analyzer = GermanAnalyzer()


@dataclass
class ParsedQuery:
    """A query and the words it looked for (for typo tolerance and highlighting)."""

    query: Q.Query
    words: list[str] = field(default_factory=list)  # analysed terms of plain words
    highlight: set[str] = field(default_factory=set)  # analysed terms to mark in snippets
    prefixes: list[str] = field(default_factory=list)  # analysed prefixes to mark
    match_all: bool = False


def clean(text: str) -> str:
    """Control and invisible formatting characters become spaces; length is checked."""
    text = unicodedata.normalize("NFC", _CONTROL.sub(" ", text or "")).strip()
    if len(text) > MAX_QUERY_CHARS:
        raise SearchQueryTooLong(f"{len(text)} characters (at most {MAX_QUERY_CHARS})")
    return text


# --- the simple box ---------------------------------------------------------------------------


def simple(text: str, analyzer: GermanAnalyzer = _analyzer) -> ParsedQuery:
    """All words must occur; see the module docstring. ``analyzer`` makes the terms (the
    PostgreSQL backend passes one that folds words but leaves stemming to the database)."""
    text = clean(text)
    if text.count('"') % 2:
        text = text.replace('"', " ")  # an unbalanced quote is a typo, not a phrase
    if text.strip("* ") == "" and "*" in text:
        return ParsedQuery(Q.Every(), match_all=True)
    parts: list[Q.Query] = []
    parsed = ParsedQuery(Q.NullQuery)
    for phrase, chunk in _CHUNKS.findall(text):
        if phrase:
            terms = analyzer.terms(phrase)
            parsed.highlight.update(terms)
            if len(terms) == 1:
                parts.append(Q.Term(TEXT, terms[0]))
            elif terms:
                parts.append(Q.Phrase(TEXT, terms))
            continue
        part = _simple_chunk(chunk, parsed, analyzer)
        if part is not None:
            parts.append(part)
    if not parts:
        raise SearchQueryEmpty(f"no words to search for in {text!r}")
    required = parts[0] if len(parts) == 1 else Q.And(parts)
    if parsed.words:
        # Words in the title count extra: the title names what a document is about.
        title = Q.Or([Q.Term("title", word, boost=2.0) for word in parsed.words])
        parsed.query = Q.AndMaybe(required, title)
    else:
        parsed.query = required
    return parsed


def _simple_chunk(chunk: str, parsed: ParsedQuery, analyzer: GermanAnalyzer) -> Q.Query | None:
    bare = chunk.strip("()[]{}<>,;:!?'\"")
    if not bare or bare.strip("*") == "":
        return None
    if _REFERENCE_LIKE.match(bare.rstrip("*")):
        return _reference_query(bare.rstrip("*"), parsed, analyzer)
    if bare.endswith("*") and "*" not in bare[:-1]:
        base = bare[:-1]
        # One word, a stop word too: "ein*" is typed for Einwohner, not for "ein".
        if len(WORD.findall(base)) == 1 and len(base) >= MIN_PREFIX:
            prefix = analyzer.prefix(base)
            parsed.prefixes.append(prefix)
            return Q.Prefix(TEXT, prefix)
        bare = base
    terms = analyzer.terms(bare.replace("*", " "))
    parsed.words.extend(terms)
    parsed.highlight.update(terms)
    if not terms:
        return None
    return Q.Term(TEXT, terms[0]) if len(terms) == 1 else Q.And([Q.Term(TEXT, t) for t in terms])


def _reference_query(text: str, parsed: ParsedQuery, analyzer: GermanAnalyzer) -> Q.Query:
    """A file reference or file-plan code: exact, or as a prefix (everything filed beneath);
    a date such as 12.03.2022 or an identifier such as a Leitweg-ID (04011000-12345-34)
    looks alike, so that is also looked for in the text."""
    low = text.lower()
    words = analyzer.terms(text)
    parsed.highlight.update(words)
    alternatives: list[Q.Query] = [Q.Term("reference", low, boost=3.0)]
    if _CODE_LIKE.match(text):
        # A file-plan code: whole parts only ("32.1" is not "32.10").
        code = text.rstrip(".")
        alternatives += [
            Q.Term("plan", code),
            Q.Prefix("reference", f"{code}-"),
            Q.Prefix("reference", f"{code}."),
        ]
    else:
        alternatives.append(Q.Prefix("reference", low))
    if (_DATE_LIKE.match(text) or not _CODE_LIKE.match(text)) and words:
        alternatives.append(Q.Phrase(TEXT, words) if len(words) > 1 else Q.Term(TEXT, words[0]))
    # Among what is filed under a reference, the case itself comes first.
    return Q.AndMaybe(Q.Or(alternatives), Q.Term("kind", CASE, boost=2.0))


# --- the query language -----------------------------------------------------------------------


class _AliasPlugin(qplugins.Plugin):  # type: ignore[misc]  # Whoosh has no type information
    """German field names (any case) to schema fields; unknown names are kept for the check."""

    def filters(self, parser: Any) -> list[tuple[Callable[[Any, Any], Any], int]]:
        return [(self.rename, 90)]  # before the fields plugin (100)

    def rename(self, parser: Any, group: Any) -> Any:
        for i, node in enumerate(group):
            if isinstance(node, syntax.GroupNode):
                group[i] = self.rename(parser, node)
            elif node.has_fieldname and node.fieldname is not None:
                name = node.fieldname.lower()
                node.fieldname = ALIASES.get(name, f"?{node.fieldname}")
        return group


class _Parser(QueryParser):  # type: ignore[misc]  # Whoosh has no type information
    def term_query(
        self,
        fieldname: str,
        text: str,
        termclass: Any,
        boost: float = 1.0,
        tokenize: bool = True,
        removestops: bool = True,
    ) -> Any:
        if fieldname not in self.schema:
            raise SearchUnknownField(fieldname.lstrip("?"), USER_FIELDS)
        if fieldname in VALUE_ALIASES:
            text = VALUE_ALIASES[fieldname].get(text.lower(), text.lower())
        fieldobj = self.schema[fieldname]
        if isinstance(fieldobj.analyzer, GermanAnalyzer) and issubclass(
            termclass, Q.Wildcard | Q.Prefix
        ):
            if issubclass(termclass, Q.Prefix):
                text += "*"
            return _pattern_query(fieldname, text, boost, fieldobj.analyzer)
        return super().term_query(fieldname, text, termclass, boost, tokenize, removestops)


def _pattern_query(fieldname: str, text: str, boost: float, analyzer: GermanAnalyzer) -> Q.Query:
    """Wildcards against stemmed terms: ``Gebühren*`` must find the stem ``gebuhr``."""
    if text.endswith("*") and not any(c in text[:-1] for c in "*?"):
        base = text[:-1]
        if len(base) < MIN_PREFIX:
            raise SearchQueryInvalid(f"prefix {text!r} is too short")
        return Q.Prefix(fieldname, analyzer.prefix(base), boost)
    if text.strip("*?") == "":
        return Q.Every(fieldname)
    return Q.Wildcard(fieldname, analyzer.pattern(text), boost=boost)


def _make_parser(analyzer: GermanAnalyzer | None = None) -> _Parser:
    parser = _Parser(TEXT, build_schema(analyzer))
    parser.remove_plugin_class(qplugins.FieldsPlugin)
    # A field name starts with a letter (so "10:30" stays text) and unknown names stay fields,
    # so that they can be reported instead of silently searched as words.
    parser.add_plugin(qplugins.FieldsPlugin(r"(?P<text>[^\W\d]\w*):", remove_unknown=False))
    parser.add_plugin(_AliasPlugin())
    parser.add_plugin(FuzzyTermPlugin())
    parser.add_plugin(GtLtPlugin())
    return parser


_parsers: dict[type, _Parser] = {GermanAnalyzer: _make_parser()}


def _parser_for(analyzer: GermanAnalyzer) -> _Parser:
    kind = type(analyzer)
    if kind not in _parsers:
        _parsers[kind] = _make_parser(analyzer)  # a race only builds one twice
    return _parsers[kind]


def advanced(text: str, analyzer: GermanAnalyzer = _analyzer) -> ParsedQuery:
    """The Whoosh query language with German field names; see the module docstring."""
    text = clean(text)
    if not text:
        raise SearchQueryEmpty("empty query")
    if text.strip() == "*":
        return ParsedQuery(Q.Every(), match_all=True)
    try:
        parsed = _parser_for(analyzer).parse(text)
    except SearchQueryInvalid:
        raise
    except BadDate as exc:  # raised by a date range, not turned into an error query
        raise SearchInvalidDate(str(exc)) from None
    except Exception as exc:  # Whoosh's parser is lenient; anything left is a syntax problem
        raise SearchQueryInvalid(f"{type(exc).__name__}: {exc}") from None
    result = ParsedQuery(parsed)
    _check(parsed, result)
    if parsed is Q.NullQuery or isinstance(parsed, type(Q.NullQuery)):
        raise SearchQueryEmpty(f"no words to search for in {text!r}")
    return result


def _check(q: Q.Query, result: ParsedQuery) -> None:
    """Raise for what the parser turned into an error query; note terms to highlight."""
    error = getattr(q, "error", None)
    if error is not None:
        if isinstance(error, BadDate):
            raise SearchInvalidDate(str(error))
        raise SearchQueryInvalid(str(error))
    fieldname = getattr(q, "fieldname", None)
    if fieldname is not None and fieldname.startswith("?"):
        raise SearchUnknownField(fieldname[1:], USER_FIELDS)
    if isinstance(q, Q.NumericRange) and None not in (q.start, q.end) and q.start > q.end:
        raise SearchReversedRange(f"{q.fieldname}: {q.start} > {q.end}")
    if isinstance(q, Q.FuzzyTerm):
        # More than two edits match nearly everything (and Whoosh's automaton cannot build it).
        q.maxdist = max(1, min(q.maxdist, 2))
        q.prefixlength = min(q.prefixlength, max(0, len(q.text) - 1))
    if fieldname in (TEXT, "title") and isinstance(q, Q.Term | Q.FuzzyTerm):
        result.highlight.add(q.text)
        if isinstance(q, Q.Term) and fieldname == TEXT:
            result.words.append(q.text)
    if isinstance(q, Q.Phrase) and q.fieldname in (TEXT, "title"):
        result.highlight.update(q.words)
    if isinstance(q, Q.Prefix) and q.fieldname in (TEXT, "title"):
        result.prefixes.append(q.text)
    if isinstance(q, Q.Not):
        return  # words that must not occur are not highlighted
    for child in q.children():
        _check(child, result)


# --- who may see what -------------------------------------------------------------------------


@dataclass(frozen=True)
class Reach:
    """Org units a role reaches (None: all of the tenant); ``inbox_only``: only documents that
    are still in an inbox (scanning staff)."""

    units: frozenset[int] | None
    inbox_only: bool = False


@dataclass(frozen=True)
class Access:
    """What a user may open, in index terms (built by the application from its rules)."""

    tenant_id: int
    reaches: tuple[Reach, ...]
    restricted: bool = False  # may see restricted (DSGVO Art. 18) objects


def access_query(access: Access) -> Q.Query:
    """The filter every search runs inside: nothing outside it is counted or shown."""
    if not access.reaches:
        return Q.NullQuery
    alternatives: list[Q.Query] = []
    for reach in access.reaches:
        if reach.units is None:
            scope: Q.Query = Q.Every()
        elif reach.units:
            scope = Q.Or([Q.Term("unit", str(unit)) for unit in sorted(reach.units)])
        else:
            continue
        if reach.inbox_only:
            scope = Q.And([scope, Q.Term("inbox", "1")])
        alternatives.append(scope)
    if not alternatives:
        return Q.NullQuery
    parts = [Q.Term("tenant", str(access.tenant_id)), Q.Or(alternatives)]
    if not access.restricted:
        parts.append(Q.Term("restricted", "0"))
    return Q.And(parts)
