"""``eakte import``, ``eakte watch`` and ``eakte recover`` (issue 4)."""

import click

COMMANDS: list[click.Command] = []
