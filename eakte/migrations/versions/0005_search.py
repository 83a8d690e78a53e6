"""search: index bookkeeping

The indexer looks for rows whose ``index_version`` is not the index's schema version (besides
``index_dirty``); without an index that would read the whole document table on every run.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("document", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_document_index_version"), ["index_version"], unique=False
        )
    with op.batch_alter_table("case_record", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_case_record_index_version"), ["index_version"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("case_record", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_record_index_version"))
    with op.batch_alter_table("document", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_document_index_version"))
