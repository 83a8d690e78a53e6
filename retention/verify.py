"""`eakte verify` checks of what retention enforces in S3 (R12, R25, issue 13); the retention
port hands them to ``eakte.verify.run_verify``.

Every registered version that must be kept carries the lock it should have, in COMPLIANCE mode
(GOVERNANCE could be bypassed):

- a version of a live record (inbox, open case, closed case with no known end, see
  ``retention.rules.floor_versions``): a retain-until in the future (the floor);
- a version of a closed case with a known end: retain-until at least the end (unless its lock
  is still pending: the job applies it shortly);
- a version beneath an active hold (once synced): an S3 legal hold, and a retain-until in the
  future (so that releasing the S3 hold does not make it deletable at once).

The lock state comes from the fixity check's read of each version (no request of its own); a
HEAD request only for a version that check did not read. Versions nothing needs any more are not
asked about.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from sqlalchemy import Select, and_, select

from eakte.models import (
    Case,
    CaseStatus,
    Document,
    DocumentStatus,
    FileVersion,
    Process,
    StoredObject,
)
from eakte.models.base import utcnow
from eakte.services.fileplan import node_subtree
from eakte.verify import Finding, VerifyContext
from retention.models import Hold
from retention.rules import floor_versions, lock_until
from storage.errors import ObjectNotFound

Version = tuple[str, str]


def check_retention_locks(ctx: VerifyContext, counts: dict[str, int]) -> Iterator[Finding]:
    session, store = ctx.session, ctx.store
    now = utcnow()
    registered = and_(
        StoredObject.key == FileVersion.s3_key,
        StoredObject.version_id == FileVersion.s3_version_id,
    )
    live = {
        (key, version_id)
        for key, version_id in session.execute(floor_versions().join(StoredObject, registered))
    }
    ends, pending = _case_ends(session, now)
    held = _held_versions(session)
    wanted = sorted(live | set(ends) | set(held))
    session.rollback()  # no transaction stays open while S3 is called
    for key, version_id in wanted:
        subject = f"{held.get((key, version_id)) or ''}{key}@{version_id}"
        lock = ctx.locks.get((key, version_id))
        if lock is None:  # the fixity check did not read it (run on its own, or it failed)
            try:
                info = store.stat(key, version_id)
            except ObjectNotFound:
                continue  # reported by the fixity check
            lock = (info.retain_until, info.retention_mode, bool(info.legal_hold))
        until, mode, legal_hold = lock
        end = ends.get((key, version_id))
        needs = f", needs {end.date()} (R25)" if end is not None else ""
        if until is None or until <= now:
            yield Finding("retention", subject, f"no retention lock (retain-until {until}){needs}")
        elif mode != "COMPLIANCE":
            yield Finding("retention", subject, f"{mode} retention, not COMPLIANCE")
        elif end is not None and until < end:
            yield Finding("retention", subject, f"retain-until {until}{needs}")
        if (key, version_id) in held and not legal_hold:
            yield Finding("retention", subject, "no S3 legal hold beneath an active hold (R12)")
    counts["retention lock versions"] = len(wanted)
    counts["retention locks pending"] = pending


def _case_ends(session, now: datetime) -> tuple[dict[Version, datetime], int]:
    """The retain-until each version of a closed case with a known end needs, and how many
    cases still wait for their lock. The versions come in one query over all such cases (not
    one per case: an installation has a hundred thousand closed cases)."""
    until_of: dict[int, datetime] = {}
    pending = 0
    today = now.date()
    closed = (Case.status == CaseStatus.closed.value, Case.disposal_state == "")
    for case in session.scalars(select(Case).where(*closed)):
        if case.object_lock_pending:
            pending += 1
            continue
        until = lock_until(session, case, today)
        if until is not None:
            until_of[case.id] = until
    ends: dict[Version, datetime] = {}
    rows = session.execute(
        _versions_query(and_(*closed))
        .add_columns(Process.case_id)
        .join(Case, Case.id == Process.case_id)
    )
    for key, version_id, case_id in rows:
        until = until_of.get(case_id)
        if until is not None:
            version = (key, version_id)
            ends[version] = max(until, ends.get(version, until))
    return ends, pending


def _held_versions(session) -> dict[Version, str]:
    """Versions beneath an active hold whose S3 side is synced → "hold <uuid>: " (subject)."""
    held: dict[Version, str] = {}
    for hold in session.scalars(
        select(Hold).where(Hold.released_at.is_(None), Hold.s3_pending.is_(False))
    ):
        if hold.process_id is not None:
            scope = Process.id == hold.process_id
        elif hold.case_id is not None:
            scope = Process.case_id == hold.case_id
        else:
            nodes = node_subtree(session, hold.tenant_id, {hold.node_id})
            scope = Process.case_id.in_(select(Case.id).where(Case.node_id.in_(nodes)))
        for version in _versions(session, scope):
            held.setdefault(version, f"hold {hold.uuid}: ")
    return held


def _versions(session, scope) -> list[Version]:
    return [(key, version_id) for key, version_id in session.execute(_versions_query(scope))]


def _versions_query(scope) -> Select:
    """(key, version id) of every version of the documents in the processes of ``scope``
    that are not destroyed."""
    return (
        select(FileVersion.s3_key, FileVersion.s3_version_id)
        .join(Document, Document.id == FileVersion.document_id)
        .join(Process, Process.id == Document.process_id)
        .where(scope, Document.status != DocumentStatus.destroyed.value)
    )
