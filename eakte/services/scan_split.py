"""Scanned stacks with cover and separator sheets (issue 17): what scan batches, imports and
the hot folder call instead of ``intake`` for each file.

A PDF or TIFF is read for barcodes first (``eakte.ingest.split``). Without sheets it goes to
``intake`` unchanged. A cover sheet on the first page files the stack into the process it
names (no manifest needed); separator sheets cut it into documents. The sheets leave the
documents but not the record: the scan batch's protocol (its transfer note, TR-RESISCAN) says
which pages of which file were sheets and where the documents went. Each part has the stack's
source key plus its number, so a re-run finds each part taken in and adds nothing.

A cover sheet that names an unknown or closed process, or one the person may not file into,
does not stop the intake: the documents go to the inbox as they would have, and the protocol
says why.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from dataclasses import replace
from pathlib import Path

from sqlalchemy.orm import Session

from eakte.config import Settings
from eakte.db import transaction
from eakte.errors import EakteError
from eakte.ingest import names, split
from eakte.ingest.detect import mime_of
from eakte.models import User
from eakte.models.scanning import ScanBatch
from eakte.services.intake import (
    ApiClient,
    Enqueue,
    IncomingFile,
    IntakeResult,
    Target,
    intake,
    resolve_target,
)
from storage.blobstore import BlobStore

log = logging.getLogger(__name__)


def intake_scan(
    session: Session,
    actor: User | ApiClient,
    store: BlobStore,
    incoming: IncomingFile,
    *,
    settings: Settings,
    enqueue: Enqueue | None = None,
) -> IntakeResult:
    """``intake`` for a scanned file: split at separator sheets, filed by a cover sheet.
    Returns the first document's result (every part is taken in and queued)."""
    if settings.barcode_pages == "off" or incoming.problem is not None:
        return intake(session, actor, store, incoming, settings=settings, enqueue=enqueue)
    with tempfile.TemporaryDirectory(dir=settings.spool_dir(), prefix="split-") as work:
        path = _local(incoming, Path(work))
        kind = split.KINDS.get(mime_of(path)) if path.stat().st_size else None
        plan = _plan(path, kind, settings) if kind else None
        if kind is None or plan is None or plan.trivial or not plan.parts:
            return intake(
                session, actor, store, replace(incoming, data=path), settings=settings,
                enqueue=enqueue,
            )  # fmt: skip
        target, protocol = _target(session, actor, incoming, plan)
        raw = incoming.filename if isinstance(incoming.filename, bytes) else None
        name = names.readable(raw) if raw is not None else str(incoming.filename)
        stem, dot, suffix = name.rpartition(".")
        results = []
        for number, pages in enumerate(plan.parts, 1):
            out = Path(work) / f"part-{number}.{kind}"
            split.write_part(path, kind, pages, out)
            part_name = f"{stem or name}-{number}{dot}{suffix if stem else ''}"
            results.append(
                intake(
                    session,
                    actor,
                    store,
                    replace(
                        incoming,
                        data=out,
                        filename=part_name if len(plan.parts) > 1 else name,
                        target=target,
                        source=f"{incoming.source} (pages {pages[0] + 1}-{pages[-1] + 1})"[:300],
                        source_key=f"{incoming.source_key}#{number}"
                        if incoming.source_key
                        else None,
                    ),
                    settings=settings,
                    enqueue=enqueue,
                )
            )
            protocol.append(
                f"pages {pages[0] + 1}-{pages[-1] + 1} → document "
                f"{results[-1].document.uuid if results[-1].document else 'quarantined'}"
            )
        _note(session, incoming.scan_batch_id, name, plan, protocol)
        return results[0]


def _local(incoming: IncomingFile, work: Path) -> Path:
    """The file in place, or the stream or bytes spooled (read once, bounded by the disk)."""
    if isinstance(incoming.data, Path):
        return incoming.data
    path = work / "stack"
    with path.open("wb") as out:
        if isinstance(incoming.data, bytes):
            out.write(incoming.data)
        else:
            shutil.copyfileobj(incoming.data, out, 1 << 20)
    return path


def _plan(path: Path, kind: str, settings: Settings) -> split.SplitPlan | None:
    try:
        pages = split._page_count(path, kind)
        if pages > settings.ingest_max_pages:  # the intake refuses it with its reason
            return None
        return split.plan(
            path,
            kind,
            pages_read=settings.barcode_pages,
            dpi=settings.barcode_dpi,
            separator=settings.barcode_separator,
        )
    except Exception as exc:  # a damaged file: the intake's checks say what is wrong
        log.warning("barcodes of %s not read: %s", path.name, exc)
        return None


def _target(
    session: Session, actor: User | ApiClient, incoming: IncomingFile, plan: split.SplitPlan
) -> tuple[Target, list[str]]:
    protocol = []
    if plan.separators:
        pages = ", ".join(str(i + 1) for i in plan.separators)
        protocol.append(f"{len(plan.separators)} separator sheet(s) removed: page(s) {pages}")
    if plan.cover is None:
        return incoming.target, protocol
    if incoming.target.process is not None:  # a manifest's process: the person's word wins
        protocol.append("cover sheet (page 1) removed; the manifest's process is kept")
        return incoming.target, protocol
    wanted = Target(process=str(plan.cover))
    try:
        resolve_target(session, actor, wanted)
    except EakteError as exc:
        session.rollback()
        protocol.append(f"cover sheet (page 1) names process {plan.cover}: not used ({exc})")
        return incoming.target, protocol
    session.rollback()
    protocol.append(f"cover sheet (page 1) removed: filed into process {plan.cover}")
    return wanted, protocol


def _note(
    session: Session, batch_id: int | None, name: str, plan: split.SplitPlan, protocol: list[str]
) -> None:
    """The batch protocol (R16 transfer note): what the sheets did to this file."""
    log.info("%s: %s", name, "; ".join(protocol))
    if batch_id is None:
        return
    line = f"{name}: {plan.pages} pages, {len(plan.parts)} document(s); " + "; ".join(protocol)
    with transaction(session):
        batch = session.get(ScanBatch, batch_id)
        if batch is not None and line not in batch.transfer_note:  # a re-run adds nothing
            batch.transfer_note = (batch.transfer_note + "\n" + line).strip()
