"""Issue 8 item 6: ``eakte backup DEST`` and ``eakte restore SRC`` into a fresh installation."""

from __future__ import annotations

import importlib.util
import io
import json

import pytest
from sqlalchemy import ForeignKey, select
from sqlalchemy.orm import Session

from eakte import backup as backups
from eakte.errors import ExitCode
from eakte.models import AuditEvent, Base, Case, Document, FileVersion, StoredObject
from eakte.models.records import Process
from eakte.runtime import whoosh_health
from eakte.services import cases, documents
from eakte.services.objects import store_object
from eakte.verify import VerifyContext, run_verify
from retention import holds, locks
from tests.ops.conftest import engine_for

HAS_INDEXER = importlib.util.find_spec("eakte.services.indexer") is not None
sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def _installation(world):
    """Cases with documents (one case closed and locked, one under a legal hold), a key with
    two versions and two documents with the same bytes."""
    store = world.rt.store
    with world.session() as s:
        open_case = cases.create_case(s, world.clerk, "32.10.05", "Gewerbe Müller")
        open_process = cases.add_process(s, world.clerk, open_case.id, "Anmeldung")
        closed_case = cases.create_case(s, world.clerk, "32.10.05", "Gewerbe Schulz")
        closed_process = cases.add_process(s, world.clerk, closed_case.id, "Abmeldung")
    filed = world.inbox_document("Antrag", data=b"%PDF-1.4 Antrag Mueller")
    twin = world.inbox_document("Kopie", data=b"%PDF-1.4 Antrag Mueller")
    world.inbox_document("Posteingang")
    closed = world.inbox_document("Abmeldung", data=b"%PDF-1.4 Abmeldung Schulz")
    with world.session() as s:
        documents.file_document(s, world.clerk, filed.id, open_process.id)
        documents.file_document(s, world.clerk, closed.id, closed_process.id)
        cases.close_case(s, world.clerk, closed_case.id)
        assert locks.sync_object_locks(s, store).cases == 1
        holds.place_hold(
            s,
            world.officer,
            "case",
            open_case.id,
            reason="Klage",
            authority="VG Berlin",
            store=store,
        )
        for payload in (b"first version", b"second version"):
            store_object(
                s,
                store,
                tenant_id=world.tenant.id,
                key="default/test/two-versions",
                stream=io.BytesIO(payload),
                content_type="text/plain",
            )
    return {"filed": filed, "twin": twin, "closed": closed, "held_case": open_case}


def _documents(session: Session) -> list[tuple]:
    rows = session.execute(
        select(
            Document.uuid, Document.title, Document.status, Document.sha256, Process.uuid
        ).outerjoin(Process, Document.process_id == Process.id)
    )
    return sorted((str(r[0]), r[1], r[2], r[3], str(r[4])) for r in rows)


def _audit(session: Session) -> list[tuple]:
    return list(session.execute(select(AuditEvent.id, AuditEvent.action, AuditEvent.hash)))


def _objects(session: Session) -> list[tuple]:
    rows = session.execute(
        select(StoredObject.key, StoredObject.version_id, StoredObject.sha256, StoredObject.size)
    )
    return sorted(tuple(r) for r in rows)


def test_backup_restore_into_fresh_installation_reindexed_and_verified(
    world, cli, fresh_install, tmp_path
):
    made = _installation(world)
    with world.session() as s:
        before_docs, before_audit, before_objects = _documents(s), _audit(s), _objects(s)

    dest = tmp_path / "backup"
    done = cli("backup", dest, "--with-objects")
    assert done.exit_code == 0, done.output
    info = json.loads((dest / backups.INFO_FILE).read_text())
    assert info["manifest"]["objects"] == len(before_objects) == 6
    assert info["objects"]["files"] == 5  # the twins' bytes are kept once
    manifest = [
        json.loads(line) for line in (dest / backups.MANIFEST_FILE).read_text().splitlines()
    ]
    assert sorted((m["key"], m["version_id"], m["sha256"], m["size"]) for m in manifest) == (
        before_objects
    )
    with world.session() as s:
        assert _audit(s)[-1][1] == "backup"  # written after the snapshot, so not in it

    restored = cli("restore", dest, **fresh_install.env)
    assert restored.exit_code == 0, restored.output
    assert "6 uploaded and verified" in restored.output
    assert "0 problem(s)" in restored.output

    with engine_for(fresh_install.settings) as engine, Session(engine) as s:
        # Documents and the audit chain as they were, plus one entry for the restore.
        assert _documents(s) == before_docs
        after_audit = _audit(s)
        assert after_audit[: len(before_audit)] == before_audit
        assert [a[1] for a in after_audit[len(before_audit) :]] == ["restore"]
        # Same contents under new version ids, and every reference follows them.
        after_objects = _objects(s)
        assert [(k, h, n) for k, _, h, n in after_objects] == [
            (k, h, n) for k, _, h, n in before_objects
        ]
        assert not {v for _, v, _, _ in after_objects} & {v for _, v, _, _ in before_objects}
        mismatched = s.execute(
            select(FileVersion.id)
            .join(StoredObject, FileVersion.stored_object_id == StoredObject.id)
            .where(FileVersion.s3_version_id != StoredObject.version_id)
        ).all()
        assert mismatched == []
        store = fresh_install.store()
        assert run_verify(VerifyContext(s, store)).clean
        # The original's bytes come back verified; the latest of two versions is still latest.
        version = s.scalars(
            select(FileVersion).join(Document).where(Document.uuid == made["filed"].uuid)
        ).one()
        with store.open(version.s3_key, version.s3_version_id, version.sha256) as reader:
            assert reader.read() == b"%PDF-1.4 Antrag Mueller"
        with store.open("default/test/two-versions") as reader:
            assert reader.read() == b"second version"
        # R25: the new versions carry the retention and the legal hold again.
        closed_version = s.scalars(
            select(FileVersion).join(Document).where(Document.uuid == made["closed"].uuid)
        ).one()
        assert store.get_retention(closed_version.s3_key, closed_version.s3_version_id)
        held = s.scalars(
            select(FileVersion).join(Document).where(Document.uuid == made["filed"].uuid)
        ).one()
        assert store.get_legal_hold(held.s3_key, held.s3_version_id)
        assert not s.scalar(select(Case.id).where(Case.object_lock_pending.is_(True)))
        # The index is rebuilt from the restored database.
        index = whoosh_health(fresh_install.settings.data_dir / "index")
        if HAS_INDEXER:
            assert "index:    rebuilt" in restored.output
            assert index["status"] == "ok" and index["documents"] >= len(before_docs)
        else:
            assert "not rebuilt (no indexer)" in restored.output
            assert s.scalar(select(Document.id).where(Document.index_dirty.is_(False))) is None


