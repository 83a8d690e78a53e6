"""A Redis server for the tests: the one named by EAKTE_TEST_REDIS_URL (default
redis://127.0.0.1:6379/15), or, where none answers, Debian's redis-server installed and started
here for the session (like tests/fixtures/postgres.py does for PostgreSQL).

Parallel test processes (pytest-xdist workers) share the server but not its databases: each
worker has a pair of its own (:func:`worker_db`), since tests flush theirs and Huey's queue
``eakte`` lives in one."""

from __future__ import annotations

import fcntl
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import redis

DEFAULT_URL = "redis://127.0.0.1:6379/15"
DATABASES = 16  # redis.conf's default


def answers(url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=2).ping())
    except redis.RedisError:
        return False


def _install() -> None:
    sudo = () if os.geteuid() == 0 else ("sudo",)
    if sudo and not shutil.which("sudo"):
        raise RuntimeError("Redis is not reachable and cannot be installed without root")
    subprocess.run([*sudo, "apt-get", "update", "-qq"], check=True, capture_output=True)
    install = ("apt-get", "install", "-y", "-qq", "redis-server")
    subprocess.run(
        [*sudo, "env", "DEBIAN_FRONTEND=noninteractive", *install],
        check=True,
        capture_output=True,
        timeout=600,
    )


def start(url: str) -> subprocess.Popen:
    """Start redis-server on the URL's host and port, without persistence; the caller stops it."""
    if not shutil.which("redis-server"):
        _install()
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 6379
    proc = subprocess.Popen(
        ["redis-server", "--bind", host, "--port", str(port), "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while not answers(url):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError(f"redis-server did not start on {host}:{port}")
        time.sleep(0.1)
    return proc


def worker_db(db: int) -> int:
    """The database number of this test process for a test that alone would use ``db``.

    xdist worker N (``gwN``) gets ``db - 2N``: the suite's two numbers, 15 (ops tests) and 12
    (cluster test), differ in parity, so those of up to eight workers are all different."""
    worker = re.fullmatch(r"gw(\d+)", os.environ.get("PYTEST_XDIST_WORKER", ""))
    n = int(worker.group(1)) if worker else 0
    if n >= DATABASES // 2:
        raise RuntimeError(f"Redis has {DATABASES} databases: two each for at most 8 workers")
    return (db - 2 * n) % DATABASES


def with_db(url: str, db: int) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{db}"))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_url(db: int | None = None) -> tuple[str, subprocess.Popen | None]:
    """The URL to use (with this worker's database for ``db``, default: the URL's) and the
    process started for it (None if one was already running)."""
    url = os.environ.get("EAKTE_TEST_REDIS_URL", DEFAULT_URL)
    db = worker_db(int(urlsplit(url).path.strip("/") or 0) if db is None else db)
    if answers(url):
        return with_db(url, db), None
    if "EAKTE_TEST_REDIS_URL" in os.environ:
        raise RuntimeError(f"EAKTE_TEST_REDIS_URL={url} does not answer")
    # None runs: a server of this process's own on a free port, so that parallel processes do
    # not fight over one port nor stop the server another still uses. One install at a time.
    with open(Path(tempfile.gettempdir()) / "eakte-test-redis-install.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not shutil.which("redis-server"):
            _install()
    url = with_db(f"redis://127.0.0.1:{_free_port()}", db)
    return url, start(url)
