"""xdomea 4.0.0: receiving archives with their xdomea version, the messages exchanged, the
containers taken in from other systems and the cases they became (issue 27)

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "xdomea_archive",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("xdomea_version", sa.String(length=8), nullable=False),
        sa.Column("max_message_bytes", sa.BigInteger(), nullable=False),
        sa.Column("uuid", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_xdomea_archive_tenant_id_tenant")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_xdomea_archive")),
        sa.UniqueConstraint("tenant_id", "name", name=op.f("uq_xdomea_archive_tenant_id")),
        sa.UniqueConstraint("uuid", name=op.f("uq_xdomea_archive_uuid")),
    )
    op.create_index(op.f("ix_xdomea_archive_tenant_id"), "xdomea_archive", ["tenant_id"])
    op.create_table(
        "xdomea_message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uuid", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=True),
        sa.Column("archive_id", sa.Integer(), nullable=True),
        sa.Column("process_id", sa.String(length=36), nullable=False),
        sa.Column("direction", sa.String(length=3), nullable=False),
        sa.Column("message_type", sa.String(length=4), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("origin_uuid", sa.String(length=36), nullable=False),
        sa.Column("file_name", sa.String(length=300), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("objects", sa.Text(), nullable=False),
        sa.Column("receipt_uuid", sa.String(length=36), nullable=False),
        sa.Column("outcome", sa.Text(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_xdomea_message_tenant_id_tenant")
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["disposal_request.id"],
            name=op.f("fk_xdomea_message_request_id_disposal_request"),
        ),
        sa.ForeignKeyConstraint(
            ["archive_id"],
            ["xdomea_archive.id"],
            name=op.f("fk_xdomea_message_archive_id_xdomea_archive"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name=op.f("fk_xdomea_message_user_id_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_xdomea_message")),
        sa.UniqueConstraint("uuid", name=op.f("uq_xdomea_message_uuid")),
    )
    op.create_index(op.f("ix_xdomea_message_tenant_id"), "xdomea_message", ["tenant_id"])
    op.create_index(op.f("ix_xdomea_message_request_id"), "xdomea_message", ["request_id"])
    op.create_index(op.f("ix_xdomea_message_process_id"), "xdomea_message", ["process_id"])
    op.create_table(
        "xdomea_import",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("container_sha256", sa.String(length=64), nullable=False),
        sa.Column("file_name", sa.String(length=300), nullable=False),
        sa.Column("message_uuid", sa.String(length=36), nullable=False),
        sa.Column("process_id", sa.String(length=36), nullable=False),
        sa.Column("message_type", sa.String(length=4), nullable=False),
        sa.Column("node_id", sa.Integer(), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("report", sa.Text(), nullable=False),
        sa.Column("progress", sa.Text(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("uuid", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_xdomea_import_tenant_id_tenant")
        ),
        sa.ForeignKeyConstraint(
            ["node_id"], ["file_plan_node.id"], name=op.f("fk_xdomea_import_node_id_file_plan_node")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name=op.f("fk_xdomea_import_user_id_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_xdomea_import")),
        sa.UniqueConstraint("uuid", name=op.f("uq_xdomea_import_uuid")),
    )
    op.create_index(op.f("ix_xdomea_import_tenant_id"), "xdomea_import", ["tenant_id"])
    op.create_index(
        op.f("ix_xdomea_import_container_sha256"), "xdomea_import", ["container_sha256"]
    )
    op.create_table(
        "xdomea_imported_object",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("import_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("foreign_uuid", sa.String(length=36), nullable=False),
        sa.Column("former_reference", sa.String(length=300), nullable=False),
        sa.Column("history", sa.Text(), nullable=False),
        sa.Column("metadata_json", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["import_id"],
            ["xdomea_import.id"],
            name=op.f("fk_xdomea_imported_object_import_id_xdomea_import"),
        ),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["case_record.id"],
            name=op.f("fk_xdomea_imported_object_case_id_case_record"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_xdomea_imported_object")),
        sa.UniqueConstraint("case_id", name=op.f("uq_xdomea_imported_object_case_id")),
    )
    op.create_index(
        op.f("ix_xdomea_imported_object_import_id"), "xdomea_imported_object", ["import_id"]
    )
    op.create_table(
        "xdomea_node_appraisal",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("node_id", sa.Integer(), nullable=False),
        sa.Column("decision", sa.String(length=1), nullable=False),
        sa.Column("message_uuid", sa.String(length=36), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_xdomea_node_appraisal_tenant_id_tenant")
        ),
        sa.ForeignKeyConstraint(
            ["node_id"],
            ["file_plan_node.id"],
            name=op.f("fk_xdomea_node_appraisal_node_id_file_plan_node"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_xdomea_node_appraisal")),
        sa.UniqueConstraint(
            "tenant_id", "node_id", name=op.f("uq_xdomea_node_appraisal_tenant_id")
        ),
    )
    op.create_index(
        op.f("ix_xdomea_node_appraisal_tenant_id"), "xdomea_node_appraisal", ["tenant_id"]
    )


def downgrade() -> None:
    op.drop_table("xdomea_node_appraisal")
    op.drop_table("xdomea_imported_object")
    op.drop_table("xdomea_import")
    op.drop_table("xdomea_message")
    op.drop_table("xdomea_archive")
