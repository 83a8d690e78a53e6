"""web hardening: org units of scan batches and quarantine entries, audited preview views

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07

Scan batches and quarantined files get the org unit that scopes them (R22); existing rows
take their creator's or submitter's unit. ``preview_view`` remembers when a user's preview of a
document was last audited, so previews are audited at most once per user, document and hour.
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

SCOPED = (("scan_batch", "created_by_id"), ("quarantined_file", "submitted_by_id"))


def upgrade() -> None:
    for table, creator in SCOPED:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("org_unit_id", sa.Integer(), nullable=True))
            batch_op.create_index(batch_op.f(f"ix_{table}_org_unit_id"), ["org_unit_id"])
            batch_op.create_foreign_key(
                batch_op.f(f"fk_{table}_org_unit_id_org_unit"), "org_unit", ["org_unit_id"], ["id"]
            )
        rows = sa.table(table, sa.column("org_unit_id"), sa.column(creator))
        users = sa.table("user_account", sa.column("id"), sa.column("org_unit_id"))
        unit = sa.select(users.c.org_unit_id).where(users.c.id == rows.c[creator]).scalar_subquery()
        op.execute(sa.update(rows).values(org_unit_id=unit))
    op.create_table(
        "preview_view",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("hour", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["document.id"],
            name=op.f("fk_preview_view_document_id_document"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_preview_view_user_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", "document_id", name=op.f("pk_preview_view")),
    )


def downgrade() -> None:
    op.drop_table("preview_view")
    for table, _creator in reversed(SCOPED):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(batch_op.f(f"fk_{table}_org_unit_id_org_unit"), "foreignkey")
            batch_op.drop_index(batch_op.f(f"ix_{table}_org_unit_id"))
            batch_op.drop_column("org_unit_id")
