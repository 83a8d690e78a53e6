"""What the retention commands share: the ``eakte retention`` group, date and filter options."""

from __future__ import annotations

from datetime import date

import click


def parse_date(ctx, param, value):
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date (YYYY-MM-DD)") from None


@click.group("retention")
def retention_group() -> None:
    """Retention schedules and disposal (Aussonderung).

    A case is due from 1 January after its closure year plus its schedule's period. Due cases
    are listed (`due`), proposed by one records officer (`propose`), approved by another
    (`approve`), then destroyed with a certificate (`execute`) or offered and transferred to
    the archive with xdomea (`export-xdomea`, `receive`). Legal holds (`eakte hold`) stop all
    of it.
    """


def filter_options(fn):
    for option in reversed(
        [
            click.option("--node", help="File-plan code; the nodes beneath count too."),
            click.option("--org-unit", help="Org unit code; the units beneath count too."),
            click.option("--closed-in", type=int, help="Closure year."),
            click.option(
                "--on", "on", callback=parse_date, help="Due on this day (default today)."
            ),
        ]
    ):
        fn = option(fn)
    return fn
