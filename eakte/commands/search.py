"""``eakte search`` and ``eakte reindex`` (issue 5)."""

import click

COMMANDS: list[click.Command] = []
