"""saved searches per user, shared per org unit (issue 22)

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "saved_search",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("org_unit_id", sa.Integer(), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("query", sa.String(length=2000), nullable=False),
        sa.Column("uuid", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_saved_search_tenant_id_tenant")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name=op.f("fk_saved_search_user_id_user_account")
        ),
        sa.ForeignKeyConstraint(
            ["org_unit_id"], ["org_unit.id"], name=op.f("fk_saved_search_org_unit_id_org_unit")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_saved_search")),
        sa.UniqueConstraint("uuid", name=op.f("uq_saved_search_uuid")),
    )
    with op.batch_alter_table("saved_search", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_saved_search_tenant_id"), ["tenant_id"])
        batch_op.create_index(batch_op.f("ix_saved_search_user_id"), ["user_id"])
        batch_op.create_index(batch_op.f("ix_saved_search_org_unit_id"), ["org_unit_id"])


def downgrade() -> None:
    op.drop_table("saved_search")
