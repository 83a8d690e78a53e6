"""The file plan: nodes, their tree, and CSV import/export (R5). Retention schedules are
retention's (``retention.schedules``); nodes only name theirs.

Creating and importing never silently change an existing node: ``create_node`` refuses a code
that exists, and an import that would move or rename existing nodes (or change their schedule
or org unit) lists those changes and goes ahead only with the confirmation token of exactly
these changes. Moving a node is its own operation (``move_node``). No move, whichever way,
leaves or enters the scope of a standing legal hold (R12, the retention port's ``ensure_movable``).
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import json
from dataclasses import asdict, dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from eakte import audit
from eakte.csv_export import csv_writer, restore
from eakte.db import transaction
from eakte.errors import N_, BadInput, ChangesNeedConfirmation, NodeExists
from eakte.models import (
    FilePlanNode,
    OrgUnit,
    RetentionSchedule,
    User,
)
from eakte.permissions import Action, require
from eakte.ports import retention_port
from eakte.services.cases import find_node
from eakte.services.guard import audited_refusals

CSV_COLUMNS = ("code", "title", "parent")
# Many municipal exports have neither: a node without a schedule inherits its parent's (R3
# still refuses cases where none is inherited), and a column left out changes no existing node.
OPTIONAL_COLUMNS = ("schedule", "org_unit")


def node_ancestry(session: Session, node_id: int | None) -> list[int]:
    """The node and its ancestors, nearest first."""
    found: list[int] = []
    while node_id is not None and node_id not in found:
        found.append(node_id)
        node_id = session.scalar(select(FilePlanNode.parent_id).where(FilePlanNode.id == node_id))
    return found


def node_subtree(session: Session, tenant_id: int, root_ids: set[int]) -> set[int]:
    """The nodes and every node beneath them."""
    children: dict[int | None, list[int]] = {}
    rows = session.execute(
        select(FilePlanNode.id, FilePlanNode.parent_id).where(FilePlanNode.tenant_id == tenant_id)
    )
    for node_id, parent_id in rows:
        children.setdefault(parent_id, []).append(node_id)
    found, stack = set(), list(root_ids)
    while stack:
        node = stack.pop()
        if node not in found:
            found.add(node)
            stack.extend(children.get(node, ()))
    return found


@audited_refusals
def create_node(
    session: Session,
    actor: User,
    code: str,
    title: str,
    *,
    parent_code: str | None = None,
    schedule_name: str | None = None,
    org_unit_code: str | None = None,
) -> FilePlanNode:
    rows = [
        {
            "code": code,
            "title": title,
            "parent": parent_code or "",
            "schedule": schedule_name or "",
            "org_unit": org_unit_code or "",
        }
    ]
    code = code.strip()
    with transaction(session):
        require(session, actor, Action.manage_fileplan)
        plan = _Plan.load(session, actor.tenant_id)
        if code in plan.nodes:
            raise NodeExists(f"file plan node {code!r} already exists")
        problems = plan.validate(rows, first_line=1)
        if problems:
            raise BadInput("; ".join(p.text() for p in problems))
        (node,) = plan.apply(session, rows)
        audit.record(session, actor, "create", node, code=node.code, title=node.title)
    return node


@dataclass(frozen=True)
class LineProblem:
    """One problem of one line: an English message id with its values, so that the CLI prints
    it as it is and the web shows it in German (``gettext(message, **values)``)."""

    line: int
    message: str
    values: tuple[tuple[str, str], ...] = ()

    @property
    def params(self) -> dict[str, str]:
        return dict(self.values)

    def text(self) -> str:
        return f"line {self.line}: {self.message % self.params}"


def _problem(line: int, message: str, **values: object) -> LineProblem:
    return LineProblem(line, message, tuple((k, str(v)) for k, v in values.items()))


@dataclass(frozen=True)
class NodeChange:
    """One field of an existing node that an import would change (old → new, as in the CSV)."""

    code: str
    field: str  # parent, title, schedule or org_unit
    old: str
    new: str

    def __str__(self) -> str:
        return f"{self.code}: {self.field} '{self.old}' -> '{self.new}'"


def confirmation_token(data: bytes, changes: list[NodeChange]) -> str:
    """What confirms an import: the hash of this file and of the changes it makes to the plan
    as it is now; another file, or the same file after the plan changed, needs its own."""
    digest = hashlib.sha256(data)
    digest.update(json.dumps([asdict(c) for c in changes], ensure_ascii=False).encode())
    return digest.hexdigest()


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    problems: list[LineProblem] = field(default_factory=list)


class FilePlanImportError(BadInput):
    """A file plan CSV with problems; nothing of it was imported."""

    def __init__(self, problems: list[LineProblem]):
        self.problems = problems
        shown = "\n".join(p.text() for p in problems[:50])
        more = f"\n... and {len(problems) - 50} more" if len(problems) > 50 else ""
        super().__init__(f"file plan not imported, {len(problems)} problem(s):\n{shown}{more}")


def decode_csv(data: bytes) -> str:
    """UTF-8 (with or without BOM), else Windows-1252, common in municipal exports."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="strict")


