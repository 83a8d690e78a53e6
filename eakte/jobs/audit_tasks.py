"""The periodic audit anchor (R20; issue 13): the chain's head into the bucket, locked."""

from __future__ import annotations

from datetime import timedelta

from huey import crontab

from eakte.jobs.context import runtime
from eakte.jobs.periodic import periodic

ANCHOR_EVERY = timedelta(minutes=10)


@periodic(crontab(minute="*/10"), every=ANCHOR_EVERY)
def anchor_audit_trail() -> bool:
    """Anchor the head if entries were written since the last anchor; True if it did."""
    from eakte.audit_anchors import AnchorPolicy, anchor_if_moved

    rt = runtime()
    with rt.session() as session:
        anchor = anchor_if_moved(session, rt.store, AnchorPolicy.from_settings(rt.settings))
    return anchor is not None
