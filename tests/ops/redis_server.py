"""A Redis server for the tests: the one named by EAKTE_TEST_REDIS_URL (default
redis://127.0.0.1:6379/15), or, where none answers, Debian's redis-server installed and started
here for the session (like tests/fixtures/postgres.py does for PostgreSQL)."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from urllib.parse import urlsplit

import redis

DEFAULT_URL = "redis://127.0.0.1:6379/15"


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


def server_url() -> tuple[str, subprocess.Popen | None]:
    """The URL to use and the process started for it (None if one was already running)."""
    url = os.environ.get("EAKTE_TEST_REDIS_URL", DEFAULT_URL)
    if answers(url):
        return url, None
    if "EAKTE_TEST_REDIS_URL" in os.environ:
        raise RuntimeError(f"EAKTE_TEST_REDIS_URL={url} does not answer")
    return url, start(url)
