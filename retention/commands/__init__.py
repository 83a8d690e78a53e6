"""``eakte retention ...`` and ``eakte hold ...`` (issue 6): schedules, the disposal list,
four-eyes disposal, xdomea transfer to the archive, legal holds.

One module per area (schedules, disposal, archive, holds). Adapters only: each command resolves
the acting user and calls a ``retention`` service; typed errors propagate to the edge
(``eakte.cli``). Records officers act with ``--user NAME``.
"""

from __future__ import annotations

import click

# The areas' modules add their commands to the groups when imported.
from retention.commands import archive, disposal, holds, schedules  # noqa: F401
from retention.commands.common import retention_group
from retention.commands.holds import hold_group
from retention.commands.xdomea4 import xdomea_group

COMMANDS: list[click.Command] = [retention_group, hold_group, xdomea_group]
