"""Write docs/cli.md, the reference of the ``eakte`` command, from the click commands themselves.

Run ``python scripts/cli_reference.py`` after changing a command, its help or its options;
tests/test_docs.py fails while docs/cli.md differs from what this script writes.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

ROOT = Path(__file__).resolve().parent.parent
TARGET = ROOT / "docs" / "cli.md"
WIDTH = 100  # fixed, so that the output does not depend on the terminal it is made in

HEADER = """\
# The `eakte` command

Every command with its help and options, as `eakte COMMAND --help` prints them. Generated from the
click commands by `python scripts/cli_reference.py` (do not edit by hand; `tests/test_docs.py`
fails while this file is out of date). Exit codes and the common options `--user` and `--tenant`
are described in the [README](../README.md#the-eakte-command). One page for every command (so it
is long), to be searched rather than read through.
"""


def _commands(
    command: click.Command, parent: click.Context | None, name: str
) -> list[tuple[str, click.Context]]:
    settings = {**command.context_settings, "terminal_width": WIDTH, "max_content_width": WIDTH}
    ctx = click.Context(command, parent=parent, info_name=name, **settings)
    found = [(ctx.command_path, ctx)]
    if isinstance(command, click.Group):
        for sub in sorted(command.list_commands(ctx)):
            subcommand = command.get_command(ctx, sub)
            if subcommand is not None and not subcommand.hidden:
                found += _commands(subcommand, ctx, sub)
    return found


def render() -> str:
    # Imported here: building the reference is the only reason this script loads the application.
    from eakte.cli import main

    sections = [HEADER]
    for path, ctx in _commands(main, None, "eakte"):
        sections.append(f"## `{path}`\n\n```text\n{ctx.command.get_help(ctx).rstrip()}\n```\n")
    return "\n".join(sections)


def main() -> None:
    sys.path.insert(0, str(ROOT))
    TARGET.parent.mkdir(exist_ok=True)
    TARGET.write_text(render())
    print(f"wrote {TARGET.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
