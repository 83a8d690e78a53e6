"""The documentation in the repository stays current: the CLI reference is what the click commands
say, and the README's links lead to files that exist."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _cli_reference():
    spec = importlib.util.spec_from_file_location(
        "cli_reference", ROOT / "scripts/cli_reference.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_cli_reference_is_current():
    expected = _cli_reference().render()
    written = (ROOT / "docs" / "cli.md").read_text()
    assert written == expected, "docs/cli.md is out of date: run python scripts/cli_reference.py"


def test_cli_reference_lists_every_command():
    """The generator itself: every command and subcommand has its section."""
    from eakte.cli import main

    sections = set(re.findall(r"^## `(.+)`$", _cli_reference().render(), re.MULTILINE))
    assert "eakte case create" in sections
    for name, command in main.commands.items():
        assert f"eakte {name}" in sections
        for sub in getattr(command, "commands", {}):
            assert f"eakte {name} {sub}" in sections


def test_readme_links_lead_to_files():
    readme = (ROOT / "README.md").read_text()
    links = re.findall(r"\]\(((?!https?:|#)[^)#\s]+)", readme)
    assert "docs/architecture.md" in links
    assert "docs/cli.md" in links
    missing = [link for link in links if not (ROOT / link).exists()]
    assert not missing
    # the design lives in the repository, not in a document elsewhere (issue 15)
    assert "ARCHITECTURE.md" not in readme
