"""The files of an import folder: recursive, in a stable order, safe against link loops.

Links are followed (an operator may link in a share), but a directory is entered once, and a
link that leads back to a directory on its own path (a loop) is reported instead of followed.
Hidden files and folders (a leading dot) are skipped; anything that is not a regular file
(a pipe, a device) is reported: reading it could block forever.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from eakte.ingest.names import readable
from eakte.ingest.reasons import Reason, Rejected


@dataclass(frozen=True)
class Entry:
    path: Path  # as found under the root (not resolved)
    relative: str  # '/'-separated, relative to the root
    size: int
    mtime_ns: int
    problem: Rejected | None = None


def walk(root: Path, skip: set[Path] = frozenset()) -> Iterator[Entry]:
    """Every file under ``root``, depth first, names sorted; ``skip``: directories to leave
    out (e.g. the hot folder's done and failed folders)."""
    top = os.stat(root)
    skipped = {(s.st_dev, s.st_ino) for s in (os.stat(p) for p in skip if p.exists())}
    yield from _walk(root, "", ((top.st_dev, top.st_ino),), set(), skipped)


def _walk(directory: Path, prefix: str, ancestors: tuple, seen: set, skipped: set):
    try:
        entries = sorted(os.scandir(directory), key=lambda e: e.name)
    except OSError as exc:
        yield Entry(directory, prefix or ".", 0, 0, _unreadable(exc))
        return
    for entry in entries:
        if entry.name.startswith("."):
            continue
        path, relative = Path(entry.path), f"{prefix}{entry.name}"
        try:
            info = os.stat(entry.path)  # follows links
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                yield Entry(path, relative, 0, 0, _loop(path))
            else:
                yield Entry(path, relative, 0, 0, _unreadable(exc))
            continue
        if stat.S_ISDIR(info.st_mode):
            identity = (info.st_dev, info.st_ino)
            if identity in ancestors:
                yield Entry(path, relative, 0, 0, _loop(path))
            elif identity not in seen and identity not in skipped:
                seen.add(identity)
                yield from _walk(path, f"{relative}/", (*ancestors, identity), seen, skipped)
        elif stat.S_ISREG(info.st_mode):
            yield Entry(path, relative, info.st_size, info.st_mtime_ns)
        else:
            problem = Rejected(Reason.unreadable, "not a regular file (a pipe or device)")
            yield Entry(path, relative, 0, 0, problem)


def _loop(path: Path) -> Rejected:
    try:
        target = readable(os.fsencode(os.readlink(path)))
    except OSError:
        target = "?"
    name = readable(os.fsencode(path.name))
    return Rejected(Reason.symlink_loop, f"the link {name} -> {target} leads in a circle")


def _unreadable(exc: OSError) -> Rejected:
    return Rejected(Reason.unreadable, f"cannot be read: {exc.strerror or exc}")
