"""An exclusive lock on the data dir, so that two servers never share one installation."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from eakte.errors import AlreadyRunning


class DataDirLock:
    def __init__(self, data_dir: Path, name: str):
        self.path = data_dir / f"{name}.lock"
        self._fd: int | None = None

    def __enter__(self) -> DataDirLock:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise AlreadyRunning(
                f"another 'eakte {self.path.stem}' is running on {self.path.parent}"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._fd = fd
        return self

    def __exit__(self, *_exc) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing releases the flock
            self._fd = None
