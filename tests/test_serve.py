"""`eakte serve` end to end: embedded SeaweedFS, waitress, a worker; one server per data dir."""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from eakte.errors import ExitCode

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _env(data_dir: Path, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EAKTE_")}
    env.update(EAKTE_DATA_DIR=str(data_dir), EAKTE_PORT=str(port), EAKTE_WORKERS="1")
    return env


def _processes_using(path: Path) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if str(path).encode() in cmdline:
                pids.append(int(entry.name))
    return pids


def _wait_for(url: str, proc: subprocess.Popen, timeout: float = 90) -> bytes:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"serve exited early: {proc.stderr.read().decode()}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (loopback)
                return response.read()
        except OSError:
            time.sleep(0.3)
    pytest.fail(f"{url} did not answer within {timeout}s")


def test_serve_runs_everything_and_stops_cleanly(tmp_path):
    data_dir, port = tmp_path / "data", _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "eakte", "serve"],
        env=_env(data_dir, port),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        page = _wait_for(f"http://127.0.0.1:{port}/login", proc)
        assert b"Anmelden" in page
        assert _processes_using(data_dir), "the embedded S3 server should be running"

        second = subprocess.run(
            [sys.executable, "-m", "eakte", "serve"],
            env=_env(data_dir, _free_port()),
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert second.returncode == ExitCode.already_running
        assert "already running" in second.stderr or "is running" in second.stderr

        taken = subprocess.run(
            [sys.executable, "-m", "eakte", "serve"],
            env=_env(tmp_path / "other", port),
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert taken.returncode == ExitCode.already_running
        assert f"port {port} on 127.0.0.1 is already in use" in taken.stderr
        assert not _processes_using(tmp_path / "other"), "a refused serve must start nothing"
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
    deadline = time.monotonic() + 10
    while _processes_using(data_dir) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not _processes_using(data_dir), "serve must leave no process behind"
