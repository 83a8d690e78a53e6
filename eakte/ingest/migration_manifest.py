"""The migration manifest of a paper archive (Altaktenübernahme, issue 21).

CSV, ``;`` or ``,``, UTF-8 or Windows-1252, one line per document (or per case or process
without documents). The case's columns may be repeated on every line of the case or given on
its first line only ("per section"); lines that give them must agree.

Columns: ``box`` (box or shelf, one scan batch each), ``reference`` (the old file reference,
kept verbatim), ``case_title``, ``plan`` (file-plan code, of the old plan when a mapping table
maps it to today's), ``file`` (relative to the import folder; empty: no document on this line).
Optional: ``org_unit`` (default: the migration's), ``opened``, ``closed`` (YYYY-MM-DD or
DD.MM.YYYY; a case without ``closed`` stays open), ``schedule`` (where the old file names
another retention schedule than its node), ``process`` (title; default: the case title),
``title``, ``date``, ``doc_type``, ``sender``, and per box ``device``, ``dpi``,
``colour_mode`` (bw, gray, color).

The mapping table: CSV with columns ``old`` and ``new`` (codes).

Everything is checked before anything is stored; every problem is reported with its line.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from eakte.errors import ManifestInvalid
from eakte.ingest.manifest import parse_date, read_rows
from eakte.models import Case, FilePlanNode
from eakte.services.cases import effective_schedule
from eakte.services.fileplan import _Plan

REQUIRED = ("box", "reference", "case_title", "plan", "file")
CASE_FIELDS = ("case_title", "plan", "org_unit", "opened", "closed", "schedule")
BOX_FIELDS = ("device", "dpi", "colour_mode")
COLOUR_MODES = ("bw", "gray", "color")


@dataclass
class DocumentSpec:
    line: int
    file: str
    title: str
    received: date | None
    doc_type: str
    sender: str
    box: str
    process: str


@dataclass
class CaseSpec:
    line: int
    reference: str
    title: str
    node_id: int
    org_unit_id: int
    opened: date | None
    closed: date | None
    schedule_id: int  # the node's (inherited) schedule, or the override
    schedule_override: str  # the overriding schedule's name, '' if none
    boxes: list[str] = field(default_factory=list)
    processes: list[str] = field(default_factory=list)
    documents: list[DocumentSpec] = field(default_factory=list)


@dataclass
class BoxSpec:
    name: str
    device: str = ""
    dpi: int | None = None
    colour_mode: str = ""
    files: int = 0


@dataclass
class MigrationPlan:
    cases: dict[str, CaseSpec]
    boxes: dict[str, BoxSpec]

    @property
    def documents(self) -> list[DocumentSpec]:
        return [d for case in self.cases.values() for d in case.documents]


def read_plan_map(data: bytes) -> tuple[dict[str, str], list[str]]:
    """Old file-plan code → today's code."""
    if not data.strip():
        return {}, []
    rows, problems = read_rows(data, ("old", "new"))
    mapping: dict[str, str] = {}
    for line, row in rows:
        if not row["old"] or not row["new"]:
            problems.append(f"mapping line {line}: old and new code are both needed")
        elif mapping.setdefault(row["old"], row["new"]) != row["new"]:
            problems.append(f"mapping line {line}: code {row['old']!r} is mapped twice")
    return mapping, [p if p.startswith("mapping") else f"mapping {p}" for p in problems]


class _Lookup:
    """The tenant's nodes, schedules and org units (as the file-plan import reads them), read
    once for the whole manifest."""

    def __init__(self, session: Session, tenant_id: int):
        self.session = session
        plan = _Plan.load(session, tenant_id)
        self.nodes, self.schedules, self.units = plan.nodes, plan.schedules, plan.units
        self._schedule_of: dict[int, int | None] = {}

    def schedule_of(self, node: FilePlanNode) -> int | None:
        if node.id not in self._schedule_of:
            schedule = effective_schedule(self.session, node)
            self._schedule_of[node.id] = schedule.id if schedule else None
        return self._schedule_of[node.id]


