"""All ORM models; importing this module registers every table on ``Base.metadata``."""

# Areas that keep their models in modules of their own; imported so their tables register.
from eakte.models import (  # noqa: F401
    api,
    fields,
    ingest,
    mail,
    migration,
    retention,
    signatures,
    signin,
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
