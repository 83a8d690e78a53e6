"""Working files left behind by a crash. Intake and processing remove their own files on every
way out but one: a killed process (SIGKILL, OOM) leaves its ``intake-*`` file or ``doc-*``
folder in the spool, a copy of a scan each time. Recovery sweeps what is older than any live
job could be (several processes and hosts may share a data dir, so age is what decides)."""

from __future__ import annotations

import logging
import shutil
import time
from datetime import timedelta
from pathlib import Path

log = logging.getLogger(__name__)

LEFT_BEHIND_AFTER = timedelta(days=1)
_PREFIXES = ("intake-", "doc-", "rescan-")  # see services.intake, ingest.process, scanning


def sweep(spool: Path, older_than: timedelta = LEFT_BEHIND_AFTER) -> int:
    """Remove working files of crashed attempts; returns how many."""
    cutoff = time.time() - older_than.total_seconds()
    removed = 0
    try:
        entries = list(spool.iterdir())
    except OSError:
        return 0
    for entry in entries:
        if not entry.name.startswith(_PREFIXES):
            continue
        try:
            if entry.lstat().st_mtime > cutoff:
                continue
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
        except OSError as exc:  # another sweeper was quicker, or it is in use elsewhere
            log.debug("spool: %s not removed: %s", entry, exc)
            continue
        removed += 1
    if removed:
        log.info("spool: removed %d working file(s) left by crashed attempts", removed)
    return removed
