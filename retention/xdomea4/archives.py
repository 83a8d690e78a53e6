"""The receiving archives of a tenant and the xdomea version each reads (issue 27): 3.1.0 for
an archive never set up, 4.0.0 once a records officer says so; and the size above which a 4.0.0
transfer is split into several messages."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from eakte import audit
from eakte.db import transaction
from eakte.errors import BadInput
from eakte.models import User
from eakte.permissions import Action, require
from eakte.services.guard import audited_refusals
from retention.xdomea4.models import DEFAULT_MAX_MESSAGE_BYTES, XdomeaArchive

VERSIONS = ("3.1.0", "4.0.0")


@audited_refusals
def set_archive(
    session: Session,
    actor: User,
    name: str,
    *,
    version: str,
    max_message_bytes: int | None = None,
) -> XdomeaArchive:
    """Create or change a receiving archive: the xdomea version it reads and the size above
    which a 0503 is split."""
    require(session, actor, Action.dispose)
    if version not in VERSIONS:
        raise BadInput(f"xdomea version {version!r}: only {', '.join(VERSIONS)} are supported")
    if max_message_bytes is not None and max_message_bytes < 1:
        raise BadInput("the size of a message must be a positive number of bytes")
    name = name.strip()
    if not name or len(name) > 200:
        raise BadInput("an archive needs a name of 1 to 200 characters")
    with transaction(session):
        archive = archive_named(session, actor.tenant_id, name)
        if archive is None:
            archive = XdomeaArchive(tenant_id=actor.tenant_id, name=name)
            archive.max_message_bytes = DEFAULT_MAX_MESSAGE_BYTES
            session.add(archive)
        archive.xdomea_version = version
        if max_message_bytes is not None:
            archive.max_message_bytes = max_message_bytes
        session.flush()
        audit.record(
            session,
            actor,
            "xdomea_archive",
            archive,
            name=name,
            version=version,
            max_message_bytes=archive.max_message_bytes,
        )
    return archive


def archive_named(session: Session, tenant_id: int, name: str) -> XdomeaArchive | None:
    return session.scalar(
        select(XdomeaArchive).where(
            XdomeaArchive.tenant_id == tenant_id, XdomeaArchive.name == name
        )
    )


def list_archives(session: Session, actor: User) -> list[XdomeaArchive]:
    require(session, actor, Action.dispose)
    return list(
        session.scalars(
            select(XdomeaArchive)
            .where(XdomeaArchive.tenant_id == actor.tenant_id)
            .order_by(XdomeaArchive.name)
        )
    )


def version_for(session: Session, tenant_id: int, archive: str) -> str:
    """The xdomea version the named archive reads; 3.1.0 for one never set up."""
    found = archive_named(session, tenant_id, archive)
    return found.xdomea_version if found else "3.1.0"
