"""The second line of defence: the work that decodes, rasterises and OCRs a file runs in a
child process under hard limits (address space and CPU time), so that an input nobody
thought of ends as a failed job with a reason — never as a machine out of memory. The worker
itself lives on and takes the next document.

The child is forked from the worker (one per document, not per page: the Tesseract models the
worker has loaded are shared, so OCR costs what it did), sends its progress (for the claim's
heartbeat) and its result back through a pipe, and leaves with ``os._exit``: nothing of the
worker's state (database connections, threads) is touched in the child.
"""

from __future__ import annotations

import ctypes
import os
import pickle
import resource
import select
import signal
import struct
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from eakte.ingest import claims, heartbeat
from eakte.ingest.unforeseen import describe

T = TypeVar("T")
PROGRESS = b"p"
RESULT = b"r"
PR_SET_PDEATHSIG = 1  # linux/prctl.h
CPU_GRACE_S = 5  # between the soft limit (SIGXCPU) and the hard one (SIGKILL)


@dataclass(frozen=True)
class JobLimits:
    memory_bytes: int = 2048 * 1024 * 1024  # address space the job may add to the worker's
    cpu_base_s: int = 60
    cpu_per_page_s: int = 60
    stall_s: float = claims.MAX_STALL.total_seconds()  # as long as the claim is kept
    office_seconds: int = 120  # one LibreOffice conversion (``office``), wall clock
    office_memory_bytes: int = 2048 * 1024 * 1024  # LibreOffice's own address space

    @classmethod
    def from_settings(cls, settings) -> JobLimits:
        return cls(
            memory_bytes=settings.ingest_job_memory_mb * 1024 * 1024,
            cpu_per_page_s=settings.ingest_page_cpu_seconds,
            office_seconds=settings.ingest_office_seconds,
            office_memory_bytes=settings.ingest_office_memory_mb * 1024 * 1024,
        )

    def cpu_seconds(self, pages: int) -> int:
        return self.cpu_base_s + self.cpu_per_page_s * max(1, pages)


class JobFailed(Exception):
    """The confined work failed; ``str()`` is the readable reason."""


def limit_cpu(seconds: int) -> None:
    """Lower this process's CPU limit (the child calls it once it knows the page count)."""
    resource.setrlimit(resource.RLIMIT_CPU, (seconds, seconds + CPU_GRACE_S))


def limit_memory(extra_bytes: int) -> None:
    """Cap the address space at what the process has now plus ``extra_bytes``."""
    with open("/proc/self/statm") as fh:
        current = int(fh.read().split()[0]) * resource.getpagesize()
    limit = current + extra_bytes
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def run_confined(work: Callable[[], T], limits: JobLimits) -> T:
    """``work()`` in a forked child under ``limits`` (CPU: ``cpu_base_s`` until the work
    calls ``limit_cpu`` itself); its result, or ``JobFailed`` with the reason. Exceptions
    the work raises come back as ``JobFailed`` carrying their message. A child that shows no
    progress for ``limits.stall_s`` (waiting on something forever uses no CPU) is killed."""
    read_end, write_end = os.pipe()
    parent = os.getpid()
    pid = os.fork()
    if pid == 0:  # the child: never returns
        os.close(read_end)
        _child(work, limits, write_end, parent)
    os.close(write_end)
    try:
        payload = _listen(read_end, limits.stall_s)
    except TimeoutError:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        raise JobFailed(
            f"processing made no progress for {limits.stall_s:.0f} s and was stopped"
        ) from None
    finally:
        os.close(read_end)
    _, status = os.waitpid(pid, 0)
    if payload is None:
        raise JobFailed(_death(status, limits))
    kind, value = pickle.loads(payload)  # noqa: S301 (our own child's answer)
    if kind == "ok":
        return value
    raise JobFailed(value)


def _child(work: Callable[[], object], limits: JobLimits, out: int, parent: int) -> None:
    code = 0
    try:
        _die_with_parent(parent)
        limit_memory(limits.memory_bytes)
        # a soft limit only: the work may raise it once it knows the pages (``limit_cpu``)
        hard = resource.getrlimit(resource.RLIMIT_CPU)[1]
        resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_base_s, hard))
        heartbeat.listen(lambda: os.write(out, PROGRESS))
        try:
            answer = ("ok", work())
        except MemoryError:
            answer = (
                "error",
                "processing needed more memory than allowed (EAKTE_INGEST_JOB_MEMORY_MB)",
            )
        except JobFailed as exc:
            answer = ("error", str(exc))
        except Exception as exc:  # reported to the worker as the job's reason
            answer = ("error", describe(exc, "processing the file"))
        payload = pickle.dumps(answer)
        _write_all(out, RESULT + struct.pack(">Q", len(payload)) + payload)
    except BaseException:  # nothing may escape into the worker's code in the child
        code = 1
    finally:
        os._exit(code)


def _die_with_parent(parent: int) -> None:
    """A worker killed mid-job (kill -9, a crashed host process) takes its child along
    instead of leaving it working for nobody."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # it died before we asked
        os._exit(1)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _listen(fd: int, stall_s: float) -> bytes | None:
    """Progress marks until the result (or end of file: the child died); ``TimeoutError``
    after ``stall_s`` without a word."""
    buffer = b""
    while True:
        ready, _, _ = select.select([fd], [], [], stall_s)
        if not ready:
            raise TimeoutError
        chunk = os.read(fd, 1 << 16)
        if not chunk:
            return None
        buffer += chunk
        while buffer[:1] == PROGRESS:
            heartbeat.progressed()
            buffer = buffer[1:]
        if buffer[:1] == RESULT and len(buffer) >= 9:
            (size,) = struct.unpack(">Q", buffer[1:9])
            while len(buffer) < 9 + size:
                chunk = os.read(fd, 1 << 20)
                if not chunk:
                    return None
                buffer += chunk
            return buffer[9 : 9 + size]


def _death(status: int, limits: JobLimits) -> str:
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        if sig in (signal.SIGXCPU, signal.SIGKILL):
            return (
                "processing took more CPU time than allowed (EAKTE_INGEST_PAGE_CPU_SECONDS) "
                "or was killed"
            )
        if sig in (signal.SIGSEGV, signal.SIGABRT, signal.SIGBUS):
            return (
                f"processing crashed ({signal.Signals(sig).name}), most likely out of the "
                f"memory allowed ({limits.memory_bytes // 2**20} MB, EAKTE_INGEST_JOB_MEMORY_MB)"
            )
        return f"processing was stopped by signal {signal.Signals(sig).name}"
    return f"processing ended without a result (exit code {os.WEXITSTATUS(status)})"
