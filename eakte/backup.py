"""Backup and restore of a whole installation (issue 8).

A backup is a directory:

- ``database.sqlite`` (SQLite's online backup API) or ``database.pgdump`` (``pg_dump`` custom
  format of eAkte's schema): a consistent snapshot;
- ``manifest.jsonl``: one JSON line per stored object (key, version id, sha256, size, content
  type), read from the ``stored_object`` table *of that snapshot*, so database and manifest
  agree (on PostgreSQL pg_dump runs in a snapshot exported by the transaction that reads it);
- with ``--with-objects``, ``objects/<sha256[:2]>/<sha256>``: each distinct content once,
  streamed from S3 and verified against its sha256 before it is kept;
- ``backup.json``, written last: formats, hashes of the two files above, counts. A directory
  without it is an interrupted backup and is refused by restore.

Restore rebuilds a *fresh* installation: it refuses a database that has tables (and, when the
backup carries the objects, a bucket that holds any). Objects are re-uploaded (S3 gives them
new version ids: every column naming a version is rewritten, the sha256 stays and is checked
on upload) or, in a backup without objects, must be present in the bucket already. Then the
schema is brought up to this version, the search index is rebuilt and ``eakte verify`` runs.

Backup and restore are operators' commands (they need the installation's credentials, not a
user account); both are written to the audit trail as done by "system".
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import json
import logging
import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from sqlalchemy import bindparam, create_engine, inspect, select, text, update
from sqlalchemy.engine import Connection, Engine, make_url

from eakte import audit, schema
from eakte.db import transaction
from eakte.errors import (
    BackupObjectsMissing,
    BackupTargetNotEmpty,
    BackupUnusable,
    ConfigError,
    ExternalToolFailed,
    RestoreTargetNotEmpty,
)
from eakte.models import Base, Case, CaseStatus, Document, StoredObject
from eakte.ports import retention_port
from eakte.runtime import Runtime
from eakte.verify import VerifyContext, VerifyReport, run_verify, save_report
from storage.errors import IntegrityError, ObjectNotFound

log = logging.getLogger(__name__)

FORMAT = "eakte-backup"
FORMAT_VERSION = 1
INFO_FILE = "backup.json"
MANIFEST_FILE = "manifest.jsonl"
SQLITE_FILE = "database.sqlite"
PGDUMP_FILE = "database.pgdump"
OBJECTS_DIR = "objects"

# Every column pair that names an S3 object version: (table, key column, version column).
# A restore with objects rewrites them to the new version ids (tests/ops checks that no model
# has a version column missing here).
VERSION_REFERENCES: tuple[tuple[str, str, str], ...] = (
    ("stored_object", "key", "version_id"),
    ("file_version", "s3_key", "s3_version_id"),
    ("destruction_certificate", "pdf_key", "pdf_version_id"),
)

_SHA256 = re.compile(r"^[0-9a-f]{64}$")  # also names the file under objects/
_PG_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]{0,62}$")
_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class ManifestEntry:
    key: str
    version_id: str
    sha256: str
    size: int
    content_type: str

    def line(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, separators=(",", ":")) + "\n"


@dataclass
class BackupResult:
    dest: Path
    database: str
    schema_revision: str | None
    objects: int  # manifest entries
    object_bytes: int
    with_objects: bool
    files_copied: int = 0  # distinct contents written to objects/


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


# ---------------------------------------------------------------------------------- backup


def backup(rt: Runtime, dest: Path, *, with_objects: bool = False) -> BackupResult:
    """Write a backup of the installation ``rt`` into the empty or new directory ``dest``."""
    dest = Path(dest)
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise BackupTargetNotEmpty(f"{dest} is not an empty directory: choose a new one")
    dest.mkdir(parents=True, exist_ok=True)
    manifest = dest / MANIFEST_FILE
    database: dict = {"kind": "sqlite" if rt.settings.is_sqlite else "postgresql"}
    if rt.settings.is_sqlite:
        _sqlite_snapshot(rt.engine, dest / SQLITE_FILE)
        snapshot = create_engine(f"sqlite:///{dest / SQLITE_FILE}")
        try:
            with snapshot.connect() as conn:
                count, size = _write_manifest(conn, manifest)
                database["schema_revision"] = _revision(conn)
        finally:
            snapshot.dispose()
        database["file"] = SQLITE_FILE
    else:
        database.update(_pg_dump_with_manifest(rt, dest / PGDUMP_FILE, manifest))
        count, size = database.pop("objects"), database.pop("bytes")
        database["file"] = PGDUMP_FILE
    database["sha256"] = _file_sha256(dest / database["file"])
    log.info("backup: database snapshot and manifest of %d objects written", count)

    files_copied = _copy_objects(rt, manifest, dest / OBJECTS_DIR) if with_objects else 0
    info = {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "eakte_version": _eakte_version(),
        "database": database,
        "manifest": {
            "file": MANIFEST_FILE,
            "sha256": _file_sha256(manifest),
            "objects": count,
            "bytes": size,
        },
        "objects": {"included": with_objects, "dir": OBJECTS_DIR, "files": files_copied},
    }
    _write_json_atomically(dest / INFO_FILE, info)
    with rt.session() as session, transaction(session):
        audit.record(
            session,
            None,
            "backup",
            objects=count,
            with_objects=with_objects,
            schema_revision=database.get("schema_revision"),
        )
    return BackupResult(
        dest=dest,
        database=database["kind"],
        schema_revision=database.get("schema_revision"),
        objects=count,
        object_bytes=size,
        with_objects=with_objects,
        files_copied=files_copied,
    )


def _sqlite_snapshot(engine: Engine, target: Path) -> None:
    """SQLite's online backup: a consistent copy while writers carry on."""
    raw = engine.raw_connection()
    try:
        out = sqlite3.connect(target)
        try:
            raw.driver_connection.backup(out)
            # A self-contained file: no -wal/-shm beside it when it is read later.
            out.execute("PRAGMA journal_mode=DELETE")
        finally:
            out.close()
    finally:
        raw.close()


