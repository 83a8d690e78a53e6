"""Aktenvermerk and Verfügung written in the browser (issue 16): text with the case's data
filled in, taken in as an HTML document through the one intake (so the worker renders it to
PDF/A with LibreOffice like any office or text document), filed into the process, versioned
(a revision is a new original version of the same document, rendered again) and routable like
any document."""

from __future__ import annotations

import html
import io
from collections.abc import Callable

from sqlalchemy.orm import Session

from eakte import audit
from eakte.config import Settings
from eakte.db import transaction
from eakte.errors import BadInput, Conflict
from eakte.ingest.intake_context import DocumentMetadata
from eakte.ingest.keys import original_key
from eakte.models import Document, DocumentStatus, Process, Tenant, User, VersionKind
from eakte.permissions import Action, require
from eakte.ports import retention_port
from eakte.services.cases import ensure_open
from eakte.services.documents import version_for
from eakte.services.guard import audited_refusals, load
from eakte.services.intake import IncomingFile, Target, intake
from eakte.services.objects import store_object
from eakte.workflow import clock
from storage.blobstore import BlobStore

KINDS = {"aktenvermerk": "Aktenvermerk", "verfuegung": "Verfügung"}
MAX_TEXT = 200_000  # characters: a note of many pages, far below the intake's text limit
DOC_TYPE = "Aktenvermerk"


def template(session: Session, actor: User, process: Process, kind: str = "aktenvermerk") -> str:
    """The starting text: the case's data filled in (Aktenzeichen, title, date, author)."""
    case = process.case
    today = clock.today(session).strftime("%d.%m.%Y")
    return (
        f"{KINDS.get(kind, 'Aktenvermerk')}\n\n"
        f"Aktenzeichen: {case.file_reference}\n"
        f"Betreff: {case.title}\n"
        f"Vorgang: {process.number} – {process.title}\n"
        f"Datum: {today}\n"
        f"Verfasser/in: {actor.display_name or actor.username}\n\n"
    )


def _html(title: str, text: str) -> bytes:
    """The text as a small HTML page (escaped: what was typed is shown, never run)."""
    paragraphs = "\n".join(
        f"<p>{html.escape(block).replace(chr(10), '<br>')}</p>"
        for block in text.replace("\r\n", "\n").split("\n\n")
        if block.strip()
    )
    return (
        '<!doctype html><html lang="de"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title></head><body>\n{paragraphs}\n</body></html>\n"
    ).encode()


def _check(text: str) -> None:
    if not text.strip():
        raise BadInput("the note is empty")
    if len(text) > MAX_TEXT:
        raise BadInput(f"a note has at most {MAX_TEXT} characters")


def write(
    session: Session,
    actor: User,
    store: BlobStore,
    settings: Settings,
    process_ident: int | str,
    text: str,
    *,
    kind: str = "aktenvermerk",
    enqueue: Callable[..., None] | None = None,
) -> Document:
    """A new Aktenvermerk or Verfügung in the process (the intake checks, stores and audits)."""
    _check(text)
    if kind not in KINDS:
        raise BadInput(f"unknown kind {kind!r}")
    with transaction(session):
        process = load(session, actor, Process, process_ident)
        require(session, actor, Action.edit, process)
        ensure_open(process)
        title = f"{KINDS[kind]} {clock.today(session).strftime('%d.%m.%Y')}"
        process_id = process.id
    result = intake(
        session,
        actor,
        store,
        IncomingFile(
            _html(title, text),
            f"{kind}.html",
            metadata=DocumentMetadata(title=title, doc_type=DOC_TYPE),
            target=Target(process=process_id),
            method="upload",
            source=f"vermerk:{actor.username}",
        ),
        settings=settings,
        enqueue=enqueue,
    )
    if result.document is None:
        raise Conflict(f"the note was not taken in: {result.outcome.value}")
    return result.document


@audited_refusals
def revise(
    session: Session,
    actor: User,
    store: BlobStore,
    document_ident: int | str,
    text: str,
    *,
    enqueue: Callable[..., None] | None = None,
) -> Document:
    """A new version of a note: a new original (kept beside the earlier ones), rendered again
    by the worker. A route running on the earlier version is refused from now on (a later
    version needs a new route)."""
    _check(text)
    with transaction(session):
        document = load(session, actor, Document, document_ident)
        require(session, actor, Action.edit, document)
        if document.doc_type != DOC_TYPE or document.process is None:
            raise Conflict("only a filed Aktenvermerk or Verfügung is revised here")
        ensure_open(document.process)  # closed case or legal hold: no new version
        tenant = session.get(Tenant, document.tenant_id)
        assert tenant is not None
        lock = retention_port(session).new_version_lock(session, document)
        key, title, tenant_id = original_key(tenant.slug, document.uuid), document.title, tenant.id
    payload = _html(title, text)
    stored = store_object(
        session,
        store,
        tenant_id=tenant_id,
        key=key,
        stream=io.BytesIO(payload),
        content_type="text/html",
        length=len(payload),
        lock=lock,
    )
    with transaction(session):
        document = load(session, actor, Document, document_ident)
        number = sum(1 for v in document.versions if v.kind == VersionKind.original.value) + 1
        document.versions.append(
            version_for(stored, VersionKind.original, f"{title} Fassung {number}.html")
        )
        document.status = DocumentStatus.received.value
        document.sha256 = stored.sha256
        document.index_dirty = True
        document.updated_at = clock.now(session)
        audit.record(session, actor, "new_version", document, sha256=stored.sha256, version=number)
        document_id = document.id
    if enqueue is not None:
        enqueue(document_id)
    return document
