"""Shared set-up of the ingest benchmarks: a fresh installation in a data dir under /tmp with the
embedded defaults (SQLite, embedded SeaweedFS, Huey on SQLite), a scanning user, and helpers to
run ``eakte`` commands, watch documents arrive and sample every process's memory."""

from __future__ import annotations

import contextlib
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import text

from eakte.db import make_engine
from storage.embedded import EmbeddedSeaweedFS

PASSWORD = "benchmark password 1"  # noqa: S105 (a throwaway installation)


@dataclass
class Installation:
    data_dir: Path
    env: dict[str, str]
    server: EmbeddedSeaweedFS
    files: Path  # folders to import from: beside the data dir (imports never read inside it)

    def eakte(self, *args: str, check=True, **kwargs) -> subprocess.CompletedProcess:
        result = subprocess.run(
            [sys.executable, "-m", "eakte", *args],
            env=self.env,
            capture_output=True,
            text=True,
            **kwargs,
        )
        if check and result.returncode != 0:
            raise RuntimeError(f"eakte {' '.join(args)} failed:\n{result.stdout}{result.stderr}")
        return result

    def start(self, *args: str, log: str) -> subprocess.Popen:
        """``eakte ARGS`` in a process group of its own (so that it can be killed whole)."""
        return subprocess.Popen(
            [sys.executable, "-m", "eakte", *args],
            env=self.env,
            stdout=open(self.data_dir / f"{log}.out", "ab"),
            stderr=open(self.data_dir / f"{log}.err", "ab"),
            start_new_session=True,
        )

    def counts(self) -> dict[str, int]:
        engine = make_engine(f"sqlite:///{self.data_dir / 'eakte.db'}")
        try:
            with engine.connect() as conn:
                rows = conn.execute(
                    text("SELECT status, index_dirty, count(*) FROM document GROUP BY 1, 2")
                ).all()
        finally:
            engine.dispose()
        counts: dict[str, int] = {}
        for status, dirty, n in rows:
            counts[status] = counts.get(status, 0) + n
            if status == "ready" and not dirty:
                counts["indexed"] = counts.get("indexed", 0) + n
        return counts


@contextlib.contextmanager
def installation(prefix: str, keep: bool = False) -> Iterator[Installation]:
    data_dir = Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))
    env = {
        **os.environ,
        "EAKTE_DATA_DIR": str(data_dir),
        "EAKTE_ADMIN_PASSWORD": PASSWORD,
        "EAKTE_LOG_LEVEL": "WARNING",
        "OMP_THREAD_LIMIT": "1",
    }
    for name in ("EAKTE_DATABASE_URL", "EAKTE_S3_ENDPOINT", "EAKTE_REDIS_URL"):
        env.pop(name, None)
    files = Path(f"{data_dir}-files")
    files.mkdir()
    server = EmbeddedSeaweedFS(data_dir).start()
    inst = Installation(data_dir, env, server, files)
    try:
        inst.eakte("init")
        inst.eakte("orgunit", "add", "32", "Ordnungsamt")
        user = ["user", "add", "scan", "--role", "scanner", "--org-unit", "32", "--password-stdin"]
        inst.eakte(*user, input=PASSWORD + "\n")
        yield inst
    finally:
        server.stop()
        if not keep:
            shutil.rmtree(data_dir, ignore_errors=True)
            shutil.rmtree(files, ignore_errors=True)


def stop(process: subprocess.Popen, sig=signal.SIGTERM, timeout=30.0) -> None:
    """Stop a process started by ``Installation.start`` and everything it started."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, sig)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def wait_for(predicate, timeout: float, poll: float = 0.2) -> float:
    start = time.monotonic()
    while not predicate():
        if time.monotonic() - start > timeout:
            raise TimeoutError(f"not done after {timeout:.0f} s")
        time.sleep(poll)
    return time.monotonic()


@dataclass
class MemoryWatch:
    """Samples the resident memory of the given processes and all their descendants."""

    roots: list[int]
    interval: float = 0.25
    peaks: dict[str, int] = field(default_factory=dict)  # "name pid" -> peak RSS bytes
    cpu: dict[str, float] = field(default_factory=dict)  # "name pid" -> CPU seconds used
    _stop: threading.Event = field(default_factory=threading.Event)

    def __enter__(self) -> MemoryWatch:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self._stop.set()
        self._thread.join()

    def add(self, pid: int) -> None:
        self.roots.append(pid)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            for pid in _descendants(self.roots):
                rss, name = _rss(pid)
                key = f"{name} {pid}"
                if rss and rss > self.peaks.get(key, 0):
                    self.peaks[key] = rss
                used = _cpu_seconds(pid)
                if used:
                    self.cpu[key] = used

    @property
    def peak(self) -> tuple[str, int]:
        return max(self.peaks.items(), key=lambda item: item[1], default=("none", 0))


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as fh:
                ppid = int(fh.read().rsplit(b")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        tree.setdefault(ppid, []).append(int(entry))
    return tree


def _descendants(roots: list[int]) -> set[int]:
    tree, found, stack = _children(), set(), list(roots)
    while stack:
        pid = stack.pop()
        if pid not in found:
            found.add(pid)
            stack.extend(tree.get(pid, ()))
    return found


def _cpu_seconds(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            fields = fh.read().rsplit(b")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    # utime + stime, and cutime + cstime: children already waited for (a worker's confined
    # jobs, one per document) count for the process that started them
    return sum(int(f) for f in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def _rss(pid: int) -> tuple[int, str]:
    try:
        with open(f"/proc/{pid}/status") as fh:
            fields = dict(line.split(":", 1) for line in fh if ":" in line)
    except OSError:
        return 0, ""
    rss = fields.get("VmRSS", "0 kB").split()[0]
    return int(rss) * 1024, fields.get("Name", "?").strip()


def tree_cpu(roots: list[int]) -> float:
    """CPU seconds used so far by these processes and everything they started (alive)."""
    return sum(_cpu_seconds(pid) for pid in _descendants(roots))


def children_cpu() -> float:
    """CPU seconds of this process's finished (waited for) child processes."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.2f} (1 min), {five:.2f} (5 min) on {os.cpu_count()} cores"
