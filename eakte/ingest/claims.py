"""Who works on a document: host, process (with its start time, so a reused pid is not taken
for the old process) and job. A claim is stale when its process is gone (same host) or when it
is older than the lease (another host, or a process that hangs): a working job renews its
claim every ``HEARTBEAT`` (see ``heartbeat``), so only a dead or hung one lets it run out."""

from __future__ import annotations

import contextlib
import os
import socket
from datetime import datetime, timedelta
from functools import cache

HEARTBEAT = timedelta(minutes=1)
DEFAULT_LEASE = timedelta(minutes=5)  # a few missed heartbeats (database busy or away)
MAX_STALL = timedelta(hours=1)  # no step or page done for that long: hung, let go


@cache
def _host() -> str:
    """This machine as a claim names it. The host name alone is not enough: containers are
    often given the same one. The boot id tells machines apart, the PID namespace containers
    on one machine (a process id is only meaningful within its namespace)."""
    parts = [socket.gethostname()[:40].replace(":", "_")]
    with contextlib.suppress(OSError):  # Linux only; elsewhere the host name must do
        with open("/proc/sys/kernel/random/boot_id") as fh:
            parts.append(fh.readline().strip()[:8])
        parts.append(os.readlink("/proc/self/ns/pid").rpartition("[")[2].rstrip("]"))
    return "/".join(parts)


def _stat(pid: int) -> list[bytes]:
    """Fields 3 onwards of /proc/PID/stat (Linux; empty elsewhere or when gone)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            # The command name (field 2) may contain spaces and brackets: split after it.
            return fh.read().rsplit(b")", 1)[1].split()
    except (OSError, IndexError):
        return []


def _start_ticks(pid: int) -> str:
    """The process's start time in clock ticks since boot, '' where unknown."""
    fields = _stat(pid)
    return fields[19].decode() if len(fields) > 19 else ""


def identity(job_id: str = "", pid: int | None = None) -> str:
    """This process's claim for ``job_id`` (or that of process ``pid`` on this host)."""
    pid = os.getpid() if pid is None else pid
    return f"{_host()}:{pid}:{_start_ticks(pid)}:{job_id[:64]}"


def same_job(claimed_by: str, job_id: str) -> bool:
    """A retry of the same job (Huey keeps the task id) may take its own claim back."""
    return bool(job_id) and claimed_by.rsplit(":", 1)[-1] == job_id


def is_stale(claimed_by: str, claimed_at: datetime | None, now: datetime, lease=DEFAULT_LEASE):
    if not claimed_by or claimed_at is None:
        return True
    if claimed_at.tzinfo is None:  # SQLite hands back naive UTC
        now = now.replace(tzinfo=None)
    if now - claimed_at > lease:
        return True
    host, pid, ticks, _job = [*claimed_by.split(":", 3), "", "", ""][:4]
    if host != _host() or not pid.isdigit():
        return False  # another machine: only the lease can tell
    return not _alive(int(pid), ticks)


def _alive(pid: int, ticks: str) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # exists, another user's
    fields = _stat(pid)
    if fields and fields[0] in (b"Z", b"X"):
        return False  # killed, not yet reaped by its parent
    return not ticks or (len(fields) > 19 and fields[19].decode() == ticks)
