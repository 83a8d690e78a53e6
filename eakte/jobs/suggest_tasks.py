"""The filing models' retraining (issue 18): every few minutes the worker retrains each
tenant's model whose tenant filed documents since its last training; a tenant without new
filings costs one count query."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from sqlalchemy import select

from eakte.models import Tenant
from eakte.services import suggestions

if TYPE_CHECKING:
    from eakte.runtime import Runtime

log = logging.getLogger(__name__)


def retrain_filing_models(rt: Runtime) -> int:
    """Retrain where documents were filed since; how many models were (re)trained."""
    trained = 0
    with rt.session() as session:
        tenant_ids = list(session.scalars(select(Tenant.id)))
    for tenant_id in tenant_ids:
        with rt.session() as session:
            before = suggestions.model_stamp(session, tenant_id)
            suggestions.train(session, tenant_id)
            trained += suggestions.model_stamp(session, tenant_id) != before
    return trained
