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
    # Plain ADD COLUMN, no batch: on SQLite a batch rebuilds ``document``, and dropping the old
    # table fails its foreign keys once versions, fields and other rows point at documents (an
    # upgrade of a real installation; tests/deploy/test_upgrade.py).
    fk = "fk_document_assignee_id_user_account"
    if op.get_bind().dialect.name == "sqlite":
        # Alembic would ALTER the constraint separately, which SQLite cannot; its own ADD
        # COLUMN takes a named REFERENCES clause (the column is NULL, so no row is checked).
        op.execute(
            f"ALTER TABLE document ADD COLUMN assignee_id INTEGER "
            f"CONSTRAINT {fk} REFERENCES user_account (id)"
        )
    else:
        op.add_column(
            "document",
            sa.Column(
                "assignee_id",
                sa.Integer(),
                sa.ForeignKey("user_account.id", name=fk),
                nullable=True,
            ),
        )
    op.add_column("document", sa.Column("assigned_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index(op.f("ix_document_assignee_id"), "document", ["assignee_id"])


def downgrade() -> None:
    with op.batch_alter_table("document", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_document_assignee_id"))
        batch_op.drop_constraint(
            batch_op.f("fk_document_assignee_id_user_account"), type_="foreignkey"
        )
        batch_op.drop_column("assigned_at")
        batch_op.drop_column("assignee_id")
