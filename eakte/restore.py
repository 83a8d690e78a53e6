"""Restore of a whole installation from a backup (issue 8; the format: ``backup_format``).

Restore rebuilds a *fresh* installation: it refuses a database that has tables (and, when the
backup carries the objects, a bucket that holds any). Objects are re-uploaded (S3 gives them
new version ids: every column naming a version is rewritten, the sha256 stays and is checked
on upload) or, in a backup without objects, must be present in the bucket already. Then the
schema is brought up to this version, the search index is rebuilt and ``eakte verify`` runs.

An operators' command (it needs the installation's credentials, not a user account), written
to the audit trail as done by "system".
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import logging
import re
import sqlite3
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import bindparam, inspect, text, update
from sqlalchemy.engine import make_url

from eakte import audit, schema
from eakte.backup_format import (
    FORMAT,
    FORMAT_VERSION,
    INFO_FILE,
    file_sha256,
    libpq,
    object_path,
    pg_tool,
    read_manifest,
    run_tool,
)
from eakte.db import transaction
from eakte.errors import (
    BackupObjectsMissing,
    BackupUnusable,
    ConfigError,
    RestoreTargetNotEmpty,
)
from eakte.models import Base, Case, CaseStatus, Document
from eakte.ports import retention_port
from eakte.verify import VerifyContext, VerifyReport, run_verify, save_report
from storage.errors import IntegrityError, ObjectNotFound

if TYPE_CHECKING:  # the composition root's container; only its type is named here
    from eakte.runtime import Runtime

log = logging.getLogger(__name__)

# Every column pair that names an S3 object version: (table, key column, version column).
# A restore with objects rewrites them to the new version ids (tests/ops checks that no model
# has a version column missing here).
VERSION_REFERENCES: tuple[tuple[str, str, str], ...] = (
    ("stored_object", "key", "version_id"),
    ("file_version", "s3_key", "s3_version_id"),
    ("destruction_certificate", "pdf_key", "pdf_version_id"),
)

_PG_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]{0,62}$")


@dataclass
class RestoreResult:
    database: str
    backup_created_at: str
    schema_before: str | None
    schema_after: str | None
    objects: int
    with_objects: bool = False
    uploaded: int = 0
    checked_present: int = 0
    reindexed: bool = False
    lock_problems: list[str] = field(default_factory=list)
    verify: VerifyReport = field(default_factory=VerifyReport)


def read_backup(src: Path) -> dict:
    """The backup's description, after checking it is complete and its files are intact."""
    src = Path(src)
    info_path = src / INFO_FILE
    if not info_path.is_file():
        raise BackupUnusable(f"{src} is not a complete eAkte backup (no {INFO_FILE})")
    try:
        info = json.loads(info_path.read_text(encoding="utf-8"))
        ok = info.get("format") == FORMAT and info.get("version") == FORMAT_VERSION
    except (ValueError, AttributeError):
        ok = False
    if not ok:
        raise BackupUnusable(f"{info_path} is not an eAkte backup description this version reads")
    for name, part in (("database", info["database"]), ("manifest", info["manifest"])):
        path = src / part["file"]
        if not path.is_file():
            raise BackupUnusable(f"the backup's {name} file {path} is missing")
        if file_sha256(path) != part["sha256"]:
            raise BackupUnusable(f"the backup's {name} file {path} is damaged (sha256 differs)")
    return info


