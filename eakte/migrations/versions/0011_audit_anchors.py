"""audit trail anchors outside the database

The bucket holds the anchors (locked objects); this table only lets the anchor job see
whether the chain's head has moved since the last one. Verify never trusts it.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_anchor",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_id", sa.Integer(), nullable=False),
        sa.Column("last_hash", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.String(length=16), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("timestamped", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_anchor")),
        sa.UniqueConstraint("key", name=op.f("uq_audit_anchor_key")),
    )
    op.create_index(op.f("ix_audit_anchor_last_id"), "audit_anchor", ["last_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_audit_anchor_last_id"), table_name="audit_anchor")
    op.drop_table("audit_anchor")
