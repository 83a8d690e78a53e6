"""Operations: ``eakte backup`` and ``eakte restore`` (issue 8)."""

import click

COMMANDS: list[click.Command] = []