def restore(
    rt: Runtime, src: Path, *, reapply_locks: Callable[[Runtime], list[str]] | None = None
) -> RestoreResult:
    """Rebuild the fresh installation ``rt`` (empty database; empty bucket when the backup
    carries the objects) from the backup in ``src``, then reindex and verify.

    ``reapply_locks`` (from the composition root: retention/ sits above this module) puts
    retain-until and legal holds on re-uploaded versions before the verify; it returns what
    it could not do, which stays marked for the retention job.
    """
    src = Path(src)
    info = read_backup(src)
    kind = "sqlite" if rt.settings.is_sqlite else "postgresql"
    if info["database"]["kind"] != kind:
        raise BackupUnusable(
            f"the backup holds a {info['database']['kind']} database, "
            f"EAKTE_DATABASE_URL names {kind}: restore into the same kind of database"
        )
    _require_empty_database(rt, info["database"].get("pg_schema"))
    manifest = src / info["manifest"]["file"]
    with_objects = bool(info["objects"]["included"])
    result = RestoreResult(
        database=kind,
        backup_created_at=info["created_at"],
        schema_before=info["database"].get("schema_revision"),
        schema_after=None,
        objects=info["manifest"]["objects"],
        with_objects=with_objects,
    )
    if with_objects:
        _require_object_files(manifest, src / info["objects"]["dir"])
        _require_empty_bucket(rt)
    else:
        rt.store.check_bucket()
        result.checked_present = _require_objects_present(rt, manifest)

    if kind == "sqlite":
        _restore_sqlite(rt, src / info["database"]["file"])
    else:
        _restore_postgres(rt, src / info["database"]["file"], info["database"])
    rt.engine.dispose()  # connections opened before the restore saw an empty database
    if schema.current_revision(rt.engine) is None:
        raise ConfigError(
            "EAKTE_DATABASE_URL: the restored tables are not on the connection's search_path "
            f"(they are in schema {info['database'].get('pg_schema')!r})"
        )
    schema.upgrade(rt.engine)  # a backup of an older version is brought up to this one
    result.schema_after = schema.current_revision(rt.engine)
    log.info("restore: database restored (schema %s)", result.schema_after)

    new_versions: dict[tuple[str, str], str] = {}
    if with_objects:
        new_versions = _upload_objects(rt, manifest, src / info["objects"]["dir"])
        result.uploaded = len(new_versions)
    with rt.session() as session, transaction(session):
        _rewrite_versions(session, new_versions)
        _mark_for_catch_up(session, objects_uploaded=with_objects)
        audit.record(
            session,
            None,
            "restore",
            backup_created_at=info["created_at"],
            objects=result.objects,
            uploaded=result.uploaded,
            schema_before=result.schema_before,
            schema_after=result.schema_after,
        )
    if with_objects and reapply_locks is not None:
        result.lock_problems = reapply_locks(rt)
    result.reindexed = _reindex(rt)
    with rt.session() as session:
        result.verify = run_verify(VerifyContext(session, rt.store))
    save_report(result.verify, rt.settings.data_dir)
    return result


def _require_empty_database(rt: Runtime, pg_schema: str | None) -> None:
    with rt.engine.connect() as conn:
        inspector = inspect(conn)
        tables = inspector.get_table_names()
        if pg_schema and not tables and pg_schema in inspector.get_schema_names():
            tables = inspector.get_table_names(schema=pg_schema)
    if tables:
        raise RestoreTargetNotEmpty(
            f"the database has {len(tables)} table(s) ({', '.join(sorted(tables)[:5])}, ...): "
            "restore only into an empty database"
        )


def _require_empty_bucket(rt: Runtime) -> None:
    rt.store.ensure_bucket(create=True)
    first = next(iter(rt.store.list(versions=True)), None)
    if first is not None:
        raise RestoreTargetNotEmpty(
            f"bucket {rt.store.bucket!r} is not empty (it holds {first.key!r}): the backup's "
            "objects go into an empty bucket only"
        )


def _require_object_files(manifest: Path, objects_dir: Path) -> None:
    missing = [
        entry.key
        for entry in read_manifest(manifest)
        if not object_path(objects_dir, entry.sha256).is_file()
    ]
    if missing:
        raise BackupUnusable(
            f"{len(missing)} object file(s) missing in {objects_dir}, e.g. for {missing[0]!r}"
        )


def _require_objects_present(rt: Runtime, manifest: Path) -> int:
    """A backup without objects needs every listed version in the bucket, as listed."""
    problems, checked = [], 0
    for entry in read_manifest(manifest):
        checked += 1
        try:
            stat = rt.store.stat(entry.key, entry.version_id)
        except ObjectNotFound:
            problems.append(f"{entry.key}@{entry.version_id}: missing")
            continue
        if stat.sha256 != entry.sha256 or stat.size != entry.size:
            problems.append(f"{entry.key}@{entry.version_id}: sha256 or size differs")
    if problems:
        shown = "; ".join(problems[:10])
        raise BackupObjectsMissing(
            f"{len(problems)} of {checked} object(s) not in bucket {rt.store.bucket!r} as the "
            f"backup lists them: {shown} (restore from a backup made --with-objects)"
        )
    return checked


