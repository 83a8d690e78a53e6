"""`eakte verify` checks of what retention enforces in S3 (R12, R25).

- every object version of a closed case carries a GOVERNANCE retain-until at least as long as
  its retention end requires (unless the lock is still pending: the job applies it shortly);
- every object version beneath an active legal hold carries an S3 legal hold (once synced).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from sqlalchemy import select

from eakte.holds import holds_covering
from eakte.models import Case, CaseStatus, Document, DocumentStatus, FileVersion, Process
from eakte.models.base import utcnow
from eakte.models.retention import Hold
from eakte.retention_rules import lock_until
from storage.errors import ObjectNotFound

if TYPE_CHECKING:
    from eakte.verify import Finding, VerifyContext


def check_retention_locks(ctx: VerifyContext, counts: dict[str, int]) -> Iterator[Finding]:
    from eakte.verify import Finding

    session, store = ctx.session, ctx.store
    today = utcnow().date()
    checked = pending = 0
    case_ids = list(
        session.scalars(
            select(Case.id)
            .where(Case.status == CaseStatus.closed.value, Case.disposal_state == "")
            .order_by(Case.id)
        )
    )
    hold_synced = {h.id: not h.s3_pending for h in session.scalars(select(Hold))}
    for case_id in case_ids:
        case = session.get(Case, case_id)
        if case.object_lock_pending:
            pending += 1
            continue
        until = lock_until(session, case, today)
        rows = session.execute(
            select(Document, FileVersion.s3_key, FileVersion.s3_version_id)
            .join(FileVersion, FileVersion.document_id == Document.id)
            .join(Process, Process.id == Document.process_id)
            .where(Process.case_id == case_id, Document.status != DocumentStatus.destroyed.value)
        ).all()
        for document, key, version_id in rows:
            subject = f"{case.file_reference}: {key}@{version_id}"
            try:
                info = store.stat(key, version_id)
            except ObjectNotFound:
                continue  # reported by the fixity check
            checked += 1
            if until is not None and (info.retain_until is None or info.retain_until < until):
                yield Finding(
                    "retention",
                    subject,
                    f"retain-until {info.retain_until or 'missing'}, needs {until.date()} (R25)",
                )
            holds = [h for h in holds_covering(session, document) if hold_synced.get(h.id)]
            if holds and not info.legal_hold:
                yield Finding("retention", subject, f"no S3 legal hold under hold {holds[0].uuid}")
    counts["retention lock versions"] = checked
    counts["retention locks pending"] = pending
