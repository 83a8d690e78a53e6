"""A hot folder for network scanners: a file is taken only once it is complete.

A scanner writes a file over seconds (or writes it under a temporary name and renames it). A
file counts as complete when its size and modification time have not changed between two
scans at least ``interval`` apart and it has not been modified for ``interval`` seconds.
Hidden and temporary names (``.x``, ``x.tmp``, ``x.part``, ``~x``) are never taken. After
intake it is moved to ``done/`` (accepted, duplicate, already in) or ``failed/`` (quarantined,
with a ``.reason.txt`` beside it); a file that could not be taken in because storage or the
database is away stays where it is for the next round.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from eakte.ingest.walk import Entry, walk

TEMPORARY_SUFFIXES = (".tmp", ".part", ".partial", ".crdownload", ".lock")


@dataclass
class HotFolder:
    root: Path
    interval: float
    done: Path | None = None
    failed: Path | None = None
    _last: dict[Path, tuple[int, int]] = field(default_factory=dict)

    def __post_init__(self):
        self.done = self.done or self.root / "done"
        self.failed = self.failed or self.root / "failed"
        self.done.mkdir(parents=True, exist_ok=True)
        self.failed.mkdir(parents=True, exist_ok=True)

    def complete_files(self, now: float | None = None) -> list[Entry]:
        """Files unchanged since the previous call and idle for ``interval`` seconds."""
        now = time.time() if now is None else now
        ready, current = [], {}
        for entry in walk(self.root, skip={self.done, self.failed}):
            if entry.problem is None and _temporary(entry.path.name):
                continue
            signature = (entry.size, entry.mtime_ns)
            current[entry.path] = signature
            idle = now - entry.mtime_ns / 1e9 >= self.interval
            if entry.problem is not None or (self._last.get(entry.path) == signature and idle):
                ready.append(entry)
        self._last = current
        return ready

    def settle(self, entry: Entry, accepted: bool, reason: str = "") -> Path:
        """Move a taken file out of the way; returns where it went."""
        target_dir = self.done if accepted else self.failed
        target = _free_name(target_dir, entry.path.name)
        os.replace(entry.path, target)
        if not accepted and reason:
            target.with_name(target.name + ".reason.txt").write_text(reason + "\n")
        self._last.pop(entry.path, None)
        return target


def _temporary(name: str) -> bool:
    return name.startswith(("~", ".")) or name.lower().endswith(TEMPORARY_SUFFIXES)


def _free_name(directory: Path, name: str) -> Path:
    target = directory / name
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    number = 1
    while target.exists() or target.is_symlink():
        target = directory / (f"{stem}-{number}.{ext}" if ext else f"{stem}-{number}")
        number += 1
    return target
