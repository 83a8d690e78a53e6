"""records structure: moves of nodes, cases and processes; retention dates kept by records officers

No schema change: moves change existing columns (``file_plan_node.parent_id``,
``case_record.node_id``, ``process.case_id``/``number``) and are audited as ``move``; the
confirmation of a file-plan import is a hash of the file and its planned changes, computed again
when confirmed, so nothing is stored between the two steps. The revision stays so that the
numbering of issue 13's migrations is the same on every branch.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07
"""

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Nothing to change (see the module docstring)."""


def downgrade() -> None:
    """Nothing to undo."""
