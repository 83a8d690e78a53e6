"""Backup of a whole installation (issue 8): the directory described in
:mod:`eakte.backup_format`, which :mod:`eakte.restore` reads back.

An operators' command (it needs the installation's credentials, not a user account), written
to the audit trail as done by "system".
"""

from __future__ import annotations

import json
import logging
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import Connection, Engine

from eakte import audit, schema
from eakte.backup_format import (
    FORMAT,
    FORMAT_VERSION,
    INFO_FILE,
    MANIFEST_FILE,
    OBJECTS_DIR,
    PGDUMP_FILE,
    SQLITE_FILE,
    ManifestEntry,
    file_sha256,
    libpq,
    object_path,
    pg_tool,
    read_manifest,
    run_tool,
)
from eakte.db import transaction
from eakte.errors import (
    BackupTargetNotEmpty,
)
from eakte.models import StoredObject

if TYPE_CHECKING:  # the composition root's container; only its type is named here
    from eakte.runtime import Runtime

log = logging.getLogger(__name__)


@dataclass
class BackupResult:
    dest: Path
    database: str
    schema_revision: str | None
    objects: int  # manifest entries
    object_bytes: int
    with_objects: bool
    files_copied: int = 0  # distinct contents written to objects/


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
    database["sha256"] = file_sha256(dest / database["file"])
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
            "sha256": file_sha256(manifest),
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
            source = raw.driver_connection
            if not isinstance(source, sqlite3.Connection):
                raise TypeError("a SQLite snapshot needs a SQLite database")
            source.backup(out)
            # A self-contained file: no -wal/-shm beside it when it is read later.
            out.execute("PRAGMA journal_mode=DELETE")
        finally:
            out.close()
    finally:
        raw.close()


def _pg_dump_with_manifest(rt: Runtime, dump: Path, manifest: Path) -> dict:
    """pg_dump and the manifest from one snapshot: the transaction that reads the manifest
    exports its snapshot and pg_dump imports it."""
    tool = pg_tool("pg_dump")
    uri, env = libpq(rt.settings.database_url)
    with rt.engine.connect() as conn:
        conn = conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            snapshot_id = conn.scalar(text("SELECT pg_export_snapshot()"))
            pg_schema = conn.scalar(text("SELECT current_schema()"))
            extensions = list(
                conn.scalars(text("SELECT extname FROM pg_extension WHERE extname <> 'plpgsql'"))
            )
            run_tool(
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


def _write_json_atomically(path: Path, body: dict) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(body, ensure_ascii=False, indent=1), encoding="utf-8")
    tmp.replace(path)


def _eakte_version() -> str:
    try:
        return version("eakte")
    except PackageNotFoundError:
        return "unknown"
