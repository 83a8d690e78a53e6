"""Issue 15: importing any module reads no environment and touches no file. Only the
composition roots (the ``eakte`` command, ``create_app``'s callers, the worker) do, when run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

TRAP = Path(__file__).with_name("import_trap.py")


def _run_trap(tmp_path: Path, *args: str) -> dict:
    env = {**os.environ, "HOME": str(tmp_path), "PYTHONDONTWRITEBYTECODE": "1"}
    done = subprocess.run(
        [sys.executable, str(TRAP), *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def imported(tmp_path_factory) -> dict:
    return _run_trap(tmp_path_factory.mktemp("import-trap"))


def test_every_module_imports(imported):
    assert imported["failed"] == []
    modules = set(imported["modules"])
    # The walk reaches every area (a broken walk would prove nothing).
    for name in (
        "eakte.cli",
        "eakte.jobs.factory",
        "eakte.metrics",
        "web.health",
        "retention.jobs",
        "storage.blobstore",
        "indexing.backend",
    ):
        assert name in modules, name


def test_importing_reads_no_environment_and_writes_no_file(imported):
    assert imported["findings"] == []


def test_the_trap_catches_an_environment_read_and_a_file_written(tmp_path):
    """A module that reads a variable and makes a directory when imported is caught."""
    package = tmp_path / "probe"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "settings.py").write_text(
        "import os, pathlib\n"
        "SETTING = os.environ.get('EAKTE_DATA_DIR')\n"
        f"pathlib.Path({str(tmp_path / 'made')!r}).mkdir()\n"
    )
    trapped = _run_trap(tmp_path, str(tmp_path), "probe")
    assert trapped["failed"] == []
    found = trapped["findings"]
    kinds = {(f["kind"], f["module"]) for f in found}
    assert kinds == {("env read", "probe.settings"), ("os.mkdir", "probe.settings")}
