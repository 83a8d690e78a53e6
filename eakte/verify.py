"""`eakte verify`: fixity and consistency checks over everything eAkte keeps.

Each check is a function yielding ``Finding``s; later parts of the system add theirs to ``CHECKS``,
retention its own through the retention port (``eakte.ports``).
The report is clean only when no check found anything.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from eakte import audit_anchors
from eakte.audit import check_chain
from eakte.config import Settings
from eakte.ingest.fixity import check_transfer_notes
from eakte.models import AuditEvent, StoredObject
from eakte.ports import retention_port
from eakte.private_files import loose_paths
from eakte.services.indexer import check_search_index
from eakte.verify_objects import read_versions, registered_versions
from storage.blobstore import BlobStore
from storage.errors import StorageError


@dataclass(frozen=True)
class Finding:
    check: str
    subject: str
    problem: str


@dataclass
class VerifyContext:
    session: Session
    store: BlobStore
    # The installation's settings: the anchor policy and the data dir. Without them (a check
    # run on its own) no anchor is written and the data dir is not looked at.
    settings: Settings | None = None

    @property
    def anchor_policy(self) -> audit_anchors.AnchorPolicy:
        if self.settings is None:
            return audit_anchors.AnchorPolicy()
        return audit_anchors.AnchorPolicy.from_settings(self.settings)

    # The lock state of each version as the fixity check's read saw it (retain-until, mode,
    # legal hold): the lock check then needs no request of its own for it.
    locks: dict[tuple[str, str | None], tuple[datetime | None, str | None, bool]] = field(
        default_factory=dict
    )


@dataclass
class VerifyReport:
    checked: dict[str, int] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not self.findings


Check = Callable[[VerifyContext, dict[str, int]], Iterable[Finding]]


def check_objects(ctx: VerifyContext, counts: dict[str, int]) -> Iterator[Finding]:
    """R18: every registered object is present and its bytes hash to the recorded sha256
    (read several at a time, reported in the order of registration)."""
    counts["objects"] = 0
    for key, version_id, found in read_versions(ctx.store, registered_versions(ctx.session)):
        counts["objects"] += 1
        if isinstance(found, str):
            yield Finding("objects", f"{key}@{version_id}", found)
        else:
            ctx.locks[(key, version_id)] = (
                found.retain_until,
                found.retention_mode,
                bool(found.legal_hold),
            )


def check_orphans(ctx: VerifyContext, counts: dict[str, int]) -> Iterator[Finding]:
    """Objects in the bucket that the database does not know (e.g. left by a crash)."""
    rows = ctx.session.execute(select(StoredObject.key, StoredObject.version_id)).all()
    known = {(key, version_id) for key, version_id in rows}
    seen = 0
    for info in ctx.store.list(versions=True):
        if info.is_delete_marker:
            continue
        if info.key.startswith(audit_anchors.PREFIX):
            continue  # the audit anchors: known to check_audit_anchors, not to the database
        seen += 1
        if (info.key, info.version_id) not in known:
            yield Finding("orphans", f"{info.key}@{info.version_id}", "not in the database")
    counts["bucket versions"] = seen


def check_audit_chain(ctx: VerifyContext, counts: dict[str, int]) -> Iterator[Finding]:
    """R20: every audit entry unchanged, none removed; names the first broken entry."""
    counts["audit entries"] = ctx.session.scalar(select(func.count(AuditEvent.id))) or 0
    for problem in check_chain(ctx.session):
        yield Finding("audit", f"entry {problem.entry_id}", problem.problem)


def check_audit_anchors(ctx: VerifyContext, counts: dict[str, int]) -> Iterator[Finding]:
    """R20: every anchor in the bucket still matches the chain (a consistent rewrite of the
    chain is found here); then the current head is anchored (verify is one of the anchor
    points: what it saw cannot be rewritten afterwards)."""
    policy = ctx.anchor_policy
    for problem in audit_anchors.check_anchors(ctx.session, ctx.store, policy, counts):
        yield Finding("audit anchors", problem.subject, problem.problem)
    if ctx.settings is not None:
        try:
            audit_anchors.write_anchor(ctx.session, ctx.store, policy, "verify")
        except StorageError as exc:
            yield Finding("audit anchors", audit_anchors.PREFIX, f"no anchor written: {exc}")


_LOOSE_SHOWN = 20


def check_data_dir(ctx: VerifyContext, counts: dict[str, int]) -> Iterator[Finding]:
    """Issue 13: the data dir is private (0700 folders, 0600 files); ``eakte init`` repairs."""
    if ctx.settings is None:
        return
    loose = list(loose_paths(ctx.settings.data_dir))
    counts["data dir paths with loose modes"] = len(loose)
    for item in loose[:_LOOSE_SHOWN]:
        yield Finding(
            "data dir",
            str(item.path),
            f"mode {item.mode & 0o7777:04o}, should be {item.wanted:04o} (eakte init repairs it)",
        )
    if len(loose) > _LOOSE_SHOWN:
        yield Finding(
            "data dir",
            str(ctx.settings.data_dir),
            f"{len(loose) - _LOOSE_SHOWN} more paths with loose modes (eakte init repairs them)",
        )


CHECKS: list[Check] = [check_objects, check_orphans, check_audit_chain, check_audit_anchors]
CHECKS.append(check_data_dir)  # issue 13
CHECKS.append(check_transfer_notes)  # R16, issue 4
CHECKS.append(check_search_index)  # index drift, issue 5


def run_verify(ctx: VerifyContext, checks: Iterable[Check] | None = None) -> VerifyReport:
    """The given checks, or all: the core's and retention's (R12/R25, issue 6)."""
    if checks is None:
        checks = [*CHECKS, *retention_port(ctx.session).verify_checks()]
    report = VerifyReport()
    for check in checks:
        report.findings.extend(check(ctx, report.checked))
    return report


def report_path(data_dir: Path) -> Path:
    return data_dir / "verify" / "last.json"


def save_report(report: VerifyReport, data_dir: Path) -> None:
    """Keep the latest report for the records officers' page (written atomically)."""
    path = report_path(data_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    body = {
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "clean": report.clean,
        "checked": report.checked,
        "findings": [asdict(f) for f in report.findings],
    }
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(body, ensure_ascii=False, indent=1))
    tmp.replace(path)


def load_report(data_dir: Path) -> dict | None:
    path = report_path(data_dir)
    return json.loads(path.read_text()) if path.exists() else None
