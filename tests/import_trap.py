"""Run as a script (``tests/test_import_effects.py``): import every module of eAkte's packages
with traps set, and print, as JSON, each environment read and each file written or created
that the code of one of those packages did while being imported.

A read or write is charged to eAkte when, walking out from it, a frame of eAkte's packages comes
before any frame of a third-party package or of a standard-library module being imported:
``Path.home()`` called at module level is caught (the stdlib function only passes it through);
prometheus_client reading its own variable when it is imported is its own business.
"""

from __future__ import annotations

import importlib
import json
import os
import pkgutil
import sys
import sysconfig
import traceback
from collections.abc import Iterator, MutableMapping
from pathlib import Path
from types import FrameType

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ["eakte", "storage", "indexing", "retention", "web"]
# ``import_trap.py DIR PACKAGE``: also that package (the test that proves the trap catches).
if len(sys.argv) == 3:
    sys.path.insert(0, sys.argv[1])
    PACKAGES.append(sys.argv[2])
# Scripts, not modules: importing them runs them (``python -m eakte``; Alembic's env script).
NOT_MODULES = {"eakte.__main__", "eakte.migrations.env"}
WRITE_EVENTS = {
    "os.mkdir",
    "os.rename",
    "os.remove",
    "os.rmdir",
    "os.symlink",
    "os.link",
    "os.truncate",
    "os.chmod",
    "os.chown",
    "os.utime",
    "shutil.rmtree",
    "shutil.copyfile",
    "shutil.move",
    "sqlite3.connect",
}
WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC
STDLIB = (sysconfig.get_paths()["stdlib"], sysconfig.get_paths()["platstdlib"])
OURS = tuple(str(ROOT / package) + os.sep for package in PACKAGES)
if len(sys.argv) == 3:
    OURS += (str(Path(sys.argv[1]).resolve() / sys.argv[2]) + os.sep,)

findings: list[dict[str, str]] = []


def _charged(frame: FrameType | None) -> str | None:
    """The eAkte frame to charge (``file:line``), or None."""
    while frame is not None:
        filename = frame.f_code.co_filename
        if filename == __file__:
            pass
        elif filename.startswith(OURS):
            return f"{filename}:{frame.f_lineno}"
        elif filename.startswith("<frozen"):
            pass  # the import machinery
        elif "site-packages" in filename or "dist-packages" in filename:
            return None
        elif frame.f_code.co_name == "<module>" and filename.startswith(STDLIB):
            return None  # a stdlib module's own import
        frame = frame.f_back
    return None


def _record(kind: str, what: str) -> None:
    where = _charged(sys._getframe(2))
    if where is not None and _importing:
        findings.append({"kind": kind, "what": what, "where": where, "module": _importing[-1]})


class EnvironTrap(MutableMapping[str, str]):
    """``os.environ`` that records every read."""

    def __init__(self, real: MutableMapping[str, str]) -> None:
        self._real = real

    def __getitem__(self, key: str) -> str:
        _record("env read", key)
        return self._real[key]

    def __setitem__(self, key: str, value: str) -> None:
        _record("env write", key)
        self._real[key] = value

    def __delitem__(self, key: str) -> None:
        del self._real[key]

    def __iter__(self) -> Iterator[str]:
        _record("env read", "<all>")
        return iter(self._real)

    def __len__(self) -> int:
        return len(self._real)

    def copy(self) -> dict[str, str]:
        _record("env read", "<all>")
        return dict(self._real)


def _writes(event: str, args: tuple) -> None:
    if event == "open":
        path, mode, flags = args
        writing = (mode is not None and any(c in mode for c in "wax+")) or (
            mode is None and isinstance(flags, int) and flags & WRITE_FLAGS
        )
        if writing:
            _record("file written", str(path))
    elif event in WRITE_EVENTS:
        _record(event, str(args[0]) if args else "")


_importing: list[str] = []


def main() -> None:
    sys.dont_write_bytecode = True  # the import system's own .pyc files are no finding
    sys.path.insert(0, str(ROOT))
    os.environ = EnvironTrap(os.environ)  # type: ignore[assignment]  # noqa: B003 (the trap)
    sys.addaudithook(_writes)
    names: list[str] = []
    failed: list[str] = []
    for package in PACKAGES:
        _importing.append(package)
        module = importlib.import_module(package)
        _importing.pop()
        names.append(package)
        for info in pkgutil.walk_packages(module.__path__, prefix=f"{package}."):
            if info.name in NOT_MODULES:
                continue
            _importing.append(info.name)
            try:
                importlib.import_module(info.name)
            except Exception:
                failed.append(f"{info.name}: {traceback.format_exc(limit=3)}")
            finally:
                _importing.pop()
            names.append(info.name)
    print(json.dumps({"modules": names, "findings": findings, "failed": failed}))


if __name__ == "__main__":
    main()
