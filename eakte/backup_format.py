"""The backup directory (issue 8), as ``eakte.backup`` writes it and ``eakte.restore`` reads it.

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

Also here: the PostgreSQL client tools both halves run (``pg_dump``, ``pg_restore``).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

from eakte.errors import (
    BackupUnusable,
    ExternalToolFailed,
)

SHA256 = re.compile(r"^[0-9a-f]{64}$")  # also names the file under objects/
_CHUNK = 1024 * 1024

FORMAT = "eakte-backup"
FORMAT_VERSION = 1
INFO_FILE = "backup.json"
MANIFEST_FILE = "manifest.jsonl"
SQLITE_FILE = "database.sqlite"
PGDUMP_FILE = "database.pgdump"
OBJECTS_DIR = "objects"


@dataclass(frozen=True)
class ManifestEntry:
    key: str
    version_id: str
    sha256: str
    size: int
    content_type: str

    def line(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, separators=(",", ":")) + "\n"


def object_path(objects_dir: Path, sha256: str) -> Path:
    return objects_dir / sha256[:2] / sha256


def read_manifest(path: Path) -> Iterator[ManifestEntry]:
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            try:
                entry = ManifestEntry(**json.loads(line))
                if not SHA256.match(entry.sha256):
                    raise ValueError("sha256 is not 64 hex digits")
            except (TypeError, ValueError) as exc:
                raise BackupUnusable(
                    f"{path}, line {number}: not a manifest entry ({exc})"
                ) from None
            yield entry


def pg_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise ExternalToolFailed(
            f"{name} is not installed: install Debian's postgresql-client package"
        )
    return path


def libpq(url: str) -> tuple[str, dict[str, str]]:
    """A libpq URI for pg_dump/pg_restore; the password goes in the environment, never on a
    command line that other users can read."""
    parsed = make_url(url)
    env = {**os.environ}
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)
    plain = parsed.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def run_tool(command: list[str], env: dict[str, str]) -> str:
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        tool = Path(command[0]).name
        detail = (done.stderr or done.stdout).strip().splitlines()
        raise ExternalToolFailed(
            f"{tool} failed (exit {done.returncode}): {' / '.join(detail[-3:]) or 'no output'}"
        )
    return done.stdout


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while data := fh.read(_CHUNK):
            digest.update(data)
    return digest.hexdigest()
