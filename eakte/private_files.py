"""The data dir is private to the service user: 0700 folders, 0600 files (issue 13, finding 6).

It holds the text of every document (index, previews, spool), the database with password
hashes, the S3 credentials and keys: no other local user may read any of it. New files are
private through the process umask (set where the data dir is opened, inherited by every
child such as the embedded SeaweedFS); ``tighten`` repairs an installation made before that.
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

PRIVATE_UMASK = 0o077
DIR_MODE = 0o700
_OTHERS = 0o077  # group and world bits


@dataclass(frozen=True)
class LoosePath:
    path: Path
    mode: int  # permission bits only

    @property
    def wanted(self) -> int:
        """0700 for folders; files keep the owner's bits (0600, or 0700 if executable)."""
        return DIR_MODE if stat.S_ISDIR(self.mode) else stat.S_IMODE(self.mode) & ~_OTHERS

    def describe(self) -> str:
        return f"{self.path} {stat.S_IMODE(self.mode):04o} -> {self.wanted:04o}"


def use_private_umask() -> None:
    """Everything this process (and its children) creates from now on is the owner's only."""
    os.umask(PRIVATE_UMASK)


def make_private_dir(path: Path) -> None:
    """``path`` 0700 unless it is someone else's (then verify reports it)."""
    if stat.S_IMODE(path.stat().st_mode) != DIR_MODE:
        with contextlib.suppress(PermissionError):
            path.chmod(DIR_MODE)


def loose_paths(root: Path) -> Iterator[LoosePath]:
    """``root`` and everything beneath it that group or others may access (symlinks are not
    followed: their own mode means nothing and their target may be outside)."""
    stack = [root]
    while stack:
        path = stack.pop()
        try:
            info = path.lstat()
        except FileNotFoundError:
            continue  # removed while we walked (spool, previews)
        if stat.S_ISLNK(info.st_mode):
            continue
        if stat.S_ISDIR(info.st_mode):
            if stat.S_IMODE(info.st_mode) != DIR_MODE:
                yield LoosePath(path, info.st_mode)
            try:
                stack.extend(path.iterdir())
            except FileNotFoundError:
                continue
        elif info.st_mode & _OTHERS:
            yield LoosePath(path, info.st_mode)


def tighten(root: Path) -> list[LoosePath]:
    """Make ``root`` private; return what was changed."""
    fixed = []
    for loose in loose_paths(root):
        try:
            loose.path.chmod(loose.wanted)  # never a symlink: loose_paths skips them
        except (FileNotFoundError, PermissionError):
            continue  # gone meanwhile, or another user's (verify keeps reporting it)
        fixed.append(loose)
    return fixed