def _pg_dump_with_manifest(rt: Runtime, dump: Path, manifest: Path) -> dict:
    """pg_dump and the manifest from one snapshot: the transaction that reads the manifest
    exports its snapshot and pg_dump imports it."""
    tool = _tool("pg_dump")
    uri, env = _libpq(rt.settings.database_url)
    with rt.engine.connect() as conn:
        conn = conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            snapshot_id = conn.scalar(text("SELECT pg_export_snapshot()"))
            pg_schema = conn.scalar(text("SELECT current_schema()"))
            extensions = list(
                conn.scalars(text("SELECT extname FROM pg_extension WHERE extname <> 'plpgsql'"))
            )
            _run(
                [
                    tool,
                    "--format=custom",
                    f"--snapshot={snapshot_id}",
                    f"--schema={pg_schema}",
                    # The PostgreSQL search tables are a projection, rebuilt on restore.
                    *(f"--exclude-table={pg_schema}.{table}" for table in schema.SEARCH_TABLES),
                    f"--file={dump}",
                    f"--dbname={uri}",
                ],
                env,
            )
            count, size = _write_manifest(conn, manifest)
            revision = _revision(conn)
    return {
        "schema_revision": revision,
        "pg_schema": pg_schema,
        "pg_extensions": sorted(extensions),
        "objects": count,
        "bytes": size,
    }


def _write_manifest(conn: Connection, path: Path) -> tuple[int, int]:
    query = select(
        StoredObject.key,
        StoredObject.version_id,
        StoredObject.sha256,
        StoredObject.size,
        StoredObject.content_type,
    ).order_by(StoredObject.id)  # upload order on restore: the latest version stays latest
    count = size = 0
    with path.open("w", encoding="utf-8") as out:
        for row in conn.execution_options(yield_per=1000).execute(query):
            out.write(ManifestEntry(*row).line())
            count += 1
            size += row.size
    return count, size


def _revision(conn: Connection) -> str | None:
    return conn.scalar(text("SELECT version_num FROM alembic_version"))


def _copy_objects(rt: Runtime, manifest: Path, objects_dir: Path) -> int:
    """Each distinct content once, streamed to disk and kept only once its sha256 matched."""
    copied = 0
    for entry in read_manifest(manifest):
        path = object_path(objects_dir, entry.sha256)
        if path.exists():
            continue  # the same bytes under another key or version: verified when written
        path.parent.mkdir(parents=True, exist_ok=True)
        rt.store.get_to_file(entry.key, path, entry.version_id, expected_sha256=entry.sha256)
        copied += 1
        if copied % 1000 == 0:
            log.info("backup: %d objects copied", copied)
    return copied


def object_path(objects_dir: Path, sha256: str) -> Path:
    return objects_dir / sha256[:2] / sha256


def read_manifest(path: Path) -> Iterator[ManifestEntry]:
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            try:
                entry = ManifestEntry(**json.loads(line))
                if not _SHA256.match(entry.sha256):
                    raise ValueError("sha256 is not 64 hex digits")
            except (TypeError, ValueError) as exc:
                raise BackupUnusable(
                    f"{path}, line {number}: not a manifest entry ({exc})"
                ) from None
            yield entry


# --------------------------------------------------------------------------------- restore


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
        if _file_sha256(path) != part["sha256"]:
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
    tool = _tool("pg_restore")
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
    uri, env = _libpq(rt.settings.database_url)
    listing = _run([tool, "--list", str(dump)], env)
    kept = [
        line
        for line in listing.splitlines()
        if not re.match(r"^\d+; \d+ \d+ (SCHEMA - |COMMENT - SCHEMA )\S+ ", line)
    ]
    with tempfile.TemporaryDirectory(prefix="eakte-restore-") as tmp:
        toc = Path(tmp) / "toc.list"
        toc.write_text("\n".join(kept) + "\n")
        _run(
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


# --------------------------------------------------------------------------------- helpers


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise ExternalToolFailed(
            f"{name} is not installed: install Debian's postgresql-client package"
        )
    return path


def _libpq(url: str) -> tuple[str, dict[str, str]]:
    """A libpq URI for pg_dump/pg_restore; the password goes in the environment, never on a
    command line that other users can read."""
    parsed = make_url(url)
    env = {**os.environ}
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)
    plain = parsed.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _run(command: list[str], env: dict[str, str]) -> str:
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        tool = Path(command[0]).name
        detail = (done.stderr or done.stdout).strip().splitlines()
        raise ExternalToolFailed(
            f"{tool} failed (exit {done.returncode}): {' / '.join(detail[-3:]) or 'no output'}"
        )
    return done.stdout


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while data := fh.read(_CHUNK):
            digest.update(data)
    return digest.hexdigest()


def _write_json_atomically(path: Path, body: dict) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(body, ensure_ascii=False, indent=1), encoding="utf-8")
    tmp.replace(path)


def _eakte_version() -> str:
    try:
        return version("eakte")
    except PackageNotFoundError:
        return "unknown"
