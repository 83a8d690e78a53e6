"""The search index follows the database (issue 5; "Index" in ARCHITECTURE.md).

Services mark what changed (``index_dirty``); rows written with another schema version
(``index_version``) count as changed too. ``index_pending`` catches up in batches: each batch is
claimed in the database (dirty flag cleared, version set to ``CLAIMED``), written to the index in
one commit, and only then marked as indexed with the current version — and only where nobody
changed the row meanwhile (a change sets the dirty flag again). A crash or a failed commit
leaves the batch claimed, which is pending as well, so nothing is lost and the next run writes
it. The index's own write lock is held around the whole batch, so two indexers never
interleave.

The index is the runtime's search backend (``Runtime.search``): the Whoosh directory in the data
dir or, with ``EAKTE_SEARCH_BACKEND=postgresql``, the search tables in the database
(``indexing.pg``); both take the same calls.

Destroyed documents and disposed cases (and the documents of disposed cases) are removed from
the index, and the segments that held them are rewritten, so nothing of them stays on disk
(R10).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import ColumnElement, func, or_, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from eakte.config import Settings
from eakte.db import transaction
from eakte.models import Case, Document, DocumentStatus, FilePlanNode, Process
from indexing.backend import SearchBackend, open_backend
from indexing.schema import (
    CASE,
    DOCUMENT,
    INBOX,
    SCHEMA_VERSION,
    IndexEntry,
    case_key,
    document_key,
)

log = logging.getLogger(__name__)

BATCH = 500
CLAIMED = -1  # taken by an indexer run, not yet committed to the index
STREAM = 1000  # rows per fetch when streaming the whole database
PARALLEL_FROM = 5000  # rows; a smaller archive is rebuilt in the calling process

if TYPE_CHECKING:  # the runtime (composition root) imports this module's callers
    from eakte.runtime import Runtime


def open_search(settings: Settings, engine: Engine) -> SearchBackend:
    """The search backend of the installation: Whoosh in the data dir, or the PostgreSQL
    tables reached through ``engine`` (``EAKTE_SEARCH_BACKEND=postgresql``)."""
    return open_backend(
        settings.search_backend, index_dir=settings.data_dir / "index", engine=engine
    )


# --- from rows to index entries ---------------------------------------------------------------

_DOCUMENT_COLUMNS = (
    Document.id,
    Document.tenant_id,
    Document.title,
    Document.doc_type,
    Document.correspondent,
    Document.received_date,
    Document.created_at,
    Document.status,
    Document.restricted,
    Document.extracted_text,
    Document.process_id,
    Document.inbox_org_unit_id,
    Process.case_id,
    Case.file_reference,
    Case.org_unit_id,
    Case.restricted.label("case_restricted"),
    Case.status.label("case_status"),
    Case.closed_at,
    Case.disposal_state,
    FilePlanNode.code,
)


def _documents(where: ColumnElement[bool]):
    return (
        select(*_DOCUMENT_COLUMNS)
        .select_from(Document)
        .outerjoin(Process, Document.process_id == Process.id)
        .outerjoin(Case, Process.case_id == Case.id)
        .outerjoin(FilePlanNode, Case.node_id == FilePlanNode.id)
        .where(where)
        .order_by(Document.id)
    )


# Destroyed (R10) and discarded from the inbox (issue 13): not searchable.
_NOT_INDEXED = (DocumentStatus.destroyed.value, DocumentStatus.discarded.value)


def document_entry(row) -> IndexEntry | None:
    """What the index shows of a document row; None: it must not be in the index."""
    if row.status in _NOT_INDEXED or row.disposal_state:
        return None
    filed = row.process_id is not None
    return IndexEntry(
        key=document_key(row.id),
        kind=DOCUMENT,
        tenant_id=row.tenant_id,
        title=row.title,
        org_unit_id=row.org_unit_id if filed else row.inbox_org_unit_id,
        inbox=not filed,
        restricted=bool(row.restricted or (filed and row.case_restricted)),
        content=row.extracted_text or "",
        correspondent=row.correspondent or "",
        doc_type=row.doc_type or "",
        file_reference=row.file_reference or "",
        plan_code=row.code or "",
        case_id=row.case_id,
        process_id=row.process_id,
        status=row.case_status if filed else INBOX,
        received=row.received_date,
        created=row.created_at.date() if row.created_at else None,
        closed=row.closed_at,
    )


_CASE_COLUMNS = (
    Case.id,
    Case.tenant_id,
    Case.title,
    Case.description,
    Case.file_reference,
    Case.org_unit_id,
    Case.restricted,
    Case.status,
    Case.created_at,
    Case.closed_at,
    Case.disposal_state,
    FilePlanNode.code,
)


def _cases(where: ColumnElement[bool]):
    return (
        select(*_CASE_COLUMNS)
        .select_from(Case)
        .join(FilePlanNode, Case.node_id == FilePlanNode.id)
        .where(where)
        .order_by(Case.id)
    )


def case_entry(row, process_titles: Iterable[str] = ()) -> IndexEntry | None:
    if row.disposal_state:
        return None
    return IndexEntry(
        key=case_key(row.id),
        kind=CASE,
        tenant_id=row.tenant_id,
        title=row.title,
        org_unit_id=row.org_unit_id,
        restricted=bool(row.restricted),
        content="\n".join([row.description or "", *process_titles]).strip(),
        file_reference=row.file_reference,
        plan_code=row.code or "",
        case_id=row.id,
        status=row.status,
        created=row.created_at.date() if row.created_at else None,
        closed=row.closed_at,
    )


def _process_titles(session: Session, case_ids: list[int]) -> dict[int, list[str]]:
    titles: dict[int, list[str]] = {}
    for case_id, title in session.execute(
        select(Process.case_id, Process.title)
        .where(Process.case_id.in_(case_ids))
        .order_by(Process.case_id, Process.number)
    ):
        titles.setdefault(case_id, []).append(title)
    return titles


def _pending(model) -> ColumnElement[bool]:
    # Two ranges instead of "!=", so that the index on index_version is used.
    return or_(
        model.index_dirty.is_(True),
        model.index_version < SCHEMA_VERSION,
        model.index_version > SCHEMA_VERSION,
    )


# --- catching up --------------------------------------------------------------------------------


def index_pending(rt: Runtime, batch: int = BATCH) -> int:
    """Write every changed document and case to the index; returns how many rows were handled.

    An index that is missing, of another schema version or not completely built is rebuilt
    from the database first (``reindex``).
    """
    store = rt.search
    if not store.complete():
        return reindex(rt)
    done = 0
    with store.locked(), rt.session() as session:
        for model in (Document, Case):
            while True:
                count = _index_batch(session, store, model, batch)
                done += count
                if count < batch:
                    break
    if done:
        log.info("index: %d changed row(s) written", done)
    return done


def _index_batch(session: Session, store: SearchBackend, model, batch: int) -> int:
    """One batch: claim, write in one index commit, then mark what nobody changed meanwhile."""
    with transaction(session):
        ids = list(
            session.scalars(select(model.id).where(_pending(model)).order_by(model.id).limit(batch))
        )
        if not ids:
            return 0
        session.execute(
            update(model)
            .where(model.id.in_(ids))
            .values(index_dirty=False, index_version=CLAIMED)
            .execution_options(synchronize_session=False)
        )
        adds, removes = _entries_for(session, model, ids)
    store.write(adds, removes, purge=bool(removes))
    with transaction(session):
        session.execute(
            update(model)
            .where(
                model.id.in_(ids),
                model.index_version == CLAIMED,
                model.index_dirty.is_(False),
            )
            .values(index_version=SCHEMA_VERSION)
            .execution_options(synchronize_session=False)
        )
    return len(ids)


def _entries_for(session: Session, model, ids: list[int]) -> tuple[list[IndexEntry], list[str]]:
    adds: list[IndexEntry] = []
    removes: list[str] = []
    if model is Document:
        for row in session.execute(_documents(Document.id.in_(ids))):
            entry = document_entry(row)
            if entry is None:
                removes.append(document_key(row.id))
            else:
                adds.append(entry)
        return adds, removes
    titles = _process_titles(session, ids)
    for row in session.execute(_cases(Case.id.in_(ids))):
        entry = case_entry(row, titles.get(row.id, ()))
        if entry is None:
            removes.append(case_key(row.id))
            # The documents of a disposed case go with it.
            removes.extend(
                document_key(doc_id)
                for doc_id in session.scalars(
                    select(Document.id).join(Process).where(Process.case_id == row.id)
                )
            )
        else:
            adds.append(entry)
    return adds, removes


# --- rebuilding -------------------------------------------------------------------------------


def reindex(rt: Runtime, missing_only: bool = False, *, workers: int = 0) -> int:
    """Rebuild the index from the database; returns how many entries were written.

    The whole index is replaced in one commit (searches see the old one until then), streaming
    the rows with bounded memory. ``missing_only`` writes just what the index lacks and removes
    what it should not hold (as ``index_drift`` finds it) — the quick repair after, say, a lost
    index directory was restored from an older backup.
    """
    store = rt.search
    if missing_only and store.complete():
        return _repair(rt, store)
    with store.locked(), rt.session() as session:
        count = _rebuild(session, store, workers)
    log.info("index: rebuilt with %d entries", count)
    index_pending(rt)  # what changed while the rebuild ran
    return count


def _rebuild(session: Session, store: SearchBackend, workers: int) -> int:
    if not workers:
        rows = (session.scalar(select(func.count(Document.id))) or 0) + (
            session.scalar(select(func.count(Case.id))) or 0
        )
        # Starting build processes costs more than it saves on a small archive.
        workers = 1 if rows < PARALLEL_FROM else 0
    with transaction(session):
        # Claim everything: rows changed during the rebuild get their dirty flag back and are
        # written again afterwards.
        for model in (Document, Case):
            session.execute(
                update(model)
                .values(index_dirty=False, index_version=CLAIMED)
                .execution_options(synchronize_session=False)
            )
    count = store.rebuild(_all_entries(session), workers=workers)
    with transaction(session):
        for model in (Document, Case):
            session.execute(
                update(model)
                .where(model.index_version == CLAIMED, model.index_dirty.is_(False))
                .values(index_version=SCHEMA_VERSION)
                .execution_options(synchronize_session=False)
            )
    return count


def _all_entries(session: Session) -> Iterator[IndexEntry]:
    """Every row that belongs in the index, streamed (the database cursor is read in chunks,
    never all rows at once)."""
    stream = {"yield_per": STREAM}
    for row in session.execute(_documents(Document.id.is_not(None)).execution_options(**stream)):
        entry = document_entry(row)
        if entry is not None:
            yield entry
    chunk: list = []
    for row in session.execute(_cases(Case.id.is_not(None)).execution_options(**stream)):
        chunk.append(row)
        if len(chunk) >= STREAM:
            yield from _case_chunk(session, chunk)
            chunk = []
    yield from _case_chunk(session, chunk)


def _case_chunk(session: Session, rows: list) -> Iterator[IndexEntry]:
    if not rows:
        return
    titles = _process_titles(session, [row.id for row in rows])
    for row in rows:
        entry = case_entry(row, titles.get(row.id, ()))
        if entry is not None:
            yield entry


def _repair(rt: Runtime, store: SearchBackend) -> int:
    """Remove what the index should not hold; mark what it lacks as changed and catch up."""
    with rt.session() as session:
        drift = index_drift_in(session, store)
        if drift.extra:
            store.write([], drift.extra, purge=True)
        for model, prefix in ((Document, "d"), (Case, "c")):
            ids = [int(key[1:]) for key in drift.missing if key.startswith(prefix)]
            for start in range(0, len(ids), BATCH):
                with transaction(session):
                    session.execute(
                        update(model)
                        .where(model.id.in_(ids[start : start + BATCH]))
                        .values(index_dirty=True)
                        .execution_options(synchronize_session=False)
                    )
    return len(drift.extra) + index_pending(rt)


# --- drift --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Drift:
    """Differences between database and index, leaving out rows not yet indexed (pending)."""

    complete: bool  # the index exists, is of this schema version and was fully built
    indexed: int  # entries in the index
    pending: int  # rows changed and not yet indexed (normal for a few seconds)
    missing: list[str]  # keys the index should hold and does not
    extra: list[str]  # keys the index holds and should not (e.g. destroyed documents)

    @property
    def clean(self) -> bool:
        return self.complete and not self.missing and not self.extra


def index_drift(rt: Runtime) -> Drift:
    with rt.session() as session:
        return index_drift_in(session, rt.search)


def index_drift_in(session: Session, store: SearchBackend) -> Drift:
    expected: set[str] = set()
    pending: set[str] = set()
    doc_rows = session.execute(
        select(
            Document.id,
            Document.status,
            Document.index_dirty,
            Document.index_version,
            Case.disposal_state,
        )
        .select_from(Document)
        .outerjoin(Process, Document.process_id == Process.id)
        .outerjoin(Case, Process.case_id == Case.id)
        .execution_options(yield_per=STREAM)
    )
    for doc_id, status, dirty, version, disposal in doc_rows:
        key = document_key(doc_id)
        if dirty or version != SCHEMA_VERSION:
            pending.add(key)
        elif status not in _NOT_INDEXED and not disposal:
            expected.add(key)
    case_rows = session.execute(
        select(Case.id, Case.disposal_state, Case.index_dirty, Case.index_version)
    )
    for case_id, disposal, dirty, version in case_rows:
        key = case_key(case_id)
        if dirty or version != SCHEMA_VERSION:
            pending.add(key)
        elif not disposal:
            expected.add(key)
    present = store.keys()
    return Drift(
        complete=store.complete(),
        indexed=len(present),
        pending=len(pending),
        missing=sorted(expected - present),
        extra=sorted(present - expected - pending),
    )


# --- eakte verify -------------------------------------------------------------------------------

MAX_FINDINGS = 100  # per kind; a lost index would otherwise list every document


def check_search_index(ctx, counts: dict[str, int]):
    """``eakte verify``: the index holds what the database says it should (drift).

    The index directory follows from the settings of this installation (the environment);
    when those describe another database than the one being verified, the check is skipped.
    """
    from eakte.verify import Finding

    settings = _settings_of(ctx.session)
    if settings is None:
        return
    bind = ctx.session.get_bind()
    store = open_search(settings, bind if isinstance(bind, Engine) else bind.engine)
    drift = index_drift_in(ctx.session, store)
    counts["index entries"] = drift.indexed
    if not drift.complete and _any_indexed(ctx.session):
        yield Finding(
            "index", store.describe(), "missing or not completely built: run 'eakte reindex'"
        )
    for key in drift.missing[:MAX_FINDINGS]:
        yield Finding("index", key, "in the database, missing in the search index")
    for key in drift.extra[:MAX_FINDINGS]:
        yield Finding("index", key, "in the search index, but not (or no longer) in the database")
    hidden = max(0, len(drift.missing) - MAX_FINDINGS) + max(0, len(drift.extra) - MAX_FINDINGS)
    if hidden:
        yield Finding("index", "search index", f"{hidden} more difference(s) not listed")


def _settings_of(session: Session) -> Settings | None:
    from sqlalchemy.engine import make_url

    from eakte.errors import ConfigError

    try:
        settings = Settings.from_env()
    except ConfigError:
        return None
    bind = session.get_bind()
    engine = bind if isinstance(bind, Engine) else bind.engine
    bound = engine.url.render_as_string(hide_password=False)
    configured = make_url(settings.database_url).render_as_string(hide_password=False)
    return settings if bound == configured else None


def _any_indexed(session: Session) -> bool:
    for model in (Document, Case):
        found = session.scalar(
            select(model.id).where(model.index_version == SCHEMA_VERSION).limit(1)
        )
        if found is not None:
            return True
    return False