def read_migration(
    session: Session,
    tenant_id: int,
    manifest: bytes,
    plan_map: bytes = b"",
    *,
    default_unit_id: int,
    may_scan_for: Callable[[int], bool],
    files: set[str] | None = None,
    run_id: int | None = None,
) -> MigrationPlan:
    """The checked manifest; raises ``ManifestInvalid`` listing every problem by line.

    ``may_scan_for(org_unit_id)``: whether the person may migrate for that unit. ``files``:
    the files at hand (None: not checked yet). ``run_id``: cases of this run already in (a
    resumed run) are no collision."""
    mapping, problems = read_plan_map(plan_map)
    rows, form_problems = read_rows(manifest, REQUIRED)
    problems += form_problems
    if problems:
        raise ManifestInvalid(problems)
    lookup = _Lookup(session, tenant_id)
    cases: dict[str, CaseSpec] = {}
    given: dict[str, dict[str, str]] = {}  # the case fields each reference was given
    boxes: dict[str, BoxSpec] = {}
    seen_files: dict[str, str] = {}
    broken: set[str] = set()  # cases whose first line has problems: reported once
    for line, row in rows:
        here = f"line {line}"
        reference, box = row["reference"], row["box"]
        if not reference:
            problems.append(f"{here}: the reference column is empty")
            continue
        if len(reference) > 120:
            problems.append(f"{here}: reference {reference[:40]!r}... is longer than 120")
            continue
        if not box:
            problems.append(f"{here}: the box column is empty")
        elif len(box) > 150:
            problems.append(f"{here}: box {box[:40]!r}... is longer than 150 characters")
        values = {k: row.get(k, "") for k in CASE_FIELDS}
        name = _file(row, here, files, seen_files, problems)
        if reference in broken:
            continue
        if reference not in cases:
            spec = _case(lookup, mapping, reference, line, values, default_unit_id, problems)
            if spec is None:
                broken.add(reference)
                continue
            if not may_scan_for(spec.org_unit_id):
                problems.append(f"{here}: you do not scan for the org unit of case {reference}")
            cases[reference] = spec
            given[reference] = values
        else:
            earlier = given[reference]
            first = cases[reference].line
            for column, value in values.items():
                if value and value != earlier[column]:
                    problems.append(
                        f"{here}: {column} {value!r} differs from {earlier[column]!r} on the "
                        f"first line of case {reference} (line {first})"
                    )
        case = cases[reference]
        if box and box not in case.boxes:
            case.boxes.append(box)
        process = row.get("process", "") or case.title
        if len(process) > 500:
            problems.append(f"{here}: the process title is longer than 500 characters")
        if process not in case.processes:
            case.processes.append(process)
        if box:
            _box(boxes.setdefault(box, BoxSpec(box)), row, here, problems)
        if not name:
            continue
        received = parse_date(row.get("date", ""))
        if received is False:
            problems.append(f"{here}: bad date {row['date']!r} (use YYYY-MM-DD or DD.MM.YYYY)")
        if box in boxes:
            boxes[box].files += 1
        case.documents.append(
            DocumentSpec(
                line=line,
                file=name,
                title=(row.get("title", "") or name.rsplit("/", 1)[-1])[:500],
                received=received or None,
                doc_type=row.get("doc_type", "")[:100],
                sender=row.get("sender", "")[:300],
                box=box,
                process=process,
            )
        )
    problems += _collisions(session, tenant_id, cases, run_id)
    if problems:
        raise ManifestInvalid(problems)
    return MigrationPlan(cases, boxes)


def _file(
    row: dict[str, str],
    here: str,
    files: set[str] | None,
    seen: dict[str, str],
    problems: list[str],
) -> str:
    """The line's file ('' for none), checked: at hand, and listed once."""
    name = row["file"].replace("\\", "/").strip("/")
    if not name:
        return ""
    if name in seen:
        problems.append(f"{here}: file {name!r} is listed twice (also {seen[name]})")
    seen[name] = here
    if files is not None and name not in files:
        problems.append(f"{here}: no file {name!r} in the import folder")
    return name