def _restore_sqlite(rt: Runtime, snapshot: Path) -> None:
    path = make_url(rt.settings.database_url).database
    if not path or path == ":memory:":
        raise ConfigError("EAKTE_DATABASE_URL: restore needs a SQLite database file")
    rt.engine.dispose()
    source = sqlite3.connect(f"file:{snapshot}?mode=ro", uri=True)
    try:
        target = sqlite3.connect(path)
        try:
            source.backup(target)
        finally:
            target.close()
    finally:
        source.close()


def _restore_postgres(rt: Runtime, dump: Path, database: dict) -> None:
    tool = pg_tool("pg_restore")
    pg_schema = database["pg_schema"]
    extensions = database.get("pg_extensions", [])
    for name in (pg_schema, *extensions):
        if not _PG_NAME.match(name):
            raise BackupUnusable(f"the backup names an invalid schema or extension {name!r}")
    # pg_dump --schema leaves out what the schema depends on: the schema itself (which may
    # exist already, like "public") and extensions. Both are created here; the dump's own
    # CREATE SCHEMA is skipped through a filtered table of contents.
    with rt.engine.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{pg_schema}"'))
        for name in extensions:
            conn.execute(text(f'CREATE EXTENSION IF NOT EXISTS "{name}"'))
    uri, env = libpq(rt.settings.database_url)
    listing = run_tool([tool, "--list", str(dump)], env)
    kept = [
        line
        for line in listing.splitlines()
        if not re.match(r"^\d+; \d+ \d+ (SCHEMA - |COMMENT - SCHEMA )\S+ ", line)
    ]
    with tempfile.TemporaryDirectory(prefix="eakte-restore-") as tmp:
        toc = Path(tmp) / "toc.list"
        toc.write_text("\n".join(kept) + "\n")
        run_tool(
            [
                tool,
                "--no-owner",
                "--no-privileges",
                "--exit-on-error",
                "--single-transaction",
                f"--use-list={toc}",
                f"--dbname={uri}",
                str(dump),
            ],
            env,
        )


def _upload_objects(rt: Runtime, manifest: Path, objects_dir: Path) -> dict[tuple[str, str], str]:
    """Upload every listed version in the original order; return old → new version ids."""
    new_versions: dict[tuple[str, str], str] = {}
    for entry in read_manifest(manifest):
        stored = rt.store.put_file(
            entry.key,
            object_path(objects_dir, entry.sha256),
            content_type=entry.content_type,
            sha256=entry.sha256,  # hashed while uploading: a damaged file is refused
        )
        if stored.size != entry.size:
            raise IntegrityError(
                entry.key, stored.version_id, entry.sha256, stored.sha256, "size differs"
            )
        new_versions[(entry.key, entry.version_id)] = stored.version_id or ""
        if len(new_versions) % 1000 == 0:
            log.info("restore: %d objects uploaded", len(new_versions))
    return new_versions


def _rewrite_versions(session, new_versions: dict[tuple[str, str], str]) -> None:
    if not new_versions:
        return
    params = [{"k": key, "old": old, "new": new} for (key, old), new in new_versions.items()]
    for table_name, key_column, version_column in VERSION_REFERENCES:
        table = Base.metadata.tables[table_name]
        statement = (
            update(table)
            .where(table.c[key_column] == bindparam("k"))
            .where(table.c[version_column] == bindparam("old"))
            .values({version_column: bindparam("new")})
        )
        session.connection().execute(statement, params)


def _mark_for_catch_up(session, *, objects_uploaded: bool) -> None:
    """The index of the old installation is gone; new object versions carry no locks yet."""
    session.execute(update(Document).values(index_dirty=True))
    session.execute(update(Case).values(index_dirty=True))
    if objects_uploaded:
        # R25: the retention job re-applies retain-until and legal holds to the new versions.
        session.execute(
            update(Case)
            .where(Case.status == CaseStatus.closed.value)
            .values(object_lock_pending=True)
        )
        retention_port(session).mark_holds_for_sync(session)


def _reindex(rt: Runtime) -> bool:
    if importlib.util.find_spec("eakte.services.indexer") is None:
        log.warning("restore: no search indexer in this version; the index was not rebuilt")
        return False
    importlib.import_module("eakte.services.indexer").reindex(rt)
    return True
