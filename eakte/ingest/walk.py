"""The files of an import folder: recursive, in a stable order, safe against link loops.

Links inside the folder are followed (an operator may link in a sub-folder), but a directory
is entered once, and a link that leads back to a directory on its own path (a loop) is
reported instead of followed. A link that leads out of the folder (to ``/etc``, to eAkte's data
dir, via ``..``) is never followed: it is reported, so that its target's bytes are never read.
eAkte's own data dir (``protected``) is never read either, not even when it lies inside the
folder or one of its files is hard-linked into it; a folder inside the data dir is refused as
a whole. Hidden files and folders (a leading dot) are skipped; anything that is not a regular
file (a pipe, a device) is reported: reading it could block forever.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterable, Iterator
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from pathlib import Path

from eakte.errors import BadInput
from eakte.ingest.names import readable
from eakte.ingest.reasons import Reason, Rejected


@dataclass(frozen=True)
class Entry:
    path: Path  # as found under the root (not resolved)
    relative: str  # '/'-separated, relative to the root
    size: int
    mtime_ns: int
    problem: Rejected | None = None


def walk(
    root: Path, skip: AbstractSet[Path] = frozenset(), protected: Iterable[Path] = ()
) -> Iterator[Entry]:
    """Every file under ``root``, depth first, names sorted; ``skip``: directories to leave
    out (e.g. the hot folder's done and failed folders); ``protected``: directories never to
    read (eAkte's data dir). Raises ``BadInput`` if ``root`` lies inside a protected one."""
    top = os.stat(root)
    fence = _Fence(Path(os.path.realpath(root)), protected)
    skipped = {(s.st_dev, s.st_ino) for s in (os.stat(p) for p in skip if p.exists())}
    yield from _walk(root, "", ((top.st_dev, top.st_ino),), set(), skipped, fence)


class _Fence:
    """Where a walk may go: inside the real root, outside every protected directory."""

    def __init__(self, root: Path, protected: Iterable[Path]):
        self.root = root
        self.protected = [Path(os.path.realpath(p)) for p in protected]
        for guarded in self.protected:
            if root == guarded or guarded in root.parents:
                raise BadInput(f"{root} lies inside eAkte's data directory: it is never imported")
        self.protected_ids = {
            (info.st_dev, info.st_ino) for info in (_stat(p) for p in self.protected) if info
        }
        self._linked: set[tuple[int, int]] | None = None  # hard-linked files in protected dirs

    def problem(self, path: Path, info: os.stat_result) -> Rejected | None:
        """Why ``path`` (as found, maybe a link) must not be read; None if it may."""
        if (info.st_dev, info.st_ino) in self.protected_ids:
            return _protected(path)
        real = Path(os.path.realpath(path))
        if real != self.root and self.root not in real.parents:
            return _outside(path)
        if any(real == guarded or guarded in real.parents for guarded in self.protected):
            return _protected(path)
        if stat.S_ISREG(info.st_mode) and info.st_nlink > 1 and self._hard_linked(info):
            name = readable(os.fsencode(path.name))
            return Rejected(Reason.link_outside, f"{name} is a file of eAkte's data directory")
        return None

    def _hard_linked(self, info: os.stat_result) -> bool:
        # A hard link shows no target: only its inode tells it is a file of the data dir.
        # Looked up once per walk, and only when the folder holds a file with several links.
        if self._linked is None:
            self._linked = set()
            for guarded in self.protected:
                for folder, _dirs, files in os.walk(guarded):
                    for name in files:
                        found = _lstat(os.path.join(folder, name))
                        if found and stat.S_ISREG(found.st_mode) and found.st_nlink > 1:
                            self._linked.add((found.st_dev, found.st_ino))
        return (info.st_dev, info.st_ino) in self._linked


def _stat(path: Path) -> os.stat_result | None:
    try:
        return os.stat(path)
    except OSError:
        return None


def _lstat(path: str) -> os.stat_result | None:
    try:
        return os.lstat(path)
    except OSError:
        return None


def _walk(directory: Path, prefix: str, ancestors: tuple, seen: set, skipped: set, fence):
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
        fenced = fence.problem(path, info)
        if fenced is not None:
            yield Entry(path, relative, 0, 0, fenced)
        elif stat.S_ISDIR(info.st_mode):
            identity = (info.st_dev, info.st_ino)
            if identity in ancestors:
                yield Entry(path, relative, 0, 0, _loop(path))
            elif identity not in seen and identity not in skipped:
                seen.add(identity)
                yield from _walk(path, f"{relative}/", (*ancestors, identity), seen, skipped, fence)
        elif stat.S_ISREG(info.st_mode):
            yield Entry(path, relative, info.st_size, info.st_mtime_ns)
        else:
            problem = Rejected(Reason.unreadable, "not a regular file (a pipe or device)")
            yield Entry(path, relative, 0, 0, problem)


def _target(path: Path) -> str:
    try:
        return readable(os.fsencode(os.readlink(path)))
    except OSError:
        return "?"


def _loop(path: Path) -> Rejected:
    name = readable(os.fsencode(path.name))
    return Rejected(Reason.symlink_loop, f"the link {name} -> {_target(path)} leads in a circle")


def _outside(path: Path) -> Rejected:
    name = readable(os.fsencode(path.name))
    return Rejected(
        Reason.link_outside,
        f"the link {name} -> {_target(path)} leads out of the folder; not followed, not read",
    )


def _protected(path: Path) -> Rejected:
    name = readable(os.fsencode(path.name))
    return Rejected(Reason.link_outside, f"{name} is eAkte's own data directory; not read")


def _unreadable(exc: OSError) -> Rejected:
    return Rejected(Reason.unreadable, f"cannot be read: {exc.strerror or exc}")