@sqlite_only
def test_restore_without_objects_uses_the_bucket_as_it_is(world, cli, fresh_install, tmp_path):
    _installation(world)
    dest = tmp_path / "backup"
    assert cli("backup", dest).exit_code == 0
    assert not (dest / backups.OBJECTS_DIR).exists()
    # The database is lost, the bucket survived: a new database over the same bucket.
    env = {**fresh_install.env, "EAKTE_S3_BUCKET": world.rt.settings.s3.bucket}
    restored = cli("restore", dest, **env)
    assert restored.exit_code == 0, restored.output
    assert "6 found in the bucket as listed" in restored.output
    assert "0 problem(s)" in restored.output


@sqlite_only
def test_restore_without_objects_refuses_when_they_are_missing(world, cli, fresh_install, tmp_path):
    _installation(world)
    dest = tmp_path / "backup"
    assert cli("backup", dest).exit_code == 0
    fresh_install.store().ensure_bucket(create=True)
    refused = cli("restore", dest, **fresh_install.env)
    assert refused.exit_code == ExitCode.integrity, refused.output
    assert "6 of 6 object(s) not in bucket" in refused.output
    with engine_for(fresh_install.settings) as engine, Session(engine) as s:
        assert s.connection().exec_driver_sql("SELECT count(*) FROM sqlite_master").scalar() == 0


@sqlite_only
def test_restore_refuses_a_database_that_is_not_empty(world, cli, env, tmp_path):
    world.inbox_document("Antrag")
    dest = tmp_path / "backup"
    assert cli("backup", dest, "--with-objects").exit_code == 0
    refused = cli("restore", dest)  # into the installation itself
    assert refused.exit_code == ExitCode.conflict
    assert "restore only into an empty database" in refused.output


@sqlite_only
def test_restore_refuses_a_bucket_that_is_not_empty(world, cli, fresh_install, tmp_path):
    world.inbox_document("Antrag")
    dest = tmp_path / "backup"
    assert cli("backup", dest, "--with-objects").exit_code == 0
    env = {**fresh_install.env, "EAKTE_S3_BUCKET": world.rt.settings.s3.bucket}
    refused = cli("restore", dest, **env)
    assert refused.exit_code == ExitCode.conflict
    assert "is not empty" in refused.output and "empty bucket only" in refused.output


@sqlite_only
def test_backup_refuses_a_directory_that_is_not_empty(world, cli, tmp_path):
    dest = tmp_path / "backup"
    dest.mkdir()
    (dest / "old.txt").write_text("an earlier backup")
    refused = cli("backup", dest)
    assert refused.exit_code == ExitCode.conflict
    assert "not an empty directory" in refused.output


@sqlite_only
@pytest.mark.parametrize("damage", ["interrupted", "database", "manifest", "object"])
def test_bad_input_incomplete_or_damaged_backup_refused(
    world, cli, fresh_install, tmp_path, damage
):
    world.inbox_document("Antrag")
    dest = tmp_path / "backup"
    assert cli("backup", dest, "--with-objects").exit_code == 0
    if damage == "interrupted":
        (dest / backups.INFO_FILE).unlink()
    elif damage == "database":
        with (dest / backups.SQLITE_FILE).open("ab") as fh:
            fh.write(b"x")
    elif damage == "manifest":
        (dest / backups.MANIFEST_FILE).write_text("{}\n")
    else:
        for path in (dest / backups.OBJECTS_DIR).rglob("*"):
            if path.is_file():
                path.unlink()
    refused = cli("restore", dest, **fresh_install.env)
    assert refused.exit_code == ExitCode.bad_input, refused.output
    with engine_for(fresh_install.settings) as engine, Session(engine) as s:
        assert s.connection().exec_driver_sql("SELECT count(*) FROM sqlite_master").scalar() == 0


def test_every_column_naming_an_object_version_is_rewritten_on_restore():
    """A model with an S3 version column that restore does not know would point at nothing."""
    known = {(table, column) for table, _, column in backups.VERSION_REFERENCES}
    found = {
        (table.name, column.name)
        for table in Base.metadata.tables.values()
        for column in table.columns
        if column.name.endswith("version_id")
        and not any(isinstance(fk, ForeignKey) for fk in column.foreign_keys)
    }
    assert found == known
