"""Thumbnails of a document's first page for the inbox, search results and case pages.

Rendered once by a worker (``runtime.jobs.render_thumbnail``, asked for when a list first
shows a document without one) and cached beside the previews under
``previews/<document uuid>/``, so destruction removes them with the previews (R10). Served
with the previews' rules: the user must be allowed to view the document, and seeing it is a
view, audited once per user, document and hour (``previews.audit_view``)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from PIL import Image
from sqlalchemy.orm import Session

from eakte.errors import NotFound
from eakte.models import Document, FileVersion, User
from eakte.permissions import Action, require
from eakte.services.guard import audited_refusals, load
from eakte.services.previews import audit_view, preview_version, render_page
from storage.blobstore import BlobStore

THUMB_DPI = 24  # an A4 page becomes about 200 × 280 pixels before scaling down
THUMB_MAX_PIXELS = 1_000_000
THUMB_WIDTH = 120


def thumbnail_path(data_dir: Path, document: Document, version: FileVersion) -> Path:
    return data_dir / "previews" / str(document.uuid) / f"thumb-{version.sha256[:16]}.png"


REASK_AFTER_S = 600  # a request for the worker is repeated at most this often


@dataclass(frozen=True)
class Thumbnail:
    document_id: int
    path: Path | None  # None: not rendered yet
    ask_worker: bool  # not rendered and not asked for recently


@audited_refusals
def thumbnail(session: Session, actor: User, data_dir: Path, document_ident: str) -> Thumbnail:
    """The cached thumbnail, or whether to ask the worker for it. Checked and audited like a
    preview page."""
    document = load(session, actor, Document, document_ident)
    require(session, actor, Action.view, document)
    version = preview_version(document)
    if version is None:
        raise NotFound(f"document {document.uuid} has no page to show")
    path = thumbnail_path(data_dir, document, version)
    if path.exists():
        audit_view(session, actor, document)
        return Thumbnail(document.id, path, False)
    marker = path.with_suffix(".asked")
    try:
        fresh = time.time() - marker.stat().st_mtime < REASK_AFTER_S
    except FileNotFoundError:
        fresh = False
    if not fresh:
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.touch()
    return Thumbnail(document.id, None, not fresh)


def render(session: Session, store: BlobStore, data_dir: Path, document_id: int) -> Path | None:
    """Render the thumbnail of a document (the worker's job); None when it has no page to
    show. Done once: an existing thumbnail of the same version is kept."""
    document = session.get(Document, document_id)
    if document is None:
        return None
    version = preview_version(document)
    if version is None:
        return None
    target = thumbnail_path(data_dir, document, version)
    if target.exists():
        return target
    page = target.with_name(f"thumb-{version.sha256[:16]}-page.png")
    try:
        render_page(store, version, 1, page, THUMB_DPI, THUMB_MAX_PIXELS, str(document.uuid))
    except NotFound:
        return None
    with Image.open(page) as image:
        height = max(1, round(image.height * THUMB_WIDTH / max(1, image.width)))
        small = image.convert("RGB").resize((THUMB_WIDTH, height), Image.Resampling.LANCZOS)
        partial = target.with_suffix(".part")
        small.save(partial, format="PNG", optimize=True)
    partial.replace(target)  # atomic: a reader never sees half a file
    page.unlink(missing_ok=True)
    return target
