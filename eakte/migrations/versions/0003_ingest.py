"""ingest: quarantine, transfer notes and pipeline state

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "quarantined_file",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=300), nullable=False),
        sa.Column("filename_raw", sa.Text(), nullable=False),
        sa.Column("reason_code", sa.String(length=40), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("detected_mime", sa.String(length=127), nullable=False),
        sa.Column("source", sa.String(length=300), nullable=False),
        sa.Column("source_key", sa.String(length=1024), nullable=True),
        sa.Column("stored_object_id", sa.Integer(), nullable=True),
        sa.Column("s3_key", sa.String(length=1024), nullable=False),
        sa.Column("scan_batch_id", sa.Integer(), nullable=True),
        sa.Column("submitted_by_id", sa.Integer(), nullable=True),
        sa.Column("submitted_by", sa.String(length=200), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("resolved_by_id", sa.Integer(), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolution_note", sa.Text(), nullable=False),
        sa.Column("uuid", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["resolved_by_id"],
            ["user_account.id"],
            name=op.f("fk_quarantined_file_resolved_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["scan_batch_id"],
            ["scan_batch.id"],
            name=op.f("fk_quarantined_file_scan_batch_id_scan_batch"),
        ),
        sa.ForeignKeyConstraint(
            ["stored_object_id"],
            ["stored_object.id"],
            name=op.f("fk_quarantined_file_stored_object_id_stored_object"),
        ),
        sa.ForeignKeyConstraint(
            ["submitted_by_id"],
            ["user_account.id"],
            name=op.f("fk_quarantined_file_submitted_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_quarantined_file_tenant_id_tenant")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quarantined_file")),
        sa.UniqueConstraint("tenant_id", "source_key", name=op.f("uq_quarantined_file_tenant_id")),
        sa.UniqueConstraint("uuid", name=op.f("uq_quarantined_file_uuid")),
    )
    with op.batch_alter_table("quarantined_file", schema=None) as batch_op:
        for column in ("reason_code", "scan_batch_id", "sha256", "state", "tenant_id"):
            batch_op.create_index(
                batch_op.f(f"ix_quarantined_file_{column}"), [column], unique=False
            )

    op.create_table(
        "ingest_task",
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("claimed_by", sa.String(length=200), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"], ["document.id"], name=op.f("fk_ingest_task_document_id_document")
        ),
        sa.PrimaryKeyConstraint("document_id", name=op.f("pk_ingest_task")),
    )

    op.create_table(
        "transfer_note",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("file_version_id", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("received_by_id", sa.Integer(), nullable=True),
        sa.Column("received_by", sa.String(length=200), nullable=False),
        sa.Column("method", sa.String(length=40), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("filename_raw", sa.Text(), nullable=False),
        sa.Column("anomalies", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"], ["document.id"], name=op.f("fk_transfer_note_document_id_document")
        ),
        sa.ForeignKeyConstraint(
            ["file_version_id"],
            ["file_version.id"],
            name=op.f("fk_transfer_note_file_version_id_file_version"),
        ),
        sa.ForeignKeyConstraint(
            ["received_by_id"],
            ["user_account.id"],
            name=op.f("fk_transfer_note_received_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_transfer_note_tenant_id_tenant")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transfer_note")),
        sa.UniqueConstraint("file_version_id", name=op.f("uq_transfer_note_file_version_id")),
    )
    with op.batch_alter_table("transfer_note", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_transfer_note_document_id"), ["document_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_transfer_note_tenant_id"), ["tenant_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("transfer_note", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_transfer_note_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_transfer_note_document_id"))
    op.drop_table("transfer_note")
    op.drop_table("ingest_task")
    with op.batch_alter_table("quarantined_file", schema=None) as batch_op:
        for column in ("reason_code", "scan_batch_id", "sha256", "state", "tenant_id"):
            batch_op.drop_index(batch_op.f(f"ix_quarantined_file_{column}"))
    op.drop_table("quarantined_file")
