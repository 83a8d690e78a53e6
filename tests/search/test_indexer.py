"""The index follows the database: batches committed only on success, flags cleared only for
what was committed, destroyed content removed (R10), drift reported and repaired."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text, update

from eakte.models import Case, Document, DocumentStatus, User
from eakte.services import documents
from eakte.services import search as search_service
from eakte.services.indexer import (
    CLAIMED,
    check_search_index,
    index_drift,
    index_pending,
    reindex,
)
from eakte.verify import VerifyContext
from indexing.analysis import GermanAnalyzer
from indexing.pg import schema as pg_schema
from indexing.schema import SCHEMA_VERSION


def _keys(world, text="*", user=None):
    with world.session() as s:
        user = s.get(User, (user or world.officer).id)
        result = search_service.search(s, user, world.rt.search, text, per_page=100)
    return {hit.key for hit in result.hits}


def _backend_class(world):
    """The class of the configured index (Whoosh or PostgreSQL), to inject failures into."""
    return type(world.rt.search)


def _flags(world, model=Document):
    with world.session() as s:
        return set(s.execute(select(model.index_dirty, model.index_version)).all())


def test_pending_rows_are_indexed_and_marked_only_after_the_commit(world, archive):
    assert _flags(world, Document) == {(False, SCHEMA_VERSION)}
    assert _flags(world, Case) == {(False, SCHEMA_VERSION)}
    assert index_pending(world.rt) == 0  # nothing left to do
    with world.session() as s:
        documents.update_document(s, world.officer, archive.ids["inbox_32"], title="Umbenannt")
    assert _flags(world) == {(False, SCHEMA_VERSION), (True, SCHEMA_VERSION)}
    assert index_pending(world.rt) == 1
    assert _keys(world, "Umbenannt") == {archive.key("inbox_32")}
    # Rows written with another schema version count as changed.
    with world.session() as s, s.begin():
        s.execute(update(Case).values(index_version=SCHEMA_VERSION - 1))
    assert index_pending(world.rt) == 4


def test_a_change_during_the_batch_stays_pending(world, archive, monkeypatch):
    doc_id = archive.ids["inbox_32"]
    backend = _backend_class(world)
    original = backend.write

    def write_while_someone_edits(self, entries, delete=(), *, purge=False):
        original(self, entries, delete, purge=purge)
        with world.session() as s:  # a clerk saves a new title between commit and marking
            documents.update_document(s, world.officer, doc_id, title="Zwischendurch")

    with world.session() as s:
        documents.update_document(s, world.officer, doc_id, title="Erste Fassung")
    monkeypatch.setattr(backend, "write", write_while_someone_edits)
    index_pending(world.rt)
    monkeypatch.undo()
    with world.session() as s:
        assert s.get(Document, doc_id).index_dirty  # not marked as indexed: it changed
    assert _keys(world, "Zwischendurch") == set()
    index_pending(world.rt)
    assert _keys(world, "Zwischendurch") == {archive.key("inbox_32")}


def test_a_failed_index_commit_leaves_the_batch_pending(world, archive, monkeypatch):
    with world.session() as s:
        documents.update_document(s, world.officer, archive.ids["inbox_60"], title="Neu betitelt")

    def fail(self, *args, **kwargs):
        raise OSError("no space left on device")

    monkeypatch.setattr(_backend_class(world), "write", fail)
    with pytest.raises(OSError):
        index_pending(world.rt)
    monkeypatch.undo()
    with world.session() as s:
        row = s.get(Document, archive.ids["inbox_60"])
        assert (row.index_dirty, row.index_version) == (False, CLAIMED)  # claimed, still pending
    assert index_drift(world.rt).pending == 1
    assert index_pending(world.rt) == 1
    assert _keys(world, "betitelt") == {archive.key("inbox_60")}
    assert index_drift(world.rt).clean


def test_r10_destroyed_documents_and_disposed_cases_leave_the_index(world, archive):
    destroyed = archive.ids["restricted_doc"]
    with world.session() as s, s.begin():
        # What retention's destruction does to the rows (see retention/destruction.py).
        s.execute(
            update(Document)
            .where(Document.id == destroyed)
            .values(status=DocumentStatus.destroyed.value, extracted_text="", index_dirty=True)
        )
        s.execute(
            update(Case)
            .where(Case.id == archive.case_ids["bau"])
            .values(disposal_state="transferred", index_dirty=True)
        )
    index_pending(world.rt)
    keys = _keys(world)
    assert archive.key("restricted_doc") not in keys
    assert archive.key("bau") not in keys and archive.key("bau_antrag") not in keys
    assert _keys(world, "Geheimwort") == set()
    store = world.rt.search
    if store.name == "whoosh":
        # Nothing of the destroyed text stays in the index files (their segments were rewritten).
        stem = GermanAnalyzer().terms("Krankheitsgeschichte")[0].encode()
        for path in store.path.iterdir():
            if path.is_file():
                assert stem not in path.read_bytes(), path.name
    else:
        # Nor in the search tables: no entry, no word only it had (and the tables were vacuumed).
        with world.rt.engine.connect() as conn:
            assert not conn.scalar(
                text("SELECT count(*) FROM search_doc WHERE content LIKE '%Geheimwort%'")
            )
            words = set(conn.scalars(text("SELECT word FROM search_word")))
        assert "krankheitsgeschichte" not in words and "geheimwort" not in words
        assert "gebühr" in words  # words other entries have stay
    assert index_drift(world.rt).clean


def test_drift_is_reported_by_verify_and_repaired(world, archive, env):
    store = world.rt.search
    gone, ghost = archive.key("hund_bescheid"), "d99999"
    from indexing.schema import DOCUMENT, IndexEntry

    store.write([IndexEntry(ghost, DOCUMENT, world.tenant.id, "Gespenst")], [gone])
    drift = index_drift(world.rt)
    assert drift.missing == [gone] and drift.extra == [ghost] and not drift.clean
    with world.session() as s:
        findings = list(check_search_index(VerifyContext(s, world.rt.store), {}))
    assert {(f.subject, f.check) for f in findings} == {(gone, "index"), (ghost, "index")}
    assert reindex(world.rt, missing_only=True) == 2
    assert index_drift(world.rt).clean
    with world.session() as s:
        assert list(check_search_index(VerifyContext(s, world.rt.store), {})) == []
    # A full rebuild replaces everything and leaves every row marked.
    assert reindex(world.rt) == len(store.keys()) == len(_keys(world)) + 1  # + the neighbour
    assert _flags(world, Document) == {(False, SCHEMA_VERSION)}
    assert index_drift(world.rt).clean


def test_a_lost_or_outdated_index_is_rebuilt_by_the_indexer(world, archive):
    store = world.rt.search
    before = _keys(world)
    import shutil

    if store.name == "whoosh":
        shutil.rmtree(store.path)  # e.g. a restore without the index directory
    else:
        with world.rt.engine.begin() as conn:
            pg_schema.drop(conn)  # e.g. a restore that left the search tables out
    with world.session() as s:
        findings = list(check_search_index(VerifyContext(s, world.rt.store), {}))
    assert findings == []  # the env of this test names another installation: not checked
    assert _keys(world) == set()
    index_pending(world.rt)  # finds no complete index: rebuilds from the database
    assert _keys(world) == before and store.complete()
