"""What the nightly operations last did, kept in the data dir for ``eakte doctor`` (issue 26).

The fixity check keeps its own report (:func:`eakte.verify.save_report`); a backup leaves
``ops/last-backup.json`` here: when it finished, where it went and whether it succeeded.
"""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

BACKUP_RECORD = Path("ops") / "last-backup.json"
DATED_PREFIX = "eakte-"  # eakte backup --dated DIR: DIR/eakte-20261207T230000Z


def record_backup(data_dir: Path, dest: Path, ok: bool, detail: str = "") -> None:
    """Written atomically after every backup, successful or not."""
    path = data_dir / BACKUP_RECORD
    path.parent.mkdir(parents=True, exist_ok=True)
    body = {
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "dest": str(dest),
        "ok": ok,
        "detail": detail,
    }
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(body, ensure_ascii=False))
    tmp.replace(path)


def last_backup(data_dir: Path) -> dict | None:
    path = data_dir / BACKUP_RECORD
    return json.loads(path.read_text()) if path.exists() else None


def dated_dest(parent: Path, now: datetime | None = None) -> Path:
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    return parent / f"{DATED_PREFIX}{stamp}"


def prune_dated(parent: Path, keep: int) -> list[Path]:
    """Remove all but the newest ``keep`` complete dated backups in ``parent``; an incomplete
    one (no backup.json: a run that failed) older than the newest complete one goes too."""
    dated = sorted(p for p in parent.glob(f"{DATED_PREFIX}*") if p.is_dir())
    complete = [p for p in dated if (p / "backup.json").exists()]
    kept = set(complete[-keep:]) if keep > 0 else set(complete)
    newest = complete[-1] if complete else None
    removed = []
    for path in dated:
        if path in kept or newest is None or path.name > newest.name:
            continue
        shutil.rmtree(path)
        removed.append(path)
    return removed
