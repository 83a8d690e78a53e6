"""mail files: a message document and its attachments (issue 25)

``mail_message`` marks a document that is a mail message (Message-ID, sender, subject, whether
all attachments are in); ``mail_attachment`` links each attachment to the document it became
or to its quarantine entry, with its place in the message and its file name there.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "mail_message",
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.String(length=500), nullable=False),
        sa.Column("subject", sa.String(length=500), nullable=False),
        sa.Column("sender", sa.String(length=500), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attachment_count", sa.Integer(), nullable=False),
        sa.Column("complete", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"], ["document.id"], name=op.f("fk_mail_message_document_id_document")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_mail_message_tenant_id_tenant")
        ),
        sa.PrimaryKeyConstraint("document_id", name=op.f("pk_mail_message")),
    )
    op.create_index(
        "ix_mail_message_tenant_message_id", "mail_message", ["tenant_id", "message_id"]
    )
    op.create_table(
        "mail_attachment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("message_document_id", sa.Integer(), nullable=False),
        sa.Column("part_index", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=300), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=True),
        sa.Column("quarantined_file_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["message_document_id"],
            ["document.id"],
            name=op.f("fk_mail_attachment_message_document_id_document"),
        ),
        sa.ForeignKeyConstraint(
            ["document_id"], ["document.id"], name=op.f("fk_mail_attachment_document_id_document")
        ),
        sa.ForeignKeyConstraint(
            ["quarantined_file_id"],
            ["quarantined_file.id"],
            name=op.f("fk_mail_attachment_quarantined_file_id_quarantined_file"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mail_attachment")),
        sa.UniqueConstraint(
            "message_document_id",
            "part_index",
            name=op.f("uq_mail_attachment_message_document_id"),
        ),
    )
    for column in ("message_document_id", "document_id", "quarantined_file_id"):
        op.create_index(
            op.f(f"ix_mail_attachment_{column}"), "mail_attachment", [column], unique=False
        )


def downgrade() -> None:
    op.drop_table("mail_attachment")
    op.drop_index("ix_mail_message_tenant_message_id", table_name="mail_message")
    op.drop_table("mail_message")
