"""documents assigned to a person (Zuweisung, issue 16 and 22)

An inbox document belongs to its org unit's inbox; ``assignee_id`` names the person in that unit
who is to handle it (the desk shows it, bulk actions set it). ``assigned_at`` orders the desk.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("document", schema=None) as batch_op:
        batch_op.add_column(sa.Column("assignee_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("assigned_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_document_assignee_id_user_account"),
            "user_account",
            ["assignee_id"],
            ["id"],
        )
        batch_op.create_index(batch_op.f("ix_document_assignee_id"), ["assignee_id"])


def downgrade() -> None:
    with op.batch_alter_table("document", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_document_assignee_id"))
        batch_op.drop_constraint(
            batch_op.f("fk_document_assignee_id_user_account"), type_="foreignkey"
        )
        batch_op.drop_column("assigned_at")
        batch_op.drop_column("assignee_id")
