"""The nightly directory sync (issue 19) as a job: leavers disabled, their sessions ended and
API tokens revoked. Scheduled once per night across all worker hosts (``periodic``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from eakte.directory import sync
from eakte.directory.signin import Context

if TYPE_CHECKING:
    from eakte.runtime import Runtime


def nightly_directory_sync(rt: Runtime) -> int:
    """How many users the sync disabled (a directory that is down is logged, not fatal)."""
    ctx = Context(rt.settings.ldap, rt.settings.resolved_secret_key())
    with rt.session() as session:
        reports = sync.sync_all(session, ctx)
    return sum(len(report.disabled) for report in reports)
