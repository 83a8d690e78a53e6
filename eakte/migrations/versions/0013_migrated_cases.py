"""paper archive migration: migrated cases, migration manifests and their approval

``migration_run`` keeps a migration manifest as approved (with its plan-code mapping and scan
profile), who prepared, approved and ran it; ``case_record.migration_run_id`` and
``migration_box`` mark a case brought in from the paper archive and the box or shelf it came
from (issue 21).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "migration_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("org_unit_id", sa.Integer(), nullable=False),
        sa.Column("manifest", sa.Text(), nullable=False),
        sa.Column("plan_map", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("device", sa.String(length=200), nullable=False),
        sa.Column("dpi", sa.Integer(), nullable=True),
        sa.Column("colour_mode", sa.String(length=32), nullable=False),
        sa.Column("case_count", sa.Integer(), nullable=False),
        sa.Column("document_count", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("prepared_by_id", sa.Integer(), nullable=False),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=False),
        sa.Column("run_by_id", sa.Integer(), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("uuid", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_migration_run_tenant_id_tenant")
        ),
        sa.ForeignKeyConstraint(
            ["org_unit_id"], ["org_unit.id"], name=op.f("fk_migration_run_org_unit_id_org_unit")
        ),
        sa.ForeignKeyConstraint(
            ["prepared_by_id"],
            ["user_account.id"],
            name=op.f("fk_migration_run_prepared_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_id"],
            ["user_account.id"],
            name=op.f("fk_migration_run_decided_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["run_by_id"], ["user_account.id"], name=op.f("fk_migration_run_run_by_id_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_migration_run")),
        sa.UniqueConstraint("tenant_id", "name", name=op.f("uq_migration_run_tenant_id")),
        sa.UniqueConstraint("uuid", name=op.f("uq_migration_run_uuid")),
    )
    with op.batch_alter_table("migration_run", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_migration_run_tenant_id"), ["tenant_id"])
        batch_op.create_index(batch_op.f("ix_migration_run_status"), ["status"])
    with op.batch_alter_table("case_record", schema=None) as batch_op:
        batch_op.add_column(sa.Column("migration_run_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("migration_box", sa.String(length=200), nullable=False, server_default="")
        )
        batch_op.create_index(batch_op.f("ix_case_record_migration_run_id"), ["migration_run_id"])
        batch_op.create_foreign_key(
            batch_op.f("fk_case_record_migration_run_id_migration_run"),
            "migration_run",
            ["migration_run_id"],
            ["id"],
        )


def downgrade() -> None:
    with op.batch_alter_table("case_record", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_case_record_migration_run_id_migration_run"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_case_record_migration_run_id"))
        batch_op.drop_column("migration_box")
        batch_op.drop_column("migration_run_id")
    op.drop_table("migration_run")
