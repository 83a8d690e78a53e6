"""A hot folder for network scanners: a file is taken only once it is complete.

A scanner writes a file over seconds (or writes it under a temporary name and renames it). A
file counts as complete when its size and modification time have not changed between two
scans at least ``interval`` apart and it has not been modified for ``interval`` seconds.
Hidden and temporary names (``.x``, ``x.tmp``, ``x.part``, ``~x``) are never taken. After
intake it is moved to ``done/`` (accepted, duplicate, already in) or ``failed/`` (quarantined,
with a ``.reason.txt`` beside it); a file that could not be taken in because storage or the
database is away stays where it is for the next round.

A link that leads out of the hot folder (or into eAkte's data dir) is never followed: it goes to
``failed/`` itself, with its reason. A network share has bad moments: a file that cannot be
read, or a link that leads in a circle, goes to ``failed/`` only when found so in two rounds
running; a folder that cannot be read (or the hot folder itself) is never moved, only
reported, and looked at again next round.
"""

from __future__ import annotations

import logging
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from eakte.ingest.reasons import Reason
from eakte.ingest.walk import Entry, walk

log = logging.getLogger(__name__)

TEMPORARY_SUFFIXES = (".tmp", ".part", ".partial", ".crdownload", ".lock")


@dataclass
class HotFolder:
    root: Path
    interval: float
    done: Path | None = None
    failed: Path | None = None
    protected: tuple[Path, ...] = ()  # never read (eAkte's data dir)
    _last: dict[Path, tuple] = field(default_factory=dict)
    _unreadable: set[Path] = field(default_factory=set)  # folders reported, until readable

    def __post_init__(self):
        self.done = self.done or self.root / "done"
        self.failed = self.failed or self.root / "failed"
        self.done.mkdir(parents=True, exist_ok=True)
        self.failed.mkdir(parents=True, exist_ok=True)

    def complete_files(self, now: float | None = None) -> list[Entry]:
        """Files unchanged since the previous call and idle for ``interval`` seconds."""
        now = time.time() if now is None else now
        ready, current, unreadable = [], {}, set()
        try:
            for entry in walk(self.root, set(self._settled()), self.protected):
                if entry.problem is None and _temporary(entry.path.name):
                    continue
                if entry.problem is not None and _unreadable_folder(entry):
                    unreadable.add(entry.path)
                    if entry.path not in self._unreadable:
                        log.warning("hot folder: cannot read %s: %s", entry.path, entry.problem)
                    continue
                problem = entry.problem.code if entry.problem else None
                signature = (entry.size, entry.mtime_ns, problem)
                current[entry.path] = signature
                idle = now - entry.mtime_ns / 1e9 >= self.interval
                if self._last.get(entry.path) == signature and idle:
                    ready.append(entry)
        except OSError as exc:  # the hot folder itself is away (an unmounted share)
            log.warning("hot folder %s cannot be read: %s", self.root, exc)
            return []
        self._last, self._unreadable = current, unreadable
        return ready

    def settle(self, entry: Entry, accepted: bool, reason: str = "") -> Path:
        """Move a taken file out of the way; returns where it went."""
        done, failed = self._settled()
        target_dir = done if accepted else failed
        target = _free_name(target_dir, entry.path.name)
        shutil.move(entry.path, target)  # done/ may be on another file system
        if not accepted and reason:
            target.with_name(target.name + ".reason.txt").write_text(reason + "\n")
        self._last.pop(entry.path, None)
        return target

    def _settled(self) -> tuple[Path, Path]:
        """``done`` and ``failed``, always set once ``__post_init__`` has run."""
        assert self.done is not None and self.failed is not None
        return self.done, self.failed


def _unreadable_folder(entry: Entry) -> bool:
    """A folder of ours that could not be read (looked at again next round); a link that
    leads out of the hot folder is not one: it goes to ``failed/`` like a bad file."""
    if entry.problem is None or entry.problem.code == Reason.link_outside:
        return False
    try:
        return entry.path.is_dir()
    except OSError:
        return False


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
