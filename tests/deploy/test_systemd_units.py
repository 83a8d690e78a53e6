"""The systemd units (issue 26): installed by ``eakte install-service --root``, checked by
``systemd-analyze verify`` (Debian's systemd; it needs no systemd as PID 1 to verify), and the
commands in their ExecStart= run here as the units would run them (with the installed
/etc/eakte/eakte.env, the data dir moved into the test's folder)."""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.deploy.debian import ensure
from tests.ops.conftest import free_port

HARDENING = (
    "User=eakte",
    "ProtectSystem=strict",
    "ReadWritePaths=/var/lib/eakte",
    "NoNewPrivileges=yes",
    "PrivateTmp=yes",
    "Restart=on-failure",
    "StateDirectoryMode=0700",
    "EnvironmentFile=-/etc/eakte/eakte.env",
)
LONG_RUNNING = ("eakte-web.service", "eakte-worker@.service", "eakte-objectstore.service")


def _install(root: Path, *extra: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EAKTE_")}
    env["EAKTE_CONFIG_FILE"] = str(root / "none.env")
    return subprocess.run(
        [sys.executable, "-m", "eakte", "install-service", "--root", str(root), *extra],
        capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip


@pytest.fixture
def installed(tmp_path) -> Path:
    root = tmp_path / "root"
    done = _install(root, "--backup-dir", str(tmp_path / "backups"))
    assert done.returncode == 0, done.stderr
    assert f"make data dir {root}/var/lib/eakte (0700)" in done.stdout
    assert f"write {root}/etc/eakte/eakte.env (0600) from eakte.env.example" in done.stdout
    assert "next: systemctl enable --now eakte-objectstore.service eakte.target" in done.stdout
    return root


def _exec_start(unit: Path, instance: str = "1") -> list[str]:
    line = re.search(r"^ExecStart=(.+)$", unit.read_text(), re.M)
    assert line, unit
    return shlex.split(line.group(1).replace("%i", instance))


def test_units_pass_systemd_analyze_verify(installed):
    analyze = ensure("systemd-analyze", "systemd")
    units = sorted((installed / "etc/systemd/system").iterdir())
    assert {u.name for u in units} >= {*LONG_RUNNING, "eakte-backup.timer", "eakte.target"}
    done = subprocess.run(
        [analyze, "verify", *map(str, units)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stderr.strip() == "", done.stderr
    for name in (*LONG_RUNNING, "eakte-backup.service"):
        text = (installed / "etc/systemd/system" / name).read_text()
        for directive in HARDENING:
            if directive.startswith("Restart=") and name == "eakte-backup.service":
                continue  # a oneshot run by its timer
            assert directive in text.splitlines(), (name, directive)
        assert _exec_start(installed / "etc/systemd/system" / name)[0] == sys.executable
    assert (installed / "var/lib/eakte").stat().st_mode & 0o777 == 0o700
    assert (installed / "etc/eakte/eakte.env").stat().st_mode & 0o777 == 0o600


def test_install_again_keeps_the_config_and_dry_run_writes_nothing(installed, tmp_path):
    config = installed / "etc/eakte/eakte.env"
    config.write_text("EAKTE_PORT=9000\n")
    done = _install(installed)
    assert f"keep {config} (exists" in done.stdout
    assert config.read_text() == "EAKTE_PORT=9000\n"
    dry = tmp_path / "dry"
    done = _install(dry, "--dry-run")
    assert done.returncode == 0 and "would write" in done.stdout
    assert not dry.exists()


def test_the_commands_the_units_run(installed, tmp_path):
    """Object store, web server, one worker, as their units start them; then the backup."""
    units = installed / "etc/systemd/system"
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("EAKTE_")}
    env.update(
        # the installed file, as systemd's EnvironmentFile= and eakte itself read it ...
        EAKTE_CONFIG_FILE=str(installed / "etc/eakte/eakte.env"),
        # ... with the data dir and port of this test winning over it
        EAKTE_DATA_DIR=str(tmp_path / "data"),
        EAKTE_PORT=str(port),
        EAKTE_ADMIN_PASSWORD="units admin password",
    )
    init = subprocess.run(
        [sys.executable, "-m", "eakte", "init"], env=env, capture_output=True, text=True,
        timeout=300,
    )  # fmt: skip
    assert init.returncode == 0, init.stderr
    started: dict[str, subprocess.Popen] = {}
    try:
        for name in LONG_RUNNING[::-1]:  # the object store first, as After= orders them
            started[name] = subprocess.Popen(
                _exec_start(units / name), env=env, text=True,
                stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            )  # fmt: skip
            if name == "eakte-objectstore.service":
                line = started[name].stdout.readline()
                assert line.startswith("object store listens on 127.0.0.1:"), line
        deadline = time.monotonic() + 120
        while True:
            try:
                health = requests.get(f"http://127.0.0.1:{port}/readyz", timeout=3)
                if health.status_code == 200:
                    break
            except requests.RequestException:
                pass
            assert time.monotonic() < deadline, "eakte-web did not become ready"
            assert started["eakte-web.service"].poll() is None, started["eakte-web.service"]
            time.sleep(0.5)
        time.sleep(3)
        for name, proc in started.items():
            assert proc.poll() is None, f"{name} ended: {proc.stderr.read()}"
        backup = subprocess.run(
            _exec_start(units / "eakte-backup.service"), env=env, capture_output=True,
            text=True, timeout=300,
        )  # fmt: skip
        assert backup.returncode == 0, backup.stderr
        made = list((tmp_path / "backups").glob("eakte-*/backup.json"))
        assert len(made) == 1
    finally:
        for name in reversed(list(started)):  # web and worker before the store
            started[name].send_signal(signal.SIGTERM)
            try:
                code = started[name].wait(timeout=90)
            except subprocess.TimeoutExpired:
                started[name].kill()
                raise
            assert code == 0, (name, code, started[name].stderr.read()[-2000:])