def _case(
    lookup: _Lookup,
    mapping: dict[str, str],
    reference: str,
    line: int,
    values: dict[str, str],
    default_unit_id: int,
    problems: list[str],
) -> CaseSpec | None:
    here = f"line {line}"
    before = len(problems)
    title = values["case_title"]
    if not title:
        problems.append(f"{here}: case {reference} needs a case_title on its first line")
    code = mapping.get(values["plan"], values["plan"])
    node = lookup.nodes.get(code)
    if not values["plan"]:
        problems.append(f"{here}: case {reference} needs a plan code on its first line")
    elif node is None:
        via = f" (mapped from {values['plan']!r})" if code != values["plan"] else ""
        problems.append(f"{here}: no file plan node {code!r}{via}")
    unit_id = default_unit_id
    if values["org_unit"]:
        unit_id = lookup.units.get(values["org_unit"], 0)
        if not unit_id:
            problems.append(f"{here}: unknown org unit {values['org_unit']!r}")
    dates: dict[str, date | Literal[False] | None] = {}
    for name in ("opened", "closed"):
        dates[name] = parse_date(values[name])
        if dates[name] is False:
            problems.append(f"{here}: bad {name} date {values[name]!r}")
    opened, closed = dates["opened"] or None, dates["closed"] or None
    if opened and closed and closed < opened:
        problems.append(f"{here}: case {reference} is closed before it was opened")
    if closed and closed > date.today():
        problems.append(f"{here}: case {reference} is closed in the future ({closed})")
    override = values["schedule"]
    schedule_id = lookup.schedules.get(override) if override else None
    if override and schedule_id is None:
        problems.append(f"{here}: unknown schedule {override!r}")
    if node is not None and schedule_id is None and not override:
        schedule_id = lookup.schedule_of(node)
        if schedule_id is None:
            problems.append(f"{here}: file plan node {code} has no retention schedule (R3)")
    if len(problems) > before or node is None or schedule_id is None:
        return None
    return CaseSpec(
        line=line,
        reference=reference,
        title=title[:500],
        node_id=node.id,
        org_unit_id=unit_id,
        opened=opened,
        closed=closed,
        schedule_id=schedule_id,
        schedule_override=override,
    )


def _box(box: BoxSpec, row: dict[str, str], here: str, problems: list[str]) -> None:
    """A box's scan profile: given on any of its lines, the same wherever given."""
    dpi_text, colour = row.get("dpi", ""), row.get("colour_mode", "")
    if dpi_text and not (dpi_text.isdigit() and 50 <= int(dpi_text) <= 2400):
        problems.append(f"{here}: dpi must be a number from 50 to 2400, not {dpi_text!r}")
        dpi_text = ""
    if colour and colour not in COLOUR_MODES:
        problems.append(f"{here}: colour_mode must be bw, gray or color, not {colour!r}")
        colour = ""
    for name, value in (
        ("device", row.get("device", "")[:200]),
        ("dpi", int(dpi_text) if dpi_text else None),
        ("colour_mode", colour),
    ):
        if value in ("", None):
            continue
        current = getattr(box, name)
        if current in ("", None):
            setattr(box, name, value)
        elif current != value:
            problems.append(f"{here}: box {box.name!r} has {name} {current!r} on another line")


def _collisions(
    session: Session, tenant_id: int, cases: dict[str, CaseSpec], run_id: int | None
) -> list[str]:
    """R2: an old reference that a case of today (or of another migration) already has."""
    problems = []
    references = list(cases)
    for start in range(0, len(references), 500):
        chunk = references[start : start + 500]
        for reference, owner in session.execute(
            select(Case.file_reference, Case.migration_run_id).where(
                Case.tenant_id == tenant_id, Case.file_reference.in_(chunk)
            )
        ):
            if run_id is None or owner != run_id:
                line = cases[reference].line
                problems.append(f"line {line}: a case with reference {reference!r} exists")
    return problems