def parse_csv(data: bytes) -> tuple[list[dict[str, str]], list[LineProblem]]:
    try:
        text = decode_csv(data)
    except UnicodeDecodeError as exc:
        return [], [
            _problem(1, N_("neither UTF-8 nor Windows-1252: %(reason)s"), reason=exc.reason)
        ]
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") >= first_line.count(",") else ","
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    missing = [c for c in CSV_COLUMNS if c not in header]
    if missing:
        return [], [_problem(1, N_("missing column(s): %(columns)s"), columns=", ".join(missing))]
    reader.fieldnames = header
    rows = []
    for raw in reader:
        if None in raw:
            return [], [_problem(reader.line_num, N_("more fields than columns"))]
        rows.append({k: restore((v or "").strip()) for k, v in raw.items()})
    return rows, []


class _Plan:
    """The tenant's current plan in memory, for validating and applying a batch of rows."""

    FIELDS = ("parent", "title", "schedule", "org_unit")

    def __init__(self, tenant_id: int, nodes, schedules, units):
        self.tenant_id = tenant_id
        self.nodes: dict[str, FilePlanNode] = nodes
        self.schedules: dict[str, int] = schedules
        self.units: dict[str, int] = units

    @classmethod
    def load(cls, session: Session, tenant_id: int) -> _Plan:
        nodes = {
            n.code: n
            for n in session.scalars(
                select(FilePlanNode).where(FilePlanNode.tenant_id == tenant_id)
            )
        }
        schedules = dict(
            session.execute(
                select(RetentionSchedule.name, RetentionSchedule.id).where(
                    RetentionSchedule.tenant_id == tenant_id
                )
            ).all()
        )
        units = dict(
            session.execute(
                select(OrgUnit.code, OrgUnit.id).where(OrgUnit.tenant_id == tenant_id)
            ).all()
        )
        return cls(tenant_id, nodes, schedules, units)

    def validate(self, rows: list[dict[str, str]], first_line: int = 2) -> list[LineProblem]:
        problems: list[LineProblem] = []
        in_file: dict[str, int] = {}
        for number, row in enumerate(rows, start=first_line):
            code = row.get("code", "")
            if not code:
                problems.append(_problem(number, N_("empty code")))
            elif len(code) > 64:
                problems.append(
                    _problem(number, N_("code '%(code)s' is longer than 64 characters"), code=code)
                )
            elif code in in_file:
                problems.append(
                    _problem(
                        number,
                        N_("duplicate code '%(code)s' (also line %(other)s)"),
                        code=code,
                        other=in_file[code],
                    )
                )
            else:
                in_file[code] = number
            if not row.get("title"):
                problems.append(_problem(number, N_("empty title for code '%(code)s'"), code=code))
            elif len(row["title"]) > 300:
                problems.append(_problem(number, N_("title is longer than 300 characters")))
            schedule = row.get("schedule", "")
            if schedule and schedule not in self.schedules:
                problems.append(_problem(number, N_("unknown schedule '%(name)s'"), name=schedule))
            unit = row.get("org_unit", "")
            if unit and unit not in self.units:
                problems.append(_problem(number, N_("unknown org unit '%(code)s'"), code=unit))
        for number, row in enumerate(rows, start=first_line):
            parent = row.get("parent", "")
            if parent and parent not in in_file and parent not in self.nodes:
                problems.append(_problem(number, N_("unknown parent '%(code)s'"), code=parent))
            elif parent and parent == row.get("code"):
                problems.append(_problem(number, N_("a node cannot be its own parent")))
        if not problems:
            problems.extend(self._cycles(rows, in_file))
        return problems

    def _cycles(self, rows, in_file) -> list[LineProblem]:
        parent_of = {code: node.parent_id for code, node in self.nodes.items()}
        by_id: dict[int | None, str] = {node.id: code for code, node in self.nodes.items()}
        parents = {code: by_id.get(pid) for code, pid in parent_of.items()}
        parents.update({row["code"]: row.get("parent") or None for row in rows})
        for code, line in in_file.items():
            seen, current = set(), code
            while current is not None:
                if current in seen:
                    return [
                        _problem(line, N_("code '%(code)s' is part of a parent cycle"), code=code)
                    ]
                seen.add(current)
                current = parents.get(current)
        return []

    def changes(self, rows: list[dict[str, str]]) -> list[NodeChange]:
        """What the rows would change of existing nodes (an empty org unit keeps the node's)."""
        # keyed by int | None: a node's nullable parent, schedule and unit ids look up as they are
        codes: dict[int | None, str] = {node.id: code for code, node in self.nodes.items()}
        schedules: dict[int | None, str] = {i: name for name, i in self.schedules.items()}
        units: dict[int | None, str] = {i: code for code, i in self.units.items()}
        found = []
        for row in rows:
            node = self.nodes.get(row["code"])
            if node is None:
                continue
            now = {
                "parent": codes.get(node.parent_id, ""),
                "title": node.title,
                "schedule": schedules.get(node.schedule_id, ""),
                "org_unit": units.get(node.org_unit_id, ""),
            }
            for name in self.FIELDS:
                if name not in row:
                    continue
                new = row[name]
                if now[name] != new and (new or name != "org_unit"):
                    found.append(NodeChange(row["code"], name, now[name], new))
        return found

    def apply(self, session: Session, rows: list[dict[str, str]]) -> list[FilePlanNode]:
        """Create or update the rows' nodes; parents before children."""
        result, pending = [], list(rows)
        while pending:
            ready = [r for r in pending if not r.get("parent") or r["parent"] in self.nodes]
            for row in ready:
                node = self.nodes.get(row["code"])
                if node is None:
                    node = FilePlanNode(tenant_id=self.tenant_id, code=row["code"])
                    session.add(node)
                    self.nodes[row["code"]] = node
                node.title = row["title"]
                if "schedule" in row:  # a new node without one inherits its parent's
                    node.schedule_id = self.schedules.get(row.get("schedule", "")) or None
                node.org_unit_id = self.units.get(row.get("org_unit", "")) or node.org_unit_id
                node.parent = self.nodes.get(row.get("parent", ""))
                result.append(node)
            if not ready:  # validate() rules this out; guard against an endless loop
                raise BadInput("file plan rows reference parents that never appear")
            for row in ready:
                pending.remove(row)
        session.flush()
        return result


