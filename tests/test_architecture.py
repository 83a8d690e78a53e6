"""The architecture as checked in CI (issue 15): the import-linter layers cover every module of
eakte, a wrong import breaks them, and migrations stand on their own."""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("eakte", "storage", "indexing", "retention", "web")
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _contract(contract_id: str) -> dict:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    return next(c for c in config["contracts"] if c["id"] == contract_id)


def _layer_modules() -> set[str]:
    named = set()
    for layer in _contract("layers")["layers"]:
        named.update(name.strip().strip("()") for name in re.split(r"[:|]", layer))
    return named


def test_every_module_of_eakte_and_retention_sits_in_a_layer():
    """A new top-level module of eakte or retention must be placed in a layer, or the contract
    would never look at it (import-linter checks only the modules it is told about)."""
    children = {
        f"{package}.{path.stem if path.suffix == '.py' else path.name}"
        for package in ("eakte", "retention")
        for path in (ROOT / package).iterdir()
        if (path.suffix == ".py" and path.stem != "__init__") or (path / "__init__.py").exists()
    }
    missing = children - _layer_modules()
    assert not missing, f"add to a layer in pyproject.toml [tool.importlinter]: {sorted(missing)}"


def _lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=root,
        env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=300,
    )


def _copy_project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    root.mkdir()
    shutil.copy(ROOT / "pyproject.toml", root)
    for package in PACKAGES:
        shutil.copytree(
            ROOT / package, root / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    return root


def test_the_contracts_hold_and_a_wrong_import_breaks_them(tmp_path):
    root = _copy_project(tmp_path)
    kept = _lint_imports(root)
    assert kept.returncode == 0, kept.stdout + kept.stderr

    # storage may know nothing above it, the core nothing of the web
    (root / "storage" / "wrong.py").write_text("import eakte.config\n")
    (root / "eakte" / "services" / "wrong.py").write_text("import web.api\n")
    broken = _lint_imports(root)
    assert broken.returncode == 1
    assert "storage.wrong -> eakte.config" in broken.stdout
    assert "eakte.services.wrong -> web.api" in broken.stdout


def test_migrations_import_no_application_code():
    """A migration is history: code it imports from the application may change later and with
    it what an old migration does (issue 15: 0007 called indexing.pg)."""
    own = set(PACKAGES)
    offenders = []
    for path in sorted((ROOT / "eakte" / "migrations" / "versions").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            else:
                continue
            offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0] in own]
    assert not offenders
