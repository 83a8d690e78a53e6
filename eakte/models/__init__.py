"""The core's ORM models; importing this module registers their tables on ``Base.metadata``.

Retention's models (``retention.models``) map on the same ``Base`` but live in their slice: the
migration environment and the composition root import them for the whole metadata.
"""

# Areas that keep their models in modules of their own; imported so their tables register.
from eakte.models import (  # noqa: F401
    api,
    directory,
    fields,
    ingest,
    mail,
    mail_accounts,
    migration,
    ozg,
    recognition,
    saved_search,
    signatures,
    signin,
    workflow,
)
from eakte.models.accounts import OrgUnit, Role, RoleGrant, Tenant, User, UserKind, UserRole
from eakte.models.audit import AuditAnchor, AuditEvent, AuditHead
from eakte.models.base import Base
from eakte.models.fileplan import (
    FilePlanNode,
    FileReferenceCounter,
    RetentionAction,
    RetentionSchedule,
    RetentionTrigger,
)
from eakte.models.objects import StoredObject
from eakte.models.records import (
    Case,
    CaseStatus,
    Document,
    DocumentStatus,
    FileVersion,
    Process,
    VersionKind,
)
from eakte.models.scanning import QcStatus, ScanBatch

__all__ = [
    "AuditAnchor",
    "AuditEvent",
    "AuditHead",
    "Base",
    "Case",
    "CaseStatus",
    "Document",
    "DocumentStatus",
    "FilePlanNode",
    "FileReferenceCounter",
    "FileVersion",
    "OrgUnit",
    "Process",
    "QcStatus",
    "RetentionAction",
    "RetentionSchedule",
    "RetentionTrigger",
    "Role",
    "RoleGrant",
    "ScanBatch",
    "StoredObject",
    "Tenant",
    "User",
    "UserKind",
    "UserRole",
    "VersionKind",
]
