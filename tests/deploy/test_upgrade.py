"""Upgrades lose nothing (issue 26): an installation made by release v0.1.0 (the committed data
set tests/deploy/fixtures/v0.1.0.tar.gz, made by make_release_fixture.py with that release's
code: its data dir and the backup its own ``eakte backup --with-objects`` made) is upgraded
by this version as the README's procedure says, and everything is checked: every object
against its sha256, the audit chain, the search index, a sign-in with the old password.

The rollback path too: the release's backup restored by this version into a fresh
installation, verified.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from eakte.passwords import verify_password
from tests.deploy.make_release_fixture import ADMIN_PASSWORD, CLERK_PASSWORD, TEXTS

FIXTURE = Path(__file__).parent / "fixtures" / "v0.1.0.tar.gz"


@pytest.fixture
def release(tmp_path) -> Path:
    with tarfile.open(FIXTURE) as tar:
        tar.extractall(tmp_path, filter="data")
    return tmp_path


def _env(data: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EAKTE_")}
    env.update(
        EAKTE_DATA_DIR=str(data),
        EAKTE_SECRET_KEY="release fixture secret key",
        EAKTE_MIN_RETENTION_DAYS="36500",
        EAKTE_CONFIG_FILE=str(data.parent / "none.env"),
        EAKTE_LOG_LEVEL="WARNING",
    )
    return env


def eakte(env: dict[str, str], *args: str, stdin: str | None = None) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "eakte", *args],
        env=env, input=stdin, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, f"eakte {' '.join(args)}:\n{done.stdout}{done.stderr}"
    return done.stdout


def _check_everything(env: dict[str, str]) -> None:
    report = json.loads(eakte(env, "verify", "--json"))
    assert report["clean"], report["findings"]
    checked = report["checked"]
    assert checked["objects"] == 3 and checked["bucket versions"] == 3
    assert checked["audit entries"] >= 11  # the release's entries, chain unbroken
    for text in TEXTS:
        word = text.split()[-2]
        assert word in eakte(env, "search", word, "--user", "sachb")


def test_upgrade_in_place(release):
    env = _env(release / "data")
    out = eakte(env, "init")
    assert "database:  schema" in out and "admin:" not in out  # nothing made anew
    _check_everything(env)
    # The users and their passwords are still there.
    assert "sachb" in eakte(env, "user", "list", "--user", "admin")
    with sqlite3.connect(release / "data" / "eakte.db") as db:
        hashes = dict(db.execute("SELECT username, password_hash FROM user_account"))
    assert verify_password(hashes["admin"], ADMIN_PASSWORD)
    assert verify_password(hashes["sachb"], CLERK_PASSWORD)


def test_rollback_by_restoring_the_release_backup(release):
    env = _env(release / "fresh")
    out = eakte(env, "restore", str(release / "backup"))
    assert "objects:  3 uploaded and verified" in out
    _check_everything(env)
