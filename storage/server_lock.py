"""``data_dir/s3.lock``: one embedded server per data dir (``flock``, shared with the child)."""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from pathlib import Path

from storage.errors import EmbeddedServerAlreadyRunning


class ServerLock:
    """The exclusive lock of the process that starts the server (its child inherits the fd,
    so no second server starts until that one is gone)."""

    def __init__(self, path: Path, data_dir: Path):
        self.path = path
        self._data_dir = data_dir
        self.fd: int | None = None

    def acquire(self, stop_timeout: float) -> None:
        """Take the lock, or raise :class:`EmbeddedServerAlreadyRunning`; waits up to
        ``stop_timeout`` for a server whose starter is gone (it is shutting down)."""
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        deadline: float | None = None
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                holder = os.pread(fd, 64, 0).decode(errors="replace").strip()
                # If the process that started the server is gone, the lock is held by its
                # weed, which is shutting down (parent-death signal): wait for it.
                if deadline is None and not _pid_alive(holder):
                    deadline = time.monotonic() + stop_timeout
                if deadline is None or time.monotonic() > deadline:
                    os.close(fd)
                    raise EmbeddedServerAlreadyRunning(
                        f"embedded SeaweedFS for {self._data_dir} is already running "
                        f"(started by pid {holder or '?'})"
                    ) from None
                time.sleep(0.1)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self.fd = fd

    def held_elsewhere(self) -> bool:
        """Whether another process (or its weed) holds the lock: a server runs."""
        try:
            fd = os.open(self.path, os.O_RDWR)
        except FileNotFoundError:
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        finally:
            os.close(fd)  # also drops the probe lock, if we got it
        return False

    def release(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None

    def forget(self) -> None:
        """In a forked child: close the inherited fd (the parent keeps the lock)."""
        if self.fd is not None:
            with contextlib.suppress(OSError):
                os.close(self.fd)
            self.fd = None


def _pid_alive(pid_text: str) -> bool:
    """Whether the process with this pid (as written in the lock file) still runs."""
    try:
        pid = int(pid_text)
    except ValueError:
        return True  # unknown: assume the holder is alive
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    with contextlib.suppress(OSError, IndexError):
        # A zombie has exited; only its parent has not collected it yet.
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        return state not in ("Z", "X")
    return True