@audited_refusals
def import_csv(
    session: Session, actor: User, data: bytes, source_name: str = "", *, confirm: str = ""
) -> ImportResult:
    """R5: all or nothing. Problems are reported line by line; a bad file imports nothing.

    New nodes are created at once; changes to existing nodes (moves, renames, another schedule
    or org unit) are refused with ``ChangesNeedConfirmation`` unless ``confirm`` is the token
    that refusal named; each change is then audited old → new."""
    rows, problems = parse_csv(data)
    if problems:
        raise FilePlanImportError(problems)
    with transaction(session):
        require(session, actor, Action.manage_fileplan)
        plan = _Plan.load(session, actor.tenant_id)
        existing = set(plan.nodes)
        problems = plan.validate(rows)
        if problems:
            raise FilePlanImportError(problems)
        planned = plan.changes(rows)
        if planned:
            token = confirmation_token(data, planned)
            if not hmac.compare_digest(confirm.encode(), token.encode()):
                raise ChangesNeedConfirmation(planned, token)
            if any(c.field == "schedule" for c in planned):
                require(session, actor, Action.manage_schedules)
        moved = [plan.nodes[c.code] for c in planned if c.field == "parent"]
        for node in moved:
            retention_port(session).ensure_movable(session, node)
        plan.apply(session, rows)
        for node in moved:
            retention_port(session).ensure_movable(session, node)
        _audit_changes(session, actor, plan, planned)
        result = ImportResult(
            created=sum(r["code"] not in existing for r in rows),
            updated=sum(r["code"] in existing for r in rows),
        )
        audit.record(
            session,
            actor,
            "fileplan_import",
            tenant_id=actor.tenant_id,
            source=source_name,
            created=result.created,
            updated=result.updated,
            changed=len(planned),
        )
    return result


