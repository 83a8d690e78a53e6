"""object lock: compliance floor and lock bookkeeping

``stored_object.retain_until``: the COMPLIANCE retain-until eAkte last set on the version (at
storing, by the lock sync or by the nightly floor extension). The nightly job selects the
versions whose floor comes near through its index instead of asking S3 about every version.
NULL (versions stored before this revision) means "not known": the first nightly run sets it.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("stored_object", schema=None) as batch_op:
        batch_op.add_column(sa.Column("retain_until", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f("ix_stored_object_retain_until"), ["retain_until"])


def downgrade() -> None:
    with op.batch_alter_table("stored_object", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_stored_object_retain_until"))
        batch_op.drop_column("retain_until")
