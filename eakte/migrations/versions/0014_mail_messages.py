"""mail files: a message document and its attachments (issue 25)

Reserved slot; filled in by the branch that builds it.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07
"""

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