def _audit_changes(session: Session, actor: User, plan: _Plan, planned: list[NodeChange]) -> None:
    by_code: dict[str, list[NodeChange]] = {}
    for change in planned:
        by_code.setdefault(change.code, []).append(change)
    for code, node_changes in by_code.items():
        values = {c.field: [c.old, c.new] for c in node_changes}
        parent = values.pop("parent", None)
        node = plan.nodes[code]
        if parent is not None:
            audit.record(
                session, actor, "move", node, code=code, old_parent=parent[0], new_parent=parent[1]
            )
        if values:
            audit.record(session, actor, "change", node, changes=values)


@audited_refusals
def move_node(
    session: Session, actor: User, code: str | int, new_parent: str | None
) -> FilePlanNode:
    """Move a node (with everything beneath it) under ``new_parent`` (None: to the top level).

    Refused while a legal hold covers the node where it is or where it would go (R12)."""
    with transaction(session):
        require(session, actor, Action.manage_fileplan)
        node = find_node(session, actor, code)
        parent = find_node(session, actor, new_parent) if new_parent else None
        if parent is not None and parent.id in node_subtree(session, actor.tenant_id, {node.id}):
            raise BadInput(f"node {node.code} cannot be moved beneath itself")
        if (parent.id if parent else None) == node.parent_id:
            return node
        old = node.parent
        retention_port(session).ensure_movable(session, node)
        node.parent = parent
        session.flush()
        retention_port(session).ensure_movable(session, node)
        audit.record(
            session,
            actor,
            "move",
            node,
            code=node.code,
            old_parent=old.code if old else "",
            new_parent=parent.code if parent else "",
        )
    return node


def export_csv(session: Session, actor: User) -> bytes:
    """The plan as UTF-8 CSV with ``;``, parents before children, importable again."""
    require(session, actor, Action.view)
    nodes = session.scalars(
        select(FilePlanNode).where(FilePlanNode.tenant_id == actor.tenant_id)
    ).all()
    by_id = {n.id: n for n in nodes}
    schedules: dict[int | None, str] = dict(
        session.execute(select(RetentionSchedule.id, RetentionSchedule.name)).tuples().all()
    )
    units: dict[int | None, str] = dict(
        session.execute(select(OrgUnit.id, OrgUnit.code)).tuples().all()
    )
    out = io.StringIO(newline="")
    writer = csv_writer(out)
    writer.writerow([*CSV_COLUMNS, *OPTIONAL_COLUMNS])

    def depth(node: FilePlanNode) -> int:
        d = 0
        while node.parent_id is not None:
            node, d = by_id[node.parent_id], d + 1
        return d

    for node in sorted(nodes, key=lambda n: (depth(n), n.code)):
        writer.writerow(
            [
                node.code,
                node.title,
                by_id[node.parent_id].code if node.parent_id else "",
                schedules.get(node.schedule_id, ""),
                units.get(node.org_unit_id, ""),
            ]
        )
    return out.getvalue().encode("utf-8")
