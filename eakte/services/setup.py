"""Installation and upgrade: schema, bucket, default tenant, first admin. Safe to run again."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from eakte import schema
from eakte.config import Settings
from eakte.models import Role
from eakte.passwords import generate_password
from eakte.private_files import LoosePath, tighten
from eakte.services.accounts import create_user, ensure_default_tenant, has_admin
from storage.blobstore import BlobStore

ADMIN_USERNAME = "admin"


class Installation(Protocol):
    """What setting up needs of the composition root's Runtime (the core does not import it)."""

    @property
    def settings(self) -> Settings: ...
    @property
    def engine(self) -> Engine: ...
    @property
    def store(self) -> BlobStore: ...
    def session(self) -> Session: ...


@dataclass
class InitResult:
    schema_before: str | None
    schema_after: str
    admin_created: bool = False
    admin_password: str | None = field(default=None, repr=False)  # only when generated
    made_private: list[LoosePath] = field(default_factory=list)  # data dir paths repaired


def migrate(rt: Installation) -> tuple[str | None, str]:
    before = schema.current_revision(rt.engine)
    schema.upgrade(rt.engine)
    return before, schema.head_revision()  # where upgrade() brought it


def initialise(rt: Installation, admin_password: str | None) -> InitResult:
    """Bring an installation (new or existing) up to date without losing anything."""
    before, after = migrate(rt)
    rt.store.ensure_bucket(create=True)
    result = InitResult(schema_before=before, schema_after=after)
    with rt.session() as session:
        tenant = ensure_default_tenant(session)
        if not has_admin(session, tenant):
            password = admin_password or generate_password()
            create_user(
                session,
                tenant,
                ADMIN_USERNAME,
                password,
                {Role.admin},
                display_name="Administrator",
            )
            result.admin_created = True
            result.admin_password = None if admin_password else password
    # Last, so that what this run created is covered too (issue 13: an installation made
    # before the data dir was private had 0644 files and 0755 folders).
    result.made_private = tighten(rt.settings.data_dir)
    return result
