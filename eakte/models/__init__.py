"""All ORM models; importing this module registers every table on ``Base.metadata``."""

# Areas that keep their models in modules of their own; imported so their tables register.
from eakte.models import api, ingest, migration, retention  # noqa: F401
from eakte.models.accounts import OrgUnit, Role, Tenant, User, UserRole
from eakte.models.audit import AuditEvent, AuditHead
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
    "ScanBatch",
    "StoredObject",
    "Tenant",
    "User",
    "UserRole",
    "VersionKind",
]
