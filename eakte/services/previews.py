"""Page previews rendered on the server (Ghostscript, -dSAFER), cached in the data dir.

The cache sits under ``previews/<document uuid>/`` so that destroying a document removes its
previews with one call (R10: thumbnails go too).
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import pikepdf
from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import UpdateBase

from eakte import audit
from eakte.db import transaction
from eakte.errors import NotFound
from eakte.ingest.bounds import preview_dpi
from eakte.ingest.reasons import Rejected
from eakte.models import Document, FileVersion, User, VersionKind
from eakte.models.audit import PreviewView
from eakte.models.base import utcnow
from eakte.permissions import Action, require
from eakte.services.guard import audited_refusals, load
from storage.blobstore import BlobStore

PREVIEW_DPI = 60
MAX_PAGE = 10_000
# A preview is for a screen: a page larger than this is shown at a coarser resolution, and
# Ghostscript runs under hard limits whatever the page holds.
PREVIEW_MAX_PIXELS = 16_000_000
PREVIEW_MEMORY = 1024 * 1024 * 1024
PREVIEW_CPU_S = 20


def preview_version(document: Document) -> FileVersion | None:
    """The archival rendition, else a PDF original; images without a rendition have none."""
    renditions = [v for v in document.versions if v.kind == VersionKind.rendition]
    if renditions:
        return renditions[-1]
    originals = [v for v in document.versions if v.mime == "application/pdf"]
    return originals[0] if originals else None


@audited_refusals
def page_image(
    session: Session, actor: User, store: BlobStore, data_dir: Path, document_ident: str, page: int
) -> Path:
    """PNG of one page (1-based). Cached; rendered from verified bytes on first request.
    Seeing it is a view of the document (R20), audited once per user, document and hour."""
    document = load(session, actor, Document, document_ident)
    require(session, actor, Action.view, document)
    version = preview_version(document)
    if version is None or not 1 <= page <= min(document.page_count or 1, MAX_PAGE):
        raise NotFound(f"no preview page {page} for document {document.uuid}")
    audit_view(session, actor, document)
    folder = data_dir / "previews" / str(document.uuid)
    target = folder / f"{version.sha256[:16]}-{page}.png"
    if target.exists():
        return target
    render_page(store, version, page, target, PREVIEW_DPI, PREVIEW_MAX_PIXELS, str(document.uuid))
    return target


def render_page(
    store: BlobStore,
    version: FileVersion,
    page: int,
    target: Path,
    dpi_wanted: float,
    max_pixels: int,
    name: str,
) -> None:
    """Render one page of ``version`` to ``target`` (PNG), atomically; ``NotFound`` when the
    page cannot be rendered. Shared by previews and thumbnails (eakte.services.thumbnails)."""
    folder = target.parent
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=folder) as tmp:
        pdf = Path(tmp) / "doc.pdf"
        store.get_to_file(version.s3_key, pdf, version.s3_version_id, version.sha256)
        out = Path(tmp) / "page.png"
        dpi = _bounded_dpi(pdf, page, dpi_wanted, max_pixels)
        if dpi is None:
            raise NotFound(f"page {page} of document {name} is too large to preview")
        result = subprocess.run(
            [
                # hard limits, set by prlimit rather than a preexec_fn (unsafe in a threaded
                # web server)
                "prlimit",
                f"--as={PREVIEW_MEMORY}",
                f"--cpu={PREVIEW_CPU_S}",
                "gs",
                "-q",
                "-dSAFER",
                "-dBATCH",
                "-dNOPAUSE",
                "-sDEVICE=png16m",
                f"-r{dpi:.2f}",
                f"-dFirstPage={page}",
                f"-dLastPage={page}",
                f"-sOutputFile={out}",
                str(pdf),
            ],
            capture_output=True,
            timeout=60,
        )
        if result.returncode != 0 or not out.exists():
            raise NotFound(f"page {page} of document {name} could not be rendered")
        out.replace(target)  # atomic: concurrent requests never see half a file


def audit_view(session: Session, actor: User, document: Document) -> None:
    """One audit entry per user, document and hour, however many pages are shown: the
    ``preview_view`` row is claimed by a conditional insert or update, so of requests running
    at once only the one that changed it writes the entry."""
    hour = int(utcnow().timestamp() // 3600)
    key = {"user_id": actor.id, "document_id": document.id}
    seen = session.scalar(select(PreviewView.hour).filter_by(**key))
    if seen is not None and seen >= hour:
        return  # the common case: no write at all
    with transaction(session):
        claim: UpdateBase  # an upsert or an update, both with RETURNING
        if seen is None:
            insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
            claim = insert(PreviewView).values(**key, hour=hour).on_conflict_do_nothing()
        else:
            claim = (
                update(PreviewView)
                .filter_by(**key)
                .where(PreviewView.hour < hour)
                .values(hour=hour)
            )
        if session.execute(claim.returning(PreviewView.hour)).first() is not None:
            audit.record(session, actor, "view", document, preview=True)


def _bounded_dpi(pdf: Path, page: int, dpi: float, max_pixels: int) -> float | None:
    try:
        return preview_dpi(pdf, page, dpi, max_pixels)
    except (Rejected, pikepdf.PdfError, IndexError, ValueError):
        return None


def purge(data_dir: Path, document_uuid: str) -> None:
    """Remove every cached preview of a document (used by destruction)."""
    shutil.rmtree(data_dir / "previews" / document_uuid, ignore_errors=True)
