"""The periodic audit anchor (R20; issue 13): the chain's head into the bucket, locked."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from eakte.audit_anchors import AnchorPolicy, anchor_if_moved

if TYPE_CHECKING:
    from eakte.runtime import Runtime

ANCHOR_EVERY = timedelta(minutes=10)


def anchor_audit_trail(rt: Runtime) -> bool:
    """Anchor the head if entries were written since the last anchor; True if it did."""
    with rt.session() as session:
        anchor = anchor_if_moved(session, rt.store, AnchorPolicy.from_settings(rt.settings))
    return anchor is not None
