"""The ``eakte`` command: the composition root and the edge where typed errors become exit codes."""

from __future__ import annotations

import logging
import sys
from typing import Any, Protocol, cast

import click

from eakte.errors import EDGE_ERRORS, ExitCode

log = logging.getLogger("eakte")


class _EdgeError(Protocol):
    exit_code: int  # every class in EDGE_ERRORS carries its exit code


class EdgeGroup(click.Group):
    """Turns typed errors into one line on stderr and their exit code; never a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except EDGE_ERRORS as exc:
            click.echo(f"eakte: error: {exc}", err=True)
            ctx.exit(cast(_EdgeError, exc).exit_code)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except Exception as exc:
            log.debug("unexpected error", exc_info=True)
            click.echo(
                f"eakte: internal error: {type(exc).__name__}: {exc} "
                "(run with EAKTE_LOG_LEVEL=DEBUG for details)",
                err=True,
            )
            ctx.exit(ExitCode.failure)


@click.group(cls=EdgeGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="eakte")
def main() -> None:
    """eAkte – electronic records for municipal administrations.

    Configuration comes from EAKTE_* environment variables (see README.md); with none set,
    everything lives in ~/.local/share/eakte with an embedded S3 server and SQLite.
    """


def _register() -> None:
    # Each area's command module lists its commands; nothing else needs editing to add one.
    from eakte.commands import (
        accounts,
        directory,
        doctor,
        fileplan,
        ingest,
        mail,
        migration,
        ops,
        ozg,
        records,
        scanning,
        search,
        server,
        services,
        signatures,
        suggest,
        verify,
        workflow,
    )
    from retention import commands as retention

    modules = (
        server,
        verify,
        accounts,
        fileplan,
        records,
        ingest,
        mail,
        ozg,
        scanning,
        migration,
        search,
        retention,
        ops,
        signatures,
        directory,
        workflow,
        suggest,
        doctor,
        services,
    )
    for module in modules:
        for command in module.COMMANDS:
            main.add_command(command)


_register()

if __name__ == "__main__":
    sys.exit(main())
