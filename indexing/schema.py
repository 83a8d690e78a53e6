"""The index schema and what goes into it: one ``IndexEntry`` per document or case.

``SCHEMA_VERSION`` changes whenever the fields or the analysis change; an index written with
another version is discarded and rebuilt (see ``indexing.store``), and the database's
``index_version`` columns tell the indexer which rows to write again.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from whoosh.analysis import IDAnalyzer
from whoosh.fields import DATETIME, ID, NUMERIC, STORED, TEXT, Schema
from whoosh.util.times import TimeError, adatetime, fix, is_void

from indexing.analysis import GermanAnalyzer, PositionsFormat

SCHEMA_VERSION = 1

DOCUMENT = "document"
CASE = "case"
# The document's place in its life, as a clerk sees it: in an inbox, or in an open or closed case.
INBOX, OPEN, CLOSED = "inbox", "open", "closed"

_GERMAN_DATE = re.compile(r"^(?:(\d{1,2})\.)?(\d{1,2})\.(\d{4})$")


class BadDate(ValueError):
    """A date in a query that is not one (month 13, 31 February, letters)."""


class GermanDate(DATETIME):  # type: ignore[misc]  # Whoosh has no type information
    """A date field that also understands German notation (15.03.2022, 03.2022) besides
    2022, 2022-03 and 2022-03-15; a partial date means the whole year or month."""

    def _parse_datestring(self, qstring: str) -> Any:
        text = qstring.strip()
        match = _GERMAN_DATE.match(text)
        if match:
            day, month, year = match.groups()
            text = f"{year}{int(month):02d}" + (f"{int(day):02d}" if day else "")
        else:
            text = text.replace("-", "")
        if not text.isdigit() or len(text) not in (4, 6, 8):
            raise BadDate(f"{qstring!r} is not a date")
        year, month, day = int(text[:4]), None, None
        if len(text) >= 6:
            month = int(text[4:6])
        if len(text) == 8:
            day = int(text[6:8])
        try:
            at = fix(adatetime(year, month, day))
            at.floor(), at.ceil()  # a month 13 or a 31 February fails here
        except (ValueError, TimeError) as exc:  # a month 13 or a 31 February
            raise BadDate(f"{qstring!r} is not a date ({exc})") from None
        if is_void(at):
            raise BadDate(f"{qstring!r} is not a date")
        return at


def build_schema(german: GermanAnalyzer | None = None) -> Schema:
    """The Whoosh schema; ``german``: the analyzer of worded fields (the PostgreSQL backend
    parses queries with one that folds but leaves stemming to PostgreSQL)."""
    german = german or GermanAnalyzer()

    def words(boost: float = 1.0, stored: bool = False) -> TEXT:
        fieldtype = TEXT(analyzer=german, phrase=True, stored=stored, field_boost=boost)
        fieldtype.format = PositionsFormat(field_boost=boost)
        return fieldtype

    return Schema(
        key=ID(unique=True, sortable=True),  # "d<id>" or "c<id>"
        kind=ID(sortable=True),
        # What the permission filter looks at.
        tenant=ID(),
        unit=ID(),
        inbox=ID(),
        restricted=ID(),
        # What people search for. ``text`` holds everything worded (title, correspondent,
        # document type, content), so a search for words is one term per word; ``title`` and
        # ``correspondent`` again on their own, for ranking and for field queries.
        text=words(),
        title=words(),
        correspondent=words(),
        reference=ID(analyzer=IDAnalyzer(lowercase=True)),
        plan=ID(),  # the node's code and every ancestor code: "32", "32.10", "32.10.05"
        doctype=ID(sortable=True, analyzer=IDAnalyzer(lowercase=True)),
        case_id=ID(),
        process_id=ID(),
        status=ID(sortable=True),
        # Dates also as columns: a date range is a comparison over a column, not a union of
        # the many terms Whoosh indexes a number as.
        received=GermanDate(sortable=True),
        created=GermanDate(sortable=True),
        closed=GermanDate(sortable=True),
        # Facets and sorting read these columns.
        node=ID(sortable=True),
        year=NUMERIC(int, bits=32, sortable=True),
        date=NUMERIC(int, bits=32, sortable=True),
        # The whole entry (compressed on disk): hits are shown from it, snippets are cut from
        # its content, and segments are merged by analysing it again.
        entry=STORED(),
    )


@dataclass(frozen=True)
class IndexEntry:
    """What the index knows of one document or case; plain values, no ORM objects."""

    key: str
    kind: str
    tenant_id: int
    title: str
    org_unit_id: int | None = None
    inbox: bool = False
    restricted: bool = False
    content: str = ""
    correspondent: str = ""
    doc_type: str = ""
    file_reference: str = ""
    plan_code: str = ""
    case_id: int | None = None
    process_id: int | None = None
    status: str = ""
    received: date | None = None
    created: date | None = None
    closed: date | None = None

    @property
    def sort_date(self) -> date | None:
        return self.received or self.created


def entry_from_stored(stored: dict[str, Any]) -> IndexEntry:
    return IndexEntry(**stored["entry"])


def document_key(document_id: int) -> str:
    return f"d{document_id}"


def case_key(case_id: int) -> str:
    return f"c{case_id}"


def plan_codes(code: str) -> list[str]:
    """A code and its ancestors: "32.10.05" → ["32", "32.10", "32.10.05"]."""
    parts = [p for p in code.split(".") if p]
    return [".".join(parts[: i + 1]) for i in range(len(parts))]


def _at(day: date | None) -> datetime | None:
    return datetime(day.year, day.month, day.day) if day else None


def to_fields(entry: IndexEntry) -> dict[str, Any]:
    """The keyword arguments of ``writer.add_document`` for one entry."""
    day = entry.sort_date
    values = {
        "key": entry.key,
        "kind": entry.kind,
        "tenant": str(entry.tenant_id),
        "unit": str(entry.org_unit_id) if entry.org_unit_id is not None else None,
        "inbox": "1" if entry.inbox else "0",
        "restricted": "1" if entry.restricted else "0",
        "text": "\n".join(
            part
            for part in (entry.title, entry.correspondent, entry.doc_type, entry.content)
            if part
        ),
        "title": entry.title,
        "correspondent": entry.correspondent or None,
        "reference": entry.file_reference or None,
        "plan": plan_codes(entry.plan_code) or None,
        "doctype": entry.doc_type or None,
        "case_id": str(entry.case_id) if entry.case_id is not None else None,
        "process_id": str(entry.process_id) if entry.process_id is not None else None,
        "status": entry.status or None,
        "received": _at(entry.received),
        "created": _at(entry.created),
        "closed": _at(entry.closed),
        "node": entry.plan_code,
        "year": day.year if day else 0,
        "date": day.toordinal() if day else 0,
        "entry": dataclasses.asdict(entry),
    }
    return {name: value for name, value in values.items() if value is not None}
