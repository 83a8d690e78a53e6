"""retention: holds, disposal, certificates, transfers

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def _created():
    return [
        sa.Column("uuid", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    ]


def upgrade() -> None:
    with op.batch_alter_table("case_record", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "object_lock_pending", sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )
        batch_op.create_index(
            batch_op.f("ix_case_record_object_lock_pending"), ["object_lock_pending"]
        )
        batch_op.create_index(
            "ix_case_record_due", ["tenant_id", "disposal_state", "status", "retention_end"]
        )

    op.create_table(
        "legal_hold",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("target_type", sa.String(length=16), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("process_id", sa.Integer(), nullable=True),
        sa.Column("node_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("authority", sa.String(length=300), nullable=False),
        sa.Column("placed_by_id", sa.Integer(), nullable=False),
        sa.Column("placed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("released_by_id", sa.Integer(), nullable=True),
        sa.Column("released_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("release_reason", sa.Text(), nullable=False),
        sa.Column("s3_pending", sa.Boolean(), nullable=False),
        *_created(),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_legal_hold_tenant_id_tenant")
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["case_record.id"], name=op.f("fk_legal_hold_case_id_case_record")
        ),
        sa.ForeignKeyConstraint(
            ["process_id"], ["process.id"], name=op.f("fk_legal_hold_process_id_process")
        ),
        sa.ForeignKeyConstraint(
            ["node_id"], ["file_plan_node.id"], name=op.f("fk_legal_hold_node_id_file_plan_node")
        ),
        sa.ForeignKeyConstraint(
            ["placed_by_id"],
            ["user_account.id"],
            name=op.f("fk_legal_hold_placed_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["released_by_id"],
            ["user_account.id"],
            name=op.f("fk_legal_hold_released_by_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_legal_hold")),
        sa.UniqueConstraint("uuid", name=op.f("uq_legal_hold_uuid")),
    )
    with op.batch_alter_table("legal_hold", schema=None) as batch_op:
        for column in ("tenant_id", "case_id", "process_id", "node_id", "released_at"):
            batch_op.create_index(batch_op.f(f"ix_legal_hold_{column}"), [column])
        batch_op.create_index(batch_op.f("ix_legal_hold_s3_pending"), ["s3_pending"])

    op.create_table(
        "disposal_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("proposed_by_id", sa.Integer(), nullable=False),
        sa.Column("proposed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decision_reason", sa.Text(), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("xdomea_process_id", sa.String(length=36), nullable=False),
        *_created(),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_disposal_request_tenant_id_tenant")
        ),
        sa.ForeignKeyConstraint(
            ["proposed_by_id"],
            ["user_account.id"],
            name=op.f("fk_disposal_request_proposed_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_id"],
            ["user_account.id"],
            name=op.f("fk_disposal_request_decided_by_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_disposal_request")),
        sa.UniqueConstraint("uuid", name=op.f("uq_disposal_request_uuid")),
        sa.UniqueConstraint(
            "xdomea_process_id", name=op.f("uq_disposal_request_xdomea_process_id")
        ),
    )
    with op.batch_alter_table("disposal_request", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_disposal_request_tenant_id"), ["tenant_id"])

    op.create_table(
        "disposal_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("appraisal", sa.String(length=1), nullable=False),
        sa.Column("archive_id", sa.String(length=200), nullable=False),
        sa.Column("progress", sa.Text(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["disposal_request.id"],
            name=op.f("fk_disposal_item_request_id_disposal_request"),
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["case_record.id"], name=op.f("fk_disposal_item_case_id_case_record")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_disposal_item")),
        sa.UniqueConstraint("request_id", "case_id", name=op.f("uq_disposal_item_request_id")),
    )
    with op.batch_alter_table("disposal_item", schema=None) as batch_op:
        for column in ("request_id", "case_id", "state"):
            batch_op.create_index(batch_op.f(f"ix_disposal_item_{column}"), [column])

    op.create_table(
        "destruction_certificate",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("case_uuid", sa.String(length=36), nullable=False),
        sa.Column("file_reference", sa.String(length=120), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("node_code", sa.String(length=64), nullable=False),
        sa.Column("node_title", sa.String(length=300), nullable=False),
        sa.Column("org_unit", sa.String(length=200), nullable=False),
        sa.Column("dates", sa.Text(), nullable=False),
        sa.Column("schedule", sa.Text(), nullable=False),
        sa.Column("proposer", sa.String(length=80), nullable=False),
        sa.Column("approver", sa.String(length=80), nullable=False),
        sa.Column("executed_by", sa.String(length=80), nullable=False),
        sa.Column("destroyed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("method", sa.Text(), nullable=False),
        sa.Column("archive_id", sa.String(length=200), nullable=False),
        sa.Column("manifest", sa.Text(), nullable=False),
        sa.Column("pdf_key", sa.String(length=1024), nullable=False),
        sa.Column("pdf_version_id", sa.String(length=128), nullable=False),
        sa.Column("pdf_sha256", sa.String(length=64), nullable=False),
        *_created(),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_destruction_certificate_tenant_id_tenant")
        ),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["case_record.id"],
            name=op.f("fk_destruction_certificate_case_id_case_record"),
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["disposal_request.id"],
            name=op.f("fk_destruction_certificate_request_id_disposal_request"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_destruction_certificate")),
        sa.UniqueConstraint("case_id", name=op.f("uq_destruction_certificate_case_id")),
        sa.UniqueConstraint("uuid", name=op.f("uq_destruction_certificate_uuid")),
    )
    with op.batch_alter_table("destruction_certificate", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_destruction_certificate_tenant_id"), ["tenant_id"])
        batch_op.create_index(batch_op.f("ix_destruction_certificate_request_id"), ["request_id"])

    op.create_table(
        "transfer_message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("direction", sa.String(length=3), nullable=False),
        sa.Column("message_type", sa.String(length=4), nullable=False),
        sa.Column("file_name", sa.String(length=300), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("object_count", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        *_created(),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_transfer_message_tenant_id_tenant")
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["disposal_request.id"],
            name=op.f("fk_transfer_message_request_id_disposal_request"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name=op.f("fk_transfer_message_user_id_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transfer_message")),
        sa.UniqueConstraint("uuid", name=op.f("uq_transfer_message_uuid")),
    )
    with op.batch_alter_table("transfer_message", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_transfer_message_tenant_id"), ["tenant_id"])
        batch_op.create_index(batch_op.f("ix_transfer_message_request_id"), ["request_id"])


def downgrade() -> None:
    op.drop_table("transfer_message")
    op.drop_table("destruction_certificate")
    op.drop_table("disposal_item")
    op.drop_table("disposal_request")
    op.drop_table("legal_hold")
    with op.batch_alter_table("case_record", schema=None) as batch_op:
        batch_op.drop_index("ix_case_record_due")
        batch_op.drop_index(batch_op.f("ix_case_record_object_lock_pending"))
        batch_op.drop_column("object_lock_pending")
