"""The import manifest: which file goes into which case, with title, date and document type.

CSV, ``;`` or ``,``, UTF-8 or Windows-1252 (as the file plan import). Columns: ``file``
(relative to the import folder), ``file_reference``, ``title``, ``date`` (YYYY-MM-DD or
DD.MM.YYYY), ``doc_type``; optional ``correspondent`` and ``process`` (number or title within
the case; may be left out when the case has exactly one open process). An empty
``file_reference`` leaves the file in the inbox.

Every row is checked before anything is imported; a row that names no file of the folder, no
case, a closed case, an unclear process or a bad date is reported with its line, never
guessed, and the import does not start until the manifest is right.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from eakte.errors import ManifestInvalid
from eakte.ingest.intake_context import DocumentMetadata
from eakte.models import Case, Process, User
from eakte.permissions import Action, can
from eakte.services.fileplan import decode_csv

REQUIRED = ("file", "file_reference", "title", "date", "doc_type")
OPTIONAL = ("correspondent", "process")
DATE_FORMATS = ("%Y-%m-%d", "%d.%m.%Y")


@dataclass(frozen=True)
class ManifestRow:
    line: int
    metadata: DocumentMetadata
    process_id: int | None  # None: into the inbox


def read_manifest(
    session: Session, actor: User, data: bytes, files: set[str]
) -> dict[str, ManifestRow]:
    """Rows by relative file path; raises ``ManifestInvalid`` listing every problem."""
    rows, problems = read_rows(data, REQUIRED)
    if problems:
        raise ManifestInvalid(problems)
    result: dict[str, ManifestRow] = {}
    cases: dict[str, Case | None] = {}
    for line, row in rows:
        name = row["file"].replace("\\", "/").strip("/")
        here = f"line {line}"
        if not name:
            problems.append(f"{here}: the file column is empty")
            continue
        if name not in files:
            problems.append(f"{here}: no file {name!r} in the import folder")
        if name in result:
            earlier = result[name].line
            problems.append(f"{here}: file {name!r} is listed twice (also line {earlier})")
        received = parse_date(row["date"])
        if received is False:
            problems.append(f"{here}: bad date {row['date']!r} (use YYYY-MM-DD or DD.MM.YYYY)")
        process_id = None
        reference = row["file_reference"]
        if reference:
            if reference not in cases:
                cases[reference] = session.scalar(
                    select(Case).where(
                        Case.tenant_id == actor.tenant_id, Case.file_reference == reference
                    )
                )
            process_id, problem = _process(cases[reference], reference, row.get("process", ""))
            if problem:
                problems.append(f"{here}: {problem}")
            elif not can(session, actor, Action.file, session.get(Process, process_id)):
                # Found now, not as a failure of every file once the import runs (issue 21).
                problems.append(
                    f"{here}: {actor.username} may not file into case {reference} (scanning "
                    "staff bring whole old files in with `eakte migration`)"
                )
        result[name] = ManifestRow(
            line=line,
            metadata=DocumentMetadata(
                title=row["title"],
                doc_type=row["doc_type"],
                correspondent=row.get("correspondent", ""),
                received_date=received or None,
            ),
            process_id=process_id,
        )
    if problems:
        raise ManifestInvalid(problems)
    return result


def read_rows(
    data: bytes, required: tuple[str, ...]
) -> tuple[list[tuple[int, dict[str, str]]], list[str]]:
    """(line, row) pairs of a CSV manifest (``;`` or ``,``, UTF-8 or Windows-1252) and the
    problems of its form: missing ``required`` columns, lines of the wrong length."""
    try:
        text = decode_csv(data)
    except UnicodeDecodeError as exc:
        return [], [f"line 1: neither UTF-8 nor Windows-1252 ({exc.reason})"]
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") >= first.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = [h.strip().lower() for h in next(reader, [])]
    missing = [c for c in required if c not in header]
    if missing:
        return [], [f"line 1: missing column(s): {', '.join(missing)}"]
    rows, problems = [], []
    for values in reader:
        line = reader.line_num
        if not any(v.strip() for v in values):
            continue
        if len(values) != len(header):
            problems.append(f"line {line}: {len(values)} fields, the header has {len(header)}")
            continue
        rows.append((line, {k: v.strip() for k, v in zip(header, values, strict=True)}))
    return rows, problems


def parse_date(text: str) -> date | Literal[False] | None:
    """A date, None when empty, False when not a date."""
    if not text:
        return None
    for fmt in DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return False


def _process(case: Case | None, reference: str, wanted: str) -> tuple[int | None, str]:
    if case is None:
        return None, f"no case with file reference {reference!r}"
    if case.is_closed:
        return None, f"case {reference} is closed (zdA)"
    open_processes = [p for p in case.processes if not p.is_closed]
    if wanted:
        match = [p for p in open_processes if str(p.number) == wanted or p.title == wanted]
        if len(match) != 1:
            return None, f"case {reference} has no single open process {wanted!r}"
        return match[0].id, ""
    if len(open_processes) != 1:
        return None, (
            f"case {reference} has {len(open_processes)} open processes: name one in the "
            "process column"
        )
    return open_processes[0].id, ""
