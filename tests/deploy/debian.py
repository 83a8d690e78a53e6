"""Debian packages a deployment test needs, installed where missing (as root, like
tests/ops/redis_server.py does for redis-server); one apt run at a time across processes."""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess

_LOCK = "/tmp/eakte-apt.lock"


def ensure(command: str, package: str) -> str:
    """The path of ``command``, installing ``package`` first when it is missing."""
    found = shutil.which(command) or shutil.which(command, path="/usr/sbin:/sbin")
    if found:
        return found
    sudo = () if os.geteuid() == 0 else ("sudo",)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    with open(_LOCK, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        install = [*sudo, "apt-get", "install", "-y", "-qq", "--no-install-recommends", package]
        if subprocess.run(install, capture_output=True, env=env, timeout=900).returncode:
            subprocess.run([*sudo, "apt-get", "update", "-qq"], check=True, capture_output=True)
            subprocess.run(install, check=True, capture_output=True, env=env, timeout=900)
    found = shutil.which(command) or shutil.which(command, path="/usr/sbin:/sbin")
    assert found, f"{package} installed but {command} not found"
    return found
